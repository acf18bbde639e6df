"""API tokens: create, list, revoke, and authenticate a bearer token.

The rules, written here and nowhere else:

* **Who.** Only owners create and revoke tokens (``organisations.service.STAFF_MANAGERS``); every staff
  member may list them. A token acts for its organisation, whatever becomes of the person who created it.
* **Secret.** ``bh_<8 characters>_<43 characters>`` from :mod:`secrets` (256 bits); only its SHA-256 is stored
  and compared with :func:`hmac.compare_digest`. The token is returned once by :func:`create_token`.
* **Scopes.** :data:`SCOPES`; a token grants only what it lists (:func:`require_scope`). Issuing with a token
  also needs the organisation in good standing (the issuing service checks it).
* **Refusals.** An unknown, malformed, revoked or expired token is refused with its own code (401).
* **Last use.** :func:`authenticate` records the time of use, at most once per :data:`LAST_USED_RESOLUTION`
  so that a busy client does not write a row on every call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from badgehub.audit.service import record
from badgehub.credentials.documents import clean_text
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import STAFF_MANAGERS, require_member
from badgehub.tokens.errors import (
    MissingScope,
    TokenAlreadyRevoked,
    TokenExpired,
    TokenMissing,
    TokenNotFound,
    TokenRefused,
    TokenRevoked,
)
from badgehub.tokens.models import ApiToken

ACHIEVEMENTS_READ: Final = "achievements:read"
CREDENTIALS_READ: Final = "credentials:read"
CREDENTIALS_ISSUE: Final = "credentials:issue"
CREDENTIALS_REVOKE: Final = "credentials:revoke"
ENDORSEMENTS_READ: Final = "endorsements:read"
ENDORSEMENTS_WRITE: Final = "endorsements:write"
REQUESTS_READ: Final = "requests:read"
REQUESTS_DECIDE: Final = "requests:decide"
PATHWAYS_READ: Final = "pathways:read"
PATHWAYS_WRITE: Final = "pathways:write"
SCOPES: Final = (ACHIEVEMENTS_READ, CREDENTIALS_READ, CREDENTIALS_ISSUE, CREDENTIALS_REVOKE, ENDORSEMENTS_READ,
                 ENDORSEMENTS_WRITE, REQUESTS_READ, REQUESTS_DECIDE, PATHWAYS_READ, PATHWAYS_WRITE)
SCOPE_LABELS: Final = {
    ACHIEVEMENTS_READ: _l("Read the organisation's badges"),
    CREDENTIALS_READ: _l("Read and list the badges awarded (with the recipients' e-mail addresses)"),
    CREDENTIALS_ISSUE: _l("Award badges"),
    CREDENTIALS_REVOKE: _l("Revoke awarded badges"),
    ENDORSEMENTS_READ: _l("Read the endorsements the organisation gave and received"),
    ENDORSEMENTS_WRITE: _l("Endorse, withdraw endorsements and choose which are shown"),
    REQUESTS_READ: _l("Read the recognition requests made to the organisation (with the learners' evidence)"),
    REQUESTS_DECIDE: _l("Accept recognition requests (awarding the badge), ask for more or decline them"),
    PATHWAYS_READ: _l("Read the organisation's pathways"),
    PATHWAYS_WRITE: _l("Define, publish and archive the organisation's pathways"),
}
TOKEN_PREFIX: Final = "bh_"  # noqa: S105 (a visible marker, not a secret)
PREFIX_CHARS: Final = 8
SECRET_BYTES: Final = 32
MAX_NAME: Final = 100
MAX_LIFETIME: Final = dt.timedelta(days=3660)
LAST_USED_RESOLUTION: Final = dt.timedelta(minutes=1)
_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"
# bh_ + 8 identifier characters + _ + the secret (token_urlsafe: letters, digits, - and _).
TOKEN_RE: Final = re.compile(r"(bh_[a-z2-7]{8})_[A-Za-z0-9_-]{20,100}")
_ATTEMPTS: Final = 5


def hash_token(token: str) -> str:
    """The SHA-256 (hex) of a whole token, the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = TOKEN_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_CHARS))
    return prefix, f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def _clean_scopes(scopes: Iterable[str], errors: dict[str, Any]) -> list[str]:
    chosen: list[str] = [scope for scope in SCOPES if scope in set(scopes)]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not chosen:
        errors["scopes"] = _l("Choose at least one of the permissions offered.")
    return chosen


