"""The learner's wallet: which credentials are theirs, their status, share links, imports, holder DID, export.

**The matching rule** (written here and in the README, applied nowhere else): a credential issued on this
platform is in a learner's wallet when its ``recipient_email_key`` is one of the learner's *verified keys*:

* the account's own address, once the account is verified, and
* every extra address (:class:`~badgehub.wallet.models.WalletEmail`) the learner proved by following the
  link e-mailed to it while signed in to this account.

Keys come from :func:`badgehub.accounts.service.email_key` (surrounding spaces removed, the whole address
lower-cased) — the same function that made ``recipient_email_key`` when the credential was issued. So
``Ana@X.org`` and ``ana@x.org`` are one address, while ``ana+club@x.org`` and ``ana@x.org`` are **two**
addresses: we do not guess provider-specific aliasing (plus tags, dots in Gmail…); a learner who receives
badges at a tagged address adds it as an extra address. An address verified by one account can be claimed
by no other (unique ``verified_key``), nor can another account's own address.

**Status** shown for every credential, ours or imported, comes from the verification pipeline over the stored
document, never from database flags: for ours, :func:`badgehub.issuing.live.verify_issued` (the one answer of
the platform, never stale); for imported ones, :func:`imported_report`, cached briefly per app
(``WALLET_STATUS_CACHE_SECONDS``).

Services take the session, flush and never commit; they never send mail (the caller does, after commit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import secrets
import threading
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cachetools import TTLCache
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from badgehub.accounts.errors import InvalidName
from badgehub.accounts.models import EmailToken, User
from badgehub.accounts.service import email_key, normalise_email, normalise_name
from badgehub.audit.service import record
from badgehub.credentials.did import ed25519_from_did_key, is_did
from badgehub.credentials.errors import CredentialError
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import ERASED_RECIPIENT_PREFIX, IssuedCredential
from badgehub.issuing.service import erased_idempotency_key
from badgehub.organisations.models import Invitation, OrganisationMember
from badgehub.verification.fetch import SafeFetchError
from badgehub.verification.platform import (
    AppLike,
    SubmissionRefused,
    as_url,
    max_submission_bytes,
    platform_fetcher,
    verify_submission,
)
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.wallet.errors import (
    AddressAlreadyAdded,
    AddressIsYours,
    AddressTaken,
    AlreadyImported,
    InvalidAddressLink,
    InvalidHolderDid,
    InvalidShare,
    ShareGone,
    ShareNotFound,
    TooManyAddresses,
    TooManyImports,
    WalletItemNotFound,
)
from badgehub.wallet.models import ImportedCredential, WalletEmail, WalletProfile, WalletShare, WalletShareItem

MAX_ADDRESSES: Final = 10
MAX_IMPORTS: Final = 200
MAX_SHARES: Final = 100
MAX_SHARE_ITEMS: Final = 100
MAX_DID: Final = 500
ADDRESS_LINK_LIFETIME: Final = dt.timedelta(hours=48)
SHARE_TOKEN_BYTES: Final = 18  # 144 bits, 24 url-safe characters
DEFAULT_STATUS_CACHE_SECONDS: Final = 60
STATUS_CACHE_EXTENSION: Final = "badgehub.wallet.status_cache"
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
# The pipeline's reasons for refusing an address (as opposed to failing to reach it).
_REFUSALS: Final = frozenset({"address_not_allowed", "scheme_not_allowed", "port_not_allowed", "invalid_url"})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------ addresses


def verified_keys(user: User) -> set[str]:
    """The e-mail keys whose credentials are ``user``'s (see the module docstring for the rule)."""
    keys = {user.email_key} if user.verified_at is not None else set()
    keys.update(db.session.scalars(select(WalletEmail.verified_key).where(
        WalletEmail.user_id == user.id, WalletEmail.verified_key.is_not(None))))
    return {key for key in keys if key}


def addresses_of(user: User) -> list[WalletEmail]:
    """The extra addresses of ``user``, in the order they were added."""
    return list(db.session.scalars(select(WalletEmail).where(WalletEmail.user_id == user.id)
                                   .order_by(WalletEmail.created_at, WalletEmail.id)))


