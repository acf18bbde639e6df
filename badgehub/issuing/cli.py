"""``badgehub achievements list``, ``issue``, ``credentials list``, ``revoke``, ``status-lists refresh``.

The administration commands of an installation: they act as nobody in particular (the audit trail records no
actor) and with ``--organisation`` they refuse to touch another organisation's achievements or credentials.
With ``--json`` they print one JSON document on standard output and nothing else. Exit codes: 0 done, 1 refused
(the message says why), 2 wrong usage.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from badgehub.achievements.models import Achievement
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import CredentialSource, IssuedCredential, RevocationReason
from badgehub.issuing.status_lists import refresh_status_lists
from badgehub.keys.identity import base_url_of
from badgehub.mail import MailError
from badgehub.mails.awards import deliver_notification, queue_notification
from badgehub.organisations.models import Organisation

log = logging.getLogger(__name__)


def _organisation(slug: str | None) -> Organisation | None:
    if slug is None:
        return None
    organisation: Organisation | None = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise click.ClickException(f"no organisation with slug {slug!r}")
    return organisation


def _fail(error: BadgeHubError) -> click.ClickException:
    return click.ClickException(str(error.message))


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _achievement_view(achievement: Achievement) -> dict[str, Any]:
    version = achievement.current_version
    return {
        "id": achievement.public_id,
        "name": version.name if version is not None else None,
        "organisation": achievement.organisation.slug,
        "organisation_name": achievement.organisation.name,
        "version": version.number if version is not None else None,
        "valid_for_days": version.valid_for_days if version is not None else None,
        "archived": achievement.is_archived,
        "url": f"{base_url_of(current_app.config)}/achievements/{achievement.public_id}",
    }


def _credential_view(credential: IssuedCredential) -> dict[str, Any]:
    config = current_app.config
    return {
        "id": credential.public_id,
        "url": issuing.credential_url(credential, config),
        "json_url": issuing.credential_url(credential, config, ".json"),
        "jwt_url": issuing.credential_url(credential, config, ".jwt"),
        "credential_id": credential.credential_id,
        "achievement": credential.achievement.public_id,
        "achievement_name": credential.achievement_version.name,
        "organisation": credential.organisation.slug,
        "recipient_email": credential.recipient_email,
        "recipient_name": credential.recipient_name,
        "issued_at": _iso(credential.issued_at),
        "valid_until": _iso(credential.valid_until),
        "revoked_at": _iso(credential.revoked_at),
        "source": credential.source.value,
    }


@click.group("achievements")
def achievements_group() -> None:
    """Badge definitions (achievements) of the organisations."""


@achievements_group.command("list")
@click.option("--organisation", "slug", default=None, metavar="SLUG", help="Only this organisation's.")
@click.option("--all", "include_archived", is_flag=True, help="Include archived achievements.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@with_appcontext
def list_achievements_command(slug: str | None, include_archived: bool, as_json: bool) -> None:
    """List achievements: their id (for `badgehub issue`), name and organisation."""
    found = issuing.achievements_catalogue(_organisation(slug), include_archived=include_archived)
    views = [_achievement_view(achievement) for achievement in found]
    if as_json:
        _echo_json(views)
        return
    for view in views:
        archived = " (archived)" if view["archived"] else ""
        click.echo(f"{view['id']}  {view['organisation']:<28} {view['name']}{archived}")


@click.command("issue")
@click.option("--achievement", "achievement_id", required=True, metavar="ID", help="The achievement's public id.")
@click.option("--email", required=True, help="The recipient's e-mail address.")
@click.option("--name", default="", help="The recipient's name (kept by the organisation, not in the badge).")
@click.option("--organisation", "slug", default=None, metavar="SLUG",
              help="Refuse unless the achievement belongs to this organisation.")
@click.option("--evidence-url", default=None, help="A web address showing what was done.")
@click.option("--narrative", default=None, help="What the person did, in words.")
@click.option("--idempotency-key", default=None, help="Issuing again with the same key returns the same credential.")
@click.option("--no-email", is_flag=True, help="Do not send the e-mail to the recipient.")
@click.option("--json", "as_json", is_flag=True, help="Print the credential as JSON (id, url, …).")
@with_appcontext
def issue_command(achievement_id: str, email: str, name: str, slug: str | None, evidence_url: str | None,
                  narrative: str | None, idempotency_key: str | None, no_email: bool, as_json: bool) -> None:
    """Award an achievement to one person, and e-mail them the badge."""
    scope = _organisation(slug)
    achievement = db.session.scalar(select(Achievement).where(Achievement.public_id == achievement_id))
    if achievement is None or (scope is not None and achievement.organisation_id != scope.id):
        where = f" in organisation {scope.slug!r}" if scope is not None else ""
        raise click.ClickException(f"no achievement with id {achievement_id!r}{where}")
    try:
        outcome = issuing.issue_or_replay(
            organisation=achievement.organisation, achievement=achievement, recipient_email=email,
            recipient_name=name, actor_id=None, source=CredentialSource.CLI, evidence_url=evidence_url,
            narrative=narrative, idempotency_key=idempotency_key, config=current_app.config)
        # Committed with the credential (the outbox): a crash can neither lose the e-mail nor repeat it, and a
        # replayed key mails nobody a second time.
        message = (None if no_email or outcome.replayed
                   else queue_notification(outcome.credential, current_app.config))
        db.session.commit()
    except BadgeHubError as error:
        db.session.rollback()
        fields = error.details.get("fields") or {}
        detail = "; ".join(f"{field}: {message}" for field, message in fields.items())
        raise click.ClickException(f"{error.message} {detail}".strip()) from None
    credential = outcome.credential
    sent = False
    if message is not None:
        try:
            deliver_notification(message, current_app.config)
            sent = message.sent_at is not None
        except MailError as exc:
            click.echo(f"warning: the credential is issued but the e-mail could not be sent: {exc}", err=True)
    if as_json:
        _echo_json({**_credential_view(credential), "email_sent": sent})
        return
    link = issuing.credential_url(credential, current_app.config)
    click.echo(f"issued {credential.public_id} to {credential.recipient_email}: {link}")


@click.group("credentials")
def credentials_group() -> None:
    """Issued credentials."""


@credentials_group.command("list")
@click.option("--organisation", "slug", default=None, metavar="SLUG", help="Only this organisation's.")
@click.option("--achievement", "achievement_id", default=None, metavar="ID", help="Only this achievement's.")
@click.option("--state", type=click.Choice(issuing.STATES), default=None)
@click.option("--search", default=None, help="Part of the recipient's e-mail or name.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@with_appcontext
def list_credentials_command(slug: str | None, achievement_id: str | None, state: str | None, search: str | None,
                             limit: int, as_json: bool) -> None:
    """List issued credentials, newest first."""
    scope = _organisation(slug)
    organisations = [scope] if scope is not None else list(
        db.session.scalars(select(Organisation).order_by(Organisation.slug)))
    views: list[dict[str, Any]] = []
    for organisation in organisations:
        achievement = None
        if achievement_id is not None:
            achievement = db.session.scalar(select(Achievement).where(
                Achievement.public_id == achievement_id, Achievement.organisation_id == organisation.id))
            if achievement is None:
                continue
        page = issuing.credentials_of(organisation, search=search, state=state, limit=limit,
                                      achievement_id=achievement.id if achievement is not None else None)
        views += [_credential_view(credential) for credential in page.items]
    views.sort(key=lambda view: view["issued_at"] or "", reverse=True)
    views = views[:limit]
    if as_json:
        _echo_json(views)
        return
    for view in views:
        state_text = "revoked" if view["revoked_at"] else ""
        click.echo(f"{view['id']}  {view['issued_at'][:10]}  {view['organisation']:<24} "
                   f"{view['recipient_email']:<32} {view['achievement_name']} {state_text}".rstrip())


@click.command("revoke")
@click.argument("credential_id", metavar="ID")
@click.option("--reason", type=click.Choice([r.value for r in RevocationReason]), required=True,
              help="The public reason, shown on the credential's page.")
@click.option("--note", default="", help="The organisation's own words: kept with the credential, never published.")
@click.option("--organisation", "slug", default=None, metavar="SLUG",
              help="Refuse unless the credential belongs to this organisation.")
@with_appcontext
def revoke_command(credential_id: str, reason: str, note: str, slug: str | None) -> None:
    """Revoke an issued credential for good (its status list bit is set)."""
    scope = _organisation(slug)
    try:
        credential = (issuing.get_credential_for(scope, credential_id) if scope is not None
                      else issuing.get_credential(credential_id))
        issuing.revoke_credential(credential, reason=reason, note=note, actor_id=None, config=current_app.config)
        db.session.commit()
    except BadgeHubError as error:
        db.session.rollback()
        raise _fail(error) from None
    click.echo(f"revoked {credential.public_id}")


@click.group("status-lists")
def status_lists_group() -> None:
    """The signed status lists verifiers fetch."""


@status_lists_group.command("refresh")
@click.option("--organisation", "slug", metavar="SLUG", help="Only this organisation's lists.")
@with_appcontext
def refresh_status_lists_command(slug: str | None) -> None:
    """Sign again the lists that changed, whose key changed, or that are in the second half of their validity
    (safe to run at any time; the background worker runs it every STATUS_LIST_REFRESH_SECONDS)."""
    try:
        result = refresh_status_lists(organisation=_organisation(slug), config=current_app.config)
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{result.signed} signed again, {result.fresh} already fresh, "
               f"{result.unsigned} without an active key")


COMMANDS = [achievements_group, issue_command, credentials_group, revoke_command, status_lists_group]
"""The commands to register on the ``badgehub`` group."""
