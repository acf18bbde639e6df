"""``badgehub create-organisation``: an organisation, its owner and its place in a territory, from the command
line, so that a new installation can be bootstrapped before mail or anybody's account works."""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext

from badgehub.organisations.models import OrganisationType, Sector


@dataclass(frozen=True)
class Operator:
    """Whoever runs the command line: the installation's operator, with a platform admin's authority. Recorded
    in the audit trail as no actor (``None``), like every command-line decision."""

    id: None = None
    is_authenticated: bool = True
    is_admin: bool = True


@click.command("create-organisation")
@click.option("--territory", "territory_slug", required=True, metavar="SLUG", help="The territory it joins.")
@click.option("--name", required=True)
@click.option("--owner", "owner_email", required=True, metavar="EMAIL",
              help="Its first owner; the account is created (verified) when it does not exist.")
@click.option("--type", "kind", default=OrganisationType.OTHER.value, show_default=True,
              type=click.Choice([item.value for item in OrganisationType]))
@click.option("--sector", default=Sector.COMMUNITY.value, show_default=True,
              type=click.Choice([item.value for item in Sector]))
@click.option("--slug", default=None, help="Its address /o/<slug> (default: from the name).")
@click.option("--approve", is_flag=True, help="Approve its membership of the territory at once.")
@with_appcontext
def create_organisation_command(territory_slug: str, name: str, owner_email: str, kind: str, sector: str,
                                slug: str | None, approve: bool) -> None:
    """Create an organisation with its owner, and ask (or, with --approve, grant) membership of a territory."""
    from badgehub.accounts.cli import echo_link, mail_configured, sign_in_link
    from badgehub.accounts.service import create_user, get_user_by_email, normalise_email
    from badgehub.errors import BadgeHubError
    from badgehub.extensions import db
    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.territory.service import Decision, decide_membership, get_territory_by_slug, request_membership

    try:
        territory = get_territory_by_slug(territory_slug)
        owner = get_user_by_email(normalise_email(owner_email))
        new_owner = owner is None
        if owner is None:
            owner = create_user(owner_email, verified=True)
        organisation = create_organisation(owner, ProfileFields(name=name, type=kind, sector=sector), slug=slug,
                                           config=current_app.config)
        membership = request_membership(organisation, territory, owner)
        if approve:
            decide_membership(membership, Decision.APPROVE, Operator())
        link = sign_in_link(owner) if new_owner and not mail_configured() else None
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(_words(exc)) from exc
    state = "approved member" if approve else "membership pending (a coordinator decides)"
    click.echo(f"organisation {organisation.slug} created, owner {owner.email}; {territory.slug}: {state}")
    if link is not None:
        echo_link(owner.email, link)


def _words(error: object) -> str:
    """The message of a BadgeHubError, with the field problems it carries."""
    message = str(getattr(error, "message", error))
    fields = getattr(error, "details", {}).get("fields") or {}
    if fields:
        message += " " + "; ".join(f"{name}: {text}" for name, text in fields.items())
    return message