@dataclass(frozen=True)
class AddressLink:
    """An address just added (or asked again): the secret of its confirmation link goes into the e-mail only."""

    address: WalletEmail
    token: str


def add_address(user: User, email: str, *, now: dt.datetime | None = None) -> AddressLink:
    """Add ``email`` to ``user``'s wallet, unconfirmed, and return the confirmation link's secret.

    Asking again for an unconfirmed address makes a new link. Whether another account holds the address is
    not said here (that would tell anyone who has an account); it is refused on confirmation. Raises
    InvalidEmail, AddressIsYours, AddressAlreadyAdded (already confirmed) or TooManyAddresses.
    """
    moment = now or utcnow()
    address = normalise_email(email)
    key = email_key(address)
    if key == user.email_key:
        raise AddressIsYours()
    row = db.session.scalar(select(WalletEmail).where(WalletEmail.user_id == user.id, WalletEmail.email_key == key))
    if row is not None and row.is_verified:
        raise AddressAlreadyAdded()
    if row is None:
        count = db.session.scalar(select(func.count()).select_from(WalletEmail)
                                  .where(WalletEmail.user_id == user.id)) or 0
        if count >= MAX_ADDRESSES:
            raise TooManyAddresses()
        row = WalletEmail(user_id=user.id, email=address, email_key=key, created_at=moment)
        db.session.add(row)
    token = secrets.token_urlsafe(32)
    row.email = address
    row.token_hash = _digest(token)
    row.token_expires_at = moment + ADDRESS_LINK_LIFETIME
    db.session.flush()
    return AddressLink(row, token)


def _address_by_link(user: User, token: str, moment: dt.datetime) -> WalletEmail:
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise InvalidAddressLink()
    row = db.session.scalar(select(WalletEmail).where(WalletEmail.token_hash == _digest(token)))
    # A link only works for the account that asked for it: someone who slipped their own address request into
    # a victim's mailbox cannot get the victim's badges by having them click it while signed in as themselves.
    if row is None or row.user_id != user.id or row.token_expires_at is None or row.token_expires_at <= moment:
        raise InvalidAddressLink()
    return row


def check_address_link(user: User, token: str, *, now: dt.datetime | None = None) -> WalletEmail:
    """The address a confirmation link is for, without using it (the page that asks to confirm).

    Raises InvalidAddressLink (unknown, used, expired, or another account's)."""
    return _address_by_link(user, token, now or utcnow())


def confirm_address(user: User, token: str, *, now: dt.datetime | None = None) -> WalletEmail:
    """Use a confirmation link: the address becomes ``user``'s, and the credentials issued to it join the wallet.

    Raises InvalidAddressLink, or AddressTaken when another account's own address is this one or another
    account confirmed it first (also when it wins a race, through the unique ``verified_key``).
    """
    moment = now or utcnow()
    row = _address_by_link(user, token, moment)
    other_account = db.session.scalar(select(User.id).where(User.email_key == row.email_key, User.id != user.id))
    other_wallet = db.session.scalar(select(WalletEmail.id).where(WalletEmail.verified_key == row.email_key,
                                                                  WalletEmail.id != row.id))
    if other_account is not None or other_wallet is not None:
        raise AddressTaken()
    try:
        with db.session.begin_nested():
            row.verified_key = row.email_key
            row.verified_at = moment
            row.token_hash = None
            row.token_expires_at = None
            db.session.flush()
    except IntegrityError as exc:
        raise AddressTaken() from exc
    record("wallet.address_verified", actor_id=user.id, subject_type="wallet_email", subject_id=row.id)
    db.session.flush()
    return row


def remove_address(user: User, address_id: int) -> None:
    """Remove one of ``user``'s extra addresses: its credentials leave the wallet (and its share pages).
    Raises WalletItemNotFound for another account's or an unknown address."""
    row = db.session.get(WalletEmail, address_id)
    if row is None or row.user_id != user.id:
        raise WalletItemNotFound()
    db.session.delete(row)
    record("wallet.address_removed", actor_id=user.id, subject_type="wallet_email", subject_id=address_id)
    db.session.flush()


