"""The learner's connected applications: which platforms hold a live grant to their wallet, and disconnecting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from badgehub.accounts.models import User
from badgehub.audit.service import record
from badgehub.errors import NotFound
from badgehub.extensions import db
from badgehub.oauth.models import OAuthClient, OAuthToken


@dataclass(frozen=True)
class ConnectedApplication:
    """One application with a live grant: its name, address, the scopes granted, since when."""

    client_id: str
    name: str
    uri: str | None
    scopes: tuple[str, ...]
    since: dt.datetime


def _live(user: User, now: dt.datetime) -> list[OAuthToken]:
    return list(db.session.scalars(
        select(OAuthToken).join(OAuthClient).where(
            OAuthToken.user_id == user.id, OAuthToken.revoked_at.is_(None),
            or_(OAuthToken.expires_at > now, OAuthToken.refresh_expires_at > now))
        .order_by(OAuthToken.issued_at)))


def connected_applications(user: User, *, now: dt.datetime | None = None) -> list[ConnectedApplication]:
    """The applications that can reach ``user``'s wallet now (a live access or refresh token), by name."""
    moment = now or dt.datetime.now(dt.UTC)
    found: dict[int, ConnectedApplication] = {}
    for token in _live(user, moment):
        previous = found.get(token.client_id)
        scopes = set(token.scope.split()) | set(previous.scopes if previous else ())
        found[token.client_id] = ConnectedApplication(
            token.client.client_id, token.client.name, token.client.uri, tuple(sorted(scopes)),
            previous.since if previous else token.issued_at)
    return sorted(found.values(), key=lambda application: application.name.casefold())


def disconnect(user: User, client_id: str, *, now: dt.datetime | None = None) -> None:
    """Revoke every token ``user`` gave the application ``client_id``; raises NotFound when it has none."""
    moment = now or dt.datetime.now(dt.UTC)
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise NotFound()
    revoked = db.session.execute(
        update(OAuthToken).where(OAuthToken.user_id == user.id, OAuthToken.client_id == client.id,
                                 OAuthToken.revoked_at.is_(None))
        .values(revoked_at=moment).execution_options(synchronize_session=False))
    if revoked.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound()
    record("oauth.application_disconnected", actor_id=user.id, subject_type="oauth_client", subject_id=client.id)


def record_consent(user: User, client: OAuthClient, scope: str, *, allowed: bool) -> None:
    """Write the learner's answer on the consent page to the audit trail (flushed with the code)."""
    record("oauth.application_allowed" if allowed else "oauth.application_denied", actor_id=user.id,
           subject_type="oauth_client", subject_id=client.id, details={"scope": scope})