def create_token(organisation: Organisation, actor: Any, *, name: str, scopes: Sequence[str],
                 expires_at: dt.datetime | None = None, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token of ``organisation`` and return ``(row, token)``: the token is never available again.

    Raises NotFound / Forbidden when ``actor`` is not an owner, :class:`~badgehub.errors.ValidationError` with
    ``details["fields"]`` for an empty or long name, no or unknown scopes, an end of validity not in the future
    (or more than ten years ahead). Flushes and records ``api_token.created``.
    """
    member = require_member(organisation, actor, *STAFF_MANAGERS)
    moment = now or utcnow()
    errors: dict[str, Any] = {}
    clean_name = " ".join(clean_text(name or "").split())
    if not clean_name or len(clean_name) > MAX_NAME:
        errors["name"] = _l("Give a name of 1 to %(max)s characters, to recognise the token later.", max=MAX_NAME)
    chosen = _clean_scopes(scopes, errors)
    if expires_at is not None and (expires_at.tzinfo is None or not moment < expires_at <= moment + MAX_LIFETIME):
        errors["expires_at"] = _l("Give a date in the future, within ten years.")
    if errors:
        raise ValidationError(details={"fields": errors})
    for _ in range(_ATTEMPTS):
        prefix, token = _new_token()
        row = ApiToken(organisation_id=organisation.id, name=clean_name, prefix=prefix, secret_hash=hash_token(token),
                       scopes=chosen, created_by_id=member.user_id, created_at=moment, expires_at=expires_at)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # pragma: no cover - two equal random prefixes (1 in 10^12)
            continue
        record("api_token.created", actor_id=member.user_id, organisation_id=organisation.id,
               subject_type="api_token", subject_id=row.id,
               details={"prefix": prefix, "scopes": chosen,
                        "expires_at": expires_at.isoformat() if expires_at else None})
        db.session.flush()
        return row, token
    raise RuntimeError("could not draw an unused token prefix")  # pragma: no cover


def tokens_of(organisation: Organisation) -> list[ApiToken]:
    """The organisation's tokens, the newest first (revoked ones too: they stay as a record)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.organisation_id == organisation.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def get_token_for(organisation: Organisation, token_id: int) -> ApiToken:
    """The organisation's token ``token_id``; another organisation's is :class:`TokenNotFound` too."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organisation_id != organisation.id:
        raise TokenNotFound()
    return token


def revoke_token(organisation: Organisation, actor: Any, token_id: int, *,
                 now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token for good: every later call with it is refused. Allowed while the organisation is
    suspended. Raises NotFound / Forbidden when ``actor`` is not an owner, :class:`TokenNotFound`,
    :class:`TokenAlreadyRevoked`. Flushes and records ``api_token.revoked``."""
    member = require_member(organisation, actor, *STAFF_MANAGERS)
    token = get_token_for(organisation, token_id)
    if token.revoked_at is not None:
        raise TokenAlreadyRevoked()
    token.revoked_at = now or utcnow()
    token.revoked_by_id = member.user_id
    record("api_token.revoked", actor_id=member.user_id, organisation_id=organisation.id,
           subject_type="api_token", subject_id=token.id, details={"prefix": token.prefix})
    db.session.flush()
    return token


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value. Raises :class:`TokenMissing` when there
    is none and :class:`TokenRefused` when the header is not a bearer token."""
    value = (authorization or "").strip()
    if not value:
        raise TokenMissing()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused(_l("Send the API token in the header Authorization: Bearer <token>."))
    return token.strip()


def authenticate(token: str, *, now: dt.datetime | None = None) -> ApiToken:
    """The live token row of ``token``, its last use recorded (at most once a minute; the row is then dirty and
    the caller commits). Raises :class:`TokenRefused` for a malformed or unknown token, :class:`TokenRevoked`,
    :class:`TokenExpired`."""
    moment = now or utcnow()
    match = TOKEN_RE.fullmatch(token or "")
    row = None
    if match is not None:
        row = db.session.scalar(select(ApiToken).where(ApiToken.prefix == match.group(1)))
    # Compare a hash even when no row matched, so that timing says nothing about which prefixes exist.
    expected = row.secret_hash if row is not None else hash_token("")
    if not hmac.compare_digest(expected, hash_token(token or "")) or row is None:
        raise TokenRefused()
    if row.revoked_at is not None:
        raise TokenRevoked()
    if row.is_expired(moment):
        raise TokenExpired()
    if row.last_used_at is None or moment - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = moment
    return row


def require_scope(token: ApiToken, scope: str) -> None:
    """Raise :class:`MissingScope` (403) unless ``token`` grants ``scope``."""
    if scope not in (token.scopes or []):
        raise MissingScope(details={"required_scope": scope, "token_scopes": list(token.scopes or [])})