# ----------------------------------------------------------------------------------------------- holder DID


def holder_did_of(user: User) -> str | None:
    """The did:key ``user`` asked to be named by in credentials issued to them from now on, if any."""
    profile = db.session.get(WalletProfile, user.id)
    return profile.holder_did if profile is not None else None


def set_holder_did(user: User, did: str | None, *, now: dt.datetime | None = None) -> str | None:
    """Set (or, with an empty value, remove) ``user``'s holder DID; returns it. Only a ``did:key`` of an
    Ed25519 key is accepted: it is the kind of DID a learner's own wallet app makes. Raises InvalidHolderDid."""
    value = (did or "").strip() or None
    if value is not None:
        if len(value) > MAX_DID or not is_did(value) or not value.startswith("did:key:"):
            raise InvalidHolderDid()
        try:
            ed25519_from_did_key(value)
        except CredentialError as exc:
            raise InvalidHolderDid() from exc
    profile = db.session.get(WalletProfile, user.id)
    if profile is None:
        profile = WalletProfile(user_id=user.id)
        db.session.add(profile)
    profile.holder_did = value
    profile.did_added_at = (now or utcnow()) if value is not None else None
    record("wallet.holder_did_changed", actor_id=user.id, subject_type="user", subject_id=user.id,
           details={"set": value is not None})
    db.session.flush()
    return value


def holder_did_for_address(recipient_email: str) -> str | None:
    """The holder DID of the account that owns ``recipient_email`` as a *verified* address, if it set one.

    Called by :func:`badgehub.issuing.service.issue_credential` when no DID was given, so that credentials
    issued to a learner after they added a DID carry it as ``credentialSubject.id``.
    """
    key = email_key(recipient_email or "")
    if not key:
        return None
    owner_id = db.session.scalar(select(User.id).where(User.email_key == key, User.verified_at.is_not(None)))
    if owner_id is None:
        extra = extra_address_owner(key)
        owner_id = extra[0].id if extra is not None else None
    if owner_id is None:
        return None
    return db.session.scalar(select(WalletProfile.holder_did).where(WalletProfile.user_id == owner_id))


def extra_address_owner(address: str) -> tuple[User, str] | None:
    """The account that verified ``address`` as one of its extra addresses, with the address as it was added
    (the matching rule is :func:`~badgehub.accounts.service.email_key`'s), or None."""
    found = db.session.execute(select(User, WalletEmail.email).join(WalletEmail, WalletEmail.user_id == User.id)
                               .where(WalletEmail.verified_key == email_key(address or ""))).first()
    return (found[0], found[1]) if found is not None else None


# ---------------------------------------------------------------------------------------- credentials held


def wallet_credentials(user: User) -> list[IssuedCredential]:
    """The credentials issued on this platform to one of ``user``'s verified addresses, newest first."""
    keys = verified_keys(user)
    if not keys:
        return []
    return list(db.session.scalars(
        select(IssuedCredential).where(IssuedCredential.recipient_email_key.in_(keys))
        .options(selectinload(IssuedCredential.achievement_version), selectinload(IssuedCredential.organisation),
                 selectinload(IssuedCredential.status_list))
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())))


def get_wallet_credential(user: User, public_id: str) -> IssuedCredential:
    """One of ``user``'s credentials by public id; raises WalletItemNotFound for anyone else's."""
    credential = db.session.scalar(select(IssuedCredential).where(IssuedCredential.public_id == public_id))
    if credential is None or credential.recipient_email_key not in verified_keys(user):
        raise WalletItemNotFound()
    return credential


def imported_of(user: User) -> list[ImportedCredential]:
    """``user``'s imported badges, newest first."""
    return list(db.session.scalars(select(ImportedCredential).where(ImportedCredential.user_id == user.id)
                                   .order_by(ImportedCredential.imported_at.desc(), ImportedCredential.id.desc())))


def get_imported(user: User, imported_id: int) -> ImportedCredential:
    """One of ``user``'s imported badges; raises WalletItemNotFound for anyone else's."""
    row = db.session.get(ImportedCredential, imported_id)
    if row is None or row.user_id != user.id:
        raise WalletItemNotFound()
    return row


# ------------------------------------------------------------------------------------------- live status


class _StatusCache:
    """A small per-app TTL cache of verification reports (thread-safe)."""

    def __init__(self, ttl: float) -> None:
        self._cache: TTLCache[tuple[Any, ...], VerificationReport | SubmissionRefused] = TTLCache(
            maxsize=2048, ttl=ttl)
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> VerificationReport | SubmissionRefused | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: tuple[Any, ...], value: VerificationReport | SubmissionRefused) -> None:
        with self._lock:
            self._cache[key] = value


def _status_cache(app: AppLike) -> _StatusCache:
    cache = app.extensions.get(STATUS_CACHE_EXTENSION)
    if not isinstance(cache, _StatusCache):
        ttl = float(app.config.get("WALLET_STATUS_CACHE_SECONDS") or DEFAULT_STATUS_CACHE_SECONDS)
        cache = app.extensions.setdefault(STATUS_CACHE_EXTENSION, _StatusCache(max(ttl, 0.001)))
    assert isinstance(cache, _StatusCache)
    return cache


def imported_report(app: AppLike, imported: ImportedCredential, *, now: dt.datetime | None = None
                    ) -> VerificationReport | None:
    """The pipeline's report on an imported badge, recomputed from its raw bytes (cached briefly, per process:
    a badge from elsewhere has no change we could hear of). Returns None when the badge can no longer be read at
    all (say, a baked image pointing to a page now gone). Never writes: the row keeps the verdict of its
    import."""
    moment = now or utcnow()
    key = ("imported", imported.sha256)
    cache = _status_cache(app)
    cached = cache.get(key)
    if cached is not None:
        return cached if isinstance(cached, VerificationReport) else None
    try:
        report: VerificationReport | SubmissionRefused = verify_submission(app, imported.raw, kind="file",
                                                                           now=moment)
    except SubmissionRefused as refused:
        report = refused
    cache.put(key, report)
    return report if isinstance(report, VerificationReport) else None


# ----------------------------------------------------------------------------------------------- imports


def _fetch_import(app: AppLike, url: str) -> bytes:
    """The bytes at ``url``, through the platform's safe fetcher; raises SubmissionRefused like /verify."""
    fetcher = platform_fetcher(app)
    try:
        fetcher.check_url(url)
    except SafeFetchError as exc:
        raise SubmissionRefused("url_refused", reason=exc.reason) from None
    try:
        body = fetcher.fetch(url)
    except SafeFetchError as exc:
        if exc.reason in _REFUSALS:
            raise SubmissionRefused("url_refused", reason=exc.reason) from None
        raise SubmissionRefused("url_unreachable", reason=exc.reason, http_status=exc.status) from None
    if not body.strip():
        raise SubmissionRefused("url_unreachable", reason="not_a_badge")
    return body


def _summary(report: VerificationReport) -> str:
    # A coarse word kept with the import (and in the export); pages always show the live verdict.
    if report.revoked:
        return "revoked"
    if report.expired:
        return "expired"
    return "verified" if report.verified else "not_verified"


def import_credential(app: AppLike, user: User, *, kind: str, data: bytes | str,
                      now: dt.datetime | None = None) -> ImportedCredential:
    """Verify a badge from elsewhere and keep it, byte for byte, with its report.

    ``kind`` is ``file`` (uploaded bytes), ``text`` (pasted JSON or JWT; a lone address is followed) or ``url``
    (fetched through the platform's safe fetcher: time-outs, size caps, never a private or local address).
    A badge that can be read is kept whatever its verdict (the wallet shows it); nothing is kept otherwise.

    Raises :class:`~badgehub.verification.platform.SubmissionRefused` (nothing readable, too large, address
    refused or unreachable), AlreadyImported or TooManyImports.
    """
    moment = now or utcnow()
    source_url: str | None = None
    if kind == "text" and isinstance(data, str) and as_url(data) is not None:
        kind, data = "url", str(as_url(data))
    if kind == "url":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        source_url = data.strip()
        if len(source_url) > 2048:
            raise SubmissionRefused("url_refused", reason="invalid_url")
        raw = _fetch_import(app, source_url)
        kind, data = "file", raw
    if kind == "text":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        text = data.strip()
        if len(text.encode("utf-8", "surrogatepass")) > max_submission_bytes(app.config):
            raise SubmissionRefused("too_large", 413, limit=max_submission_bytes(app.config))
        raw = text.encode("utf-8", "surrogatepass")
        report = verify_submission(app, text, kind="text", now=moment)
    elif kind == "file" and isinstance(data, bytes):
        raw = data
        report = verify_submission(app, raw, kind="file", now=moment)
    else:
        raise SubmissionRefused("empty_input")
    kind_check = report.check("type")
    if kind_check is not None and kind_check.status is CheckStatus.FAILED and kind_check.code == "type_invalid":
        # Readable JSON, but no badge (a key, a random document): nothing to keep in a wallet.
        raise SubmissionRefused("type_invalid")
    digest = hashlib.sha256(raw).hexdigest()
    if db.session.scalar(select(ImportedCredential.id).where(ImportedCredential.user_id == user.id,
                                                             ImportedCredential.sha256 == digest)) is not None:
        raise AlreadyImported()
    count = db.session.scalar(select(func.count()).select_from(ImportedCredential)
                              .where(ImportedCredential.user_id == user.id)) or 0
    if count >= MAX_IMPORTS:
        raise TooManyImports()
    row = ImportedCredential(
        user_id=user.id, raw=raw, sha256=digest, format=report.format or "json", ob_version=report.ob_version,
        source_url=source_url, achievement_name=(report.achievement_name or report.credential_name or "")[:300],
        issuer_name=(report.issuer_name or report.issuer_id or "")[:300], imported_at=moment,
        last_report=report.to_dict(), last_verdict=_summary(report), last_checked_at=moment)
    db.session.add(row)
    db.session.flush()
    _status_cache(app).put(("imported", digest), report)
    record("wallet.credential_imported", actor_id=user.id, subject_type="imported_credential", subject_id=row.id,
           details={"format": row.format, "ob_version": row.ob_version, "verdict": row.last_verdict,
                    "from_url": source_url is not None})
    db.session.flush()
    return row


def delete_imported(user: User, imported_id: int) -> None:
    """Remove an imported badge (and from every share). Raises WalletItemNotFound for anyone else's."""
    row = get_imported(user, imported_id)
    db.session.delete(row)
    record("wallet.imported_removed", actor_id=user.id, subject_type="imported_credential", subject_id=imported_id)
    db.session.flush()


# ------------------------------------------------------------------------------------------------- shares


def shares_of(user: User) -> list[WalletShare]:
    """``user``'s share links, newest first, with their items."""
    return list(db.session.scalars(select(WalletShare).where(WalletShare.user_id == user.id)
                                   .options(selectinload(WalletShare.items))
                                   .order_by(WalletShare.created_at.desc(), WalletShare.id.desc())))


def get_share_for(user: User, share_id: int) -> WalletShare:
    """One of ``user``'s shares; raises WalletItemNotFound for anyone else's."""
    share = db.session.get(WalletShare, share_id)
    if share is None or share.user_id != user.id:
        raise WalletItemNotFound()
    return share


def create_share(user: User, *, title: str, credential_ids: Sequence[str] = (), imported_ids: Sequence[int] = (),
                 expires_at: dt.datetime | None = None, now: dt.datetime | None = None) -> WalletShare:
    """Make a share link for a chosen set of ``user``'s credentials (public ids of ours, ids of imported ones).

    Raises InvalidShare (``details["fields"]``): no title or too long, nothing chosen, something chosen that is
    not in the wallet, an expiry in the past; or TooManyShares via InvalidShare when at the limit.
    """
    moment = now or utcnow()
    errors: dict[str, Any] = {}
    try:
        clean_title = normalise_name(title or "", required=True)
    except InvalidName:
        clean_title = ""
        errors["title"] = _l("Give the link a title of 1 to 200 characters (only you see it, and the people "
                             "you send it to).")
    chosen_ours = list(dict.fromkeys(str(public_id) for public_id in credential_ids))
    chosen_imported = list(dict.fromkeys(int(item) for item in imported_ids))
    if not chosen_ours and not chosen_imported:
        errors["credentials"] = _l("Choose at least one badge to share.")
    elif len(chosen_ours) + len(chosen_imported) > MAX_SHARE_ITEMS:
        errors["credentials"] = _l("Choose at most %(max)s badges.", max=MAX_SHARE_ITEMS)
    if expires_at is not None and expires_at <= moment:
        errors["expires_at"] = _l("Choose a date in the future, or no end date.")
    ours = {credential.public_id: credential for credential in wallet_credentials(user)}
    theirs = {row.id: row for row in imported_of(user)}
    if any(public_id not in ours for public_id in chosen_ours) or any(i not in theirs for i in chosen_imported):
        errors["credentials"] = _l("Only badges of your wallet can be shared.")
    count = db.session.scalar(select(func.count()).select_from(WalletShare).where(WalletShare.user_id == user.id))
    if (count or 0) >= MAX_SHARES:
        errors["title"] = _l("You have as many share links as you can. Delete an old one first.")
    if errors:
        raise InvalidShare(details={"fields": errors})
    share = WalletShare(user_id=user.id, title=clean_title, token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
                        created_at=moment, expires_at=expires_at)
    position = 0
    for public_id in chosen_ours:
        share.items.append(WalletShareItem(credential_id=ours[public_id].id, position=position))
        position += 1
    for imported_id in chosen_imported:
        share.items.append(WalletShareItem(imported_id=imported_id, position=position))
        position += 1
    db.session.add(share)
    db.session.flush()
    record("wallet.share_created", actor_id=user.id, subject_type="wallet_share", subject_id=share.id,
           details={"items": position, "expires": expires_at is not None})
    db.session.flush()
    return share


def revoke_share(user: User, share_id: int, *, now: dt.datetime | None = None) -> WalletShare:
    """Stop a share link at once (it answers 410 from now on). Revoking twice is harmless.
    Raises WalletItemNotFound for anyone else's share."""
    share = get_share_for(user, share_id)
    if share.revoked_at is None:
        share.revoked_at = now or utcnow()
        record("wallet.share_revoked", actor_id=user.id, subject_type="wallet_share", subject_id=share.id)
        db.session.flush()
    return share


def delete_share(user: User, share_id: int) -> None:
    """Forget a share link entirely (its address then answers 404). Raises WalletItemNotFound."""
    share = get_share_for(user, share_id)
    db.session.delete(share)
    record("wallet.share_deleted", actor_id=user.id, subject_type="wallet_share", subject_id=share_id)
    db.session.flush()


def public_share(token: str, *, now: dt.datetime | None = None) -> WalletShare:
    """The share behind ``/w/<token>``. Raises ShareNotFound (unknown) or ShareGone (revoked or expired),
    checked on every request: a revocation or an expiry takes effect at once."""
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise ShareNotFound()
    share = db.session.scalar(select(WalletShare).where(WalletShare.token == token))
    if share is None:
        raise ShareNotFound()
    if not share.is_live(now):
        raise ShareGone()
    return share


@dataclass(frozen=True)
class SharedItems:
    """What a share shows today: ours that are still in the owner's wallet, and imported ones."""

    credentials: list[IssuedCredential]
    imported: list[ImportedCredential]


def shared_items(share: WalletShare) -> SharedItems:
    """The share's credentials that still belong to its owner (an address removed takes its badges away)."""
    owner = db.session.get(User, share.user_id)
    keys = verified_keys(owner) if owner is not None else set()
    ours = [item.credential for item in share.items
            if item.credential is not None and item.credential.recipient_email_key in keys]
    imported = [item.imported for item in share.items if item.imported is not None]
    return SharedItems(ours, imported)


# ------------------------------------------------------------------------------------------------ export


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def account_data(user: User, *, share_url: Any = None) -> dict[str, Any]:
    """Everything the platform holds about ``user`` as a person, as JSON-ready data (the export's
    ``account.json``). ``share_url(token)`` makes the public address of a share link."""
    memberships = db.session.scalars(select(OrganisationMember).where(OrganisationMember.user_id == user.id)
                                     .options(selectinload(OrganisationMember.organisation)))
    return {
        "profile": {"email": user.email, "name": user.name, "locale": user.locale,
                    "created_at": _iso(user.created_at), "verified_at": _iso(user.verified_at),
                    "last_signed_in_at": _iso(user.last_signed_in_at), "has_password": user.password_hash is not None,
                    "holder_did": holder_did_of(user)},
        "addresses": [{"email": row.email, "verified_at": _iso(row.verified_at), "added_at": _iso(row.created_at)}
                      for row in addresses_of(user)],
        "shares": [{"title": share.title, "url": share_url(share.token) if share_url else share.token,
                    "created_at": _iso(share.created_at), "expires_at": _iso(share.expires_at),
                    "revoked_at": _iso(share.revoked_at),
                    "credentials": [item.credential.public_id for item in share.items if item.credential],
                    "imported": [item.imported_id for item in share.items if item.imported_id]}
                   for share in shares_of(user)],
        "memberships": [{"organisation": member.organisation.slug, "name": member.organisation.name,
                         "role": str(member.role.value), "since": _iso(member.created_at)}
                        for member in memberships],
        "imported": [{"id": row.id, "format": row.format, "source_url": row.source_url,
                      "imported_at": _iso(row.imported_at), "verdict_at_import": row.last_verdict}
                     for row in imported_of(user)],
    }


def export_zip(user: User, *, share_url: Any = None, now: dt.datetime | None = None) -> bytes:
    """A zip of everything ``user`` holds: each credential of ours as issued (``.json`` Data Integrity and
    ``.jwt``), each imported badge byte for byte, and ``account.json``. Records an audit event."""
    moment = now or utcnow()
    credentials = wallet_credentials(user)
    imported = imported_of(user)
    buffer = io.BytesIO()
    stamp = moment.astimezone(dt.UTC).timetuple()[:6]

    def add(name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)

    with zipfile.ZipFile(buffer, "w") as archive:
        for credential in credentials:
            add(f"credentials/{credential.public_id}.json", credential.document_json.encode("utf-8"))
            add(f"credentials/{credential.public_id}.jwt", credential.vc_jwt.encode("ascii"))
        for row in imported:
            add(f"imported/{row.id}.{row.format}", row.raw)
        data = account_data(user, share_url=share_url)
        data["exported_at"] = _iso(moment)
        data["credentials"] = [{"public_id": c.public_id, "credential_id": c.credential_id,
                                "issued_at": _iso(c.issued_at)} for c in credentials]
        add("account.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    record("wallet.exported", actor_id=user.id, subject_type="user", subject_id=user.id,
           details={"credentials": len(credentials), "imported": len(imported)})
    db.session.flush()
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- erasure


def wipe_wallet(user: User, keys: Iterable[str] = ()) -> dict[str, int]:
    """Delete ``user``'s addresses, shares (with their items), imports, holder DID, e-mail tokens, and the
    staff invitations sent to ``keys`` (the person's e-mail keys, collected before the addresses go).
    Part of account erasure (:func:`badgehub.wallet.erasure.erase_account`); returns counts. Flushes."""
    counts = {}
    for name, model in (("shares", WalletShare), ("imported", ImportedCredential), ("addresses", WalletEmail),
                        ("profile", WalletProfile), ("tokens", EmailToken)):
        if model is WalletShare:
            share_ids = select(WalletShare.id).where(WalletShare.user_id == user.id)
            db.session.execute(delete(WalletShareItem).where(WalletShareItem.share_id.in_(share_ids))
                               .execution_options(synchronize_session=False))
        if model is ImportedCredential:
            imported_ids = select(ImportedCredential.id).where(ImportedCredential.user_id == user.id)
            db.session.execute(delete(WalletShareItem).where(WalletShareItem.imported_id.in_(imported_ids))
                               .execution_options(synchronize_session=False))
        result = db.session.execute(delete(model).where(model.user_id == user.id)
                                    .execution_options(synchronize_session=False))
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Staff invitations still addressed to the person's own addresses (the address is all they hold).
    wanted = {key for key in keys if key}
    result = db.session.execute(delete(Invitation).where(func.lower(func.trim(Invitation.email)).in_(wanted))
                                .execution_options(synchronize_session=False))
    counts["invitations"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.flush()
    return counts


def blank_issued_recipients(keys: Iterable[str]) -> int:
    """Blank the e-mail address, name and holder DID stored *beside* the credentials issued to ``keys``, and
    replace their ``recipient_email_key`` with a tombstone no address can have (``erased:<random>``, no "@").

    The tombstone is one random value per erasure: it links to nobody, yet the observatory still counts this
    person's credentials as one learner's. The signed documents stay as issued: they hold only a salted hash
    of the address. Returns how many credentials were blanked.
    """
    wanted = {key for key in keys if key}
    if not wanted:
        return 0
    tombstone = f"{ERASED_RECIPIENT_PREFIX}{secrets.token_hex(12)}"
    count = 0
    for credential in db.session.scalars(select(IssuedCredential).where(
            IssuedCredential.recipient_email_key.in_(wanted))):
        credential.recipient_email = ""
        credential.recipient_name = ""
        credential.recipient_email_key = tombstone
        credential.holder_did = None
        # A key chosen by the organisation may spell the address (claims use claim:<id>:<address>; a CRM its
        # own): it is listed by the API, so it becomes a digest that still deduplicates a replay.
        key = credential.idempotency_key
        if key and any(address in key.lower() for address in wanted):
            credential.idempotency_key = erased_idempotency_key(key)
        count += 1
    db.session.flush()
    return count


def keys_for_erasure(user: User) -> set[str]:
    """The e-mail keys whose personal data goes with ``user``'s account: its own address and its verified
    extra addresses (an unproven address may be somebody else's)."""
    keys = {user.email_key}
    keys.update(verified_keys(user))
    return keys


def owned_alone(user: User) -> list[Any]:
    """The organisations of which ``user`` is the only owner (erasure must wait until they hand over)."""
    from badgehub.organisations.models import Role

    alone = []
    for member in db.session.scalars(select(OrganisationMember).where(
            OrganisationMember.user_id == user.id, OrganisationMember.role == Role.OWNER)
            .options(selectinload(OrganisationMember.organisation))):
        others = db.session.scalar(select(func.count()).select_from(OrganisationMember).where(
            OrganisationMember.organisation_id == member.organisation_id, OrganisationMember.role == Role.OWNER,
            OrganisationMember.user_id != user.id)) or 0
        if others == 0:
            alone.append(member.organisation)
    return alone


def linkedin_url(*, name: str, organisation_name: str, issued: dt.datetime, url: str, cert_id: str,
                 expires: dt.datetime | None = None) -> str:
    """LinkedIn's "add a certification to your profile" address, pre-filled (no API call, no tracking: the
    learner's browser opens LinkedIn only if they click). Parameters as LinkedIn documents them for its
    Add-to-Profile button: startTask, name, organizationName, issueYear/issueMonth, expirationYear/Month,
    certUrl, certId."""
    from urllib.parse import urlencode

    params: dict[str, Any] = {"startTask": "CERTIFICATION_NAME", "name": name[:200],
                              "organizationName": organisation_name[:200], "issueYear": issued.year,
                              "issueMonth": issued.month}
    if expires is not None:
        params.update(expirationYear=expires.year, expirationMonth=expires.month)
    params.update(certUrl=url, certId=cert_id)
    return "https://www.linkedin.com/profile/add?" + urlencode(params)

