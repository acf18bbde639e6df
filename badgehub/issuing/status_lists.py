"""The organisations' status lists: random index allocation, revocation bits, and the signed list credential.

**One purpose: revocation.** Every credential gets one ``BitstringStatusListEntry`` with purpose
``revocation`` in a list of its organisation. Suspension (a second, reversible list) is not offered: a
credential would then need two ``credentialStatus`` entries, and the OB 3.0 JSON schema types
``credentialStatus`` as a single object (OB3-BRIEF §5.2), so every such credential would fail schema
validation in the 1EdTech validator and in ours. The ``purpose`` column keeps the door open.

**Allocation.** Indexes are drawn with :mod:`secrets` (W3C recommends random assignment: an index must reveal
nothing about issuing order) among the indexes of the list that no credential holds and whose bit is clear,
and are never reused. On PostgreSQL the organisation's row and then its open list (the lowest-numbered one
with a free index) are locked (:func:`lock_open_list`), so two workers issuing for one organisation take turns
and never draw from a stale view of the taken indexes; SQLite has a single writer anyway. The unique
constraint ``(status_list_id, status_index)`` is the last word in any case (the issuing service retries on a
conflict). A full list is left as it is and list ``number + 1`` opens.

**The list credential** served at ``/issuers/<slug>/status/<number>`` is signed with Data Integrity
(``eddsa-rdfc-2022``) by the organisation's active Ed25519 key. ``validFrom`` is the moment a bit last
changed, ``validUntil`` one day after signing (a verifier holding an old copy must fetch it again), and the
subject's ``ttl`` says five minutes, like the ``Cache-Control`` of the endpoint. The signed JSON is kept on
the row with the version and key it was made for. It is signed when something changes, never when it is read:
by the transaction that changes it (an award on a list without a fresh copy, a revocation, a key rotation or
compromise) and by the scheduled refresh (:func:`refresh_status_lists`: the ``badgehub status-lists refresh``
command and the ``status_lists.refresh`` job) once less than half of its validity remains. Readers (the public
endpoint, the verification of our own credentials) serve the stored copy while it is still good for a verifier
(:func:`servable_copy`); only a list the refresh has missed is signed on the fly, in memory, and not kept.

In did:key style (``BADGEHUB_ISSUER_ID_STYLE``) the list is issued by the organisation's *current* did:key:
after a key rotation, credentials issued under the old did:key find their list issued by another id, which
the verifier reports as a warning (``status_list_foreign``). did:web, the default, has no such effect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.documents import to_json
from badgehub.credentials.status_list import (
    MIN_ENTRIES,
    build_status_list_credential,
    get_bit,
    new_status_list,
    random_free_index,
    set_bit,
)
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.errors import IssuingFailed
from badgehub.issuing.models import IssuedCredential, StatusList, StatusPurpose
from badgehub.keys.errors import NoActiveKey
from badgehub.keys.identity import base_url_of, profile_url, signing_identity
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import installation_kek, load_private_key
from badgehub.organisations.models import Organisation

log = logging.getLogger(__name__)

LIST_SIZE = MIN_ENTRIES
"""Credentials per list: the W3C minimum (16 KiB), which also hides each credential among 131,072. The
bitstring never has fewer than :data:`~badgehub.credentials.status_list.MIN_ENTRIES` entries, whatever this
says (a test lowers it to make lists fill up quickly)."""
LIST_VALIDITY: Final = dt.timedelta(days=1)
"""How long a signed list credential stays valid (its ``validUntil`` after signing)."""
RESIGN_BEFORE: Final = LIST_VALIDITY / 2
"""A cached list credential with less validity left than this is signed again."""
TTL_MS: Final = 300_000
"""The ``ttl`` of the list (milliseconds), the same five minutes as the endpoint's ``Cache-Control``."""
# Below this fill ratio, probing the database for a few random candidates is cheaper than loading every
# taken index; above it, random draws would mostly hit taken indexes.
_PROBE_BELOW: Final = 0.5
_OPEN_ATTEMPTS: Final = 5


def status_list_url(base_url: str, slug: str, number: int) -> str:
    """``<base>/issuers/<slug>/status/<number>``: where a list credential is published (a public contract)."""
    return f"{profile_url(base_url, slug)}/status/{number}"


def url_of(status_list: StatusList, config: Mapping[str, Any]) -> str:
    """The public URL of ``status_list`` under the app's ``BASE_URL`` (``config``: the app's)."""
    return status_list_url(base_url_of(config), status_list.organisation.slug, status_list.number)


def _lock_open_list(organisation_id: int, purpose: StatusPurpose) -> StatusList | None:
    query = (select(StatusList)
             .where(StatusList.organisation_id == organisation_id, StatusList.purpose == purpose,
                    StatusList.allocated < StatusList.size)
             .order_by(StatusList.number).limit(1)
             .with_for_update().execution_options(populate_existing=True))
    found: StatusList | None = db.session.scalar(query)
    return found


def _create_list(organisation_id: int, purpose: StatusPurpose, now: dt.datetime) -> StatusList | None:
    """Open the next list, or None when another transaction just opened one with the same number (only
    possible without the organisation lock, i.e. never through :func:`lock_open_list`)."""
    number = (db.session.scalar(select(func.max(StatusList.number))
                                .where(StatusList.organisation_id == organisation_id)) or 0) + 1
    status_list = StatusList(organisation_id=organisation_id, number=number, purpose=purpose, size=LIST_SIZE,
                             bits=new_status_list(max(LIST_SIZE, MIN_ENTRIES)), allocated=0, version=1,
                             created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(status_list)
    except IntegrityError:
        return None
    return status_list


def lock_open_list(organisation: Organisation, purpose: StatusPurpose = StatusPurpose.REVOCATION, *,
                   now: dt.datetime | None = None) -> StatusList:
    """Return the organisation's open list for ``purpose``, locked for this transaction (PostgreSQL), opening
    a new one when every list is full (or none exists yet). Flushes. Raises :class:`IssuingFailed` if no list
    can be had after a few attempts (it cannot happen under the organisation lock).

    Issuers of one organisation take turns on the organisation's row first (``FOR NO KEY UPDATE``, which the
    ``KEY SHARE`` locks of foreign keys do not block), then on the list. One lock order for everyone: an
    issuer waits for the one before it, never for a competitor that waits for it (locking lists alone, two
    issuers racing to open the next list could deadlock, each holding a row the other needed). Revocations lock
    only the list and the credential, which no issuer holds while waiting. The same lock also makes opening a
    list a one-at-a-time affair, so a full list is followed by exactly one new list.
    """
    db.session.execute(select(Organisation.id).where(Organisation.id == organisation.id)
                       .with_for_update(key_share=True))
    for _ in range(_OPEN_ATTEMPTS):
        found = _lock_open_list(organisation.id, purpose)
        if found is None:
            found = _create_list(organisation.id, purpose, now or utcnow())
        if found is not None:
            return found
    raise IssuingFailed()  # pragma: no cover - see the docstring


# (list id column, index column) of every table that holds indexes of these lists: issued credentials, and
# what other packages sign with the same lists (endorsements) through register_index_holder.
_INDEX_HOLDERS: list[tuple[Any, Any]] = [(IssuedCredential.status_list_id, IssuedCredential.status_index)]


def register_index_holder(list_column: Any, index_column: Any) -> None:
    """Say that another table holds indexes of these lists (its list id and index columns), so that no index it
    holds is given out again. Called once by the package that owns the table, when its models are imported."""
    if (list_column, index_column) not in _INDEX_HOLDERS:
        _INDEX_HOLDERS.append((list_column, index_column))


class _TakenIndexes:
    """The indexes of a list that cannot be given out: held by a credential (or another holder), or with their
    bit set."""

    def __init__(self, status_list: StatusList) -> None:
        self._list = status_list
        self._loaded: set[int] | None = None
        if status_list.allocated >= status_list.size * _PROBE_BELOW:
            self._loaded = set()
            for list_column, index_column in _INDEX_HOLDERS:
                self._loaded.update(db.session.scalars(select(index_column).where(list_column == status_list.id)))

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        if get_bit(self._list.bits, index):
            return True
        if self._loaded is not None:
            return index in self._loaded
        return any(db.session.scalar(select(index_column).where(
            list_column == self._list.id, index_column == index).limit(1)) is not None
            for list_column, index_column in _INDEX_HOLDERS)


def draw_free_index(status_list: StatusList) -> int:
    """A random index of ``status_list`` that no credential holds and whose bit is clear (the list should be
    locked by :func:`lock_open_list`). Raises :class:`~badgehub.credentials.status_list.StatusListError`
    (``status_list_full``) when there is none."""
    return random_free_index(_TakenIndexes(status_list), status_list.size, secrets.SystemRandom())


def lock_list(status_list_id: int) -> StatusList:
    """Re-read a list under a row lock (PostgreSQL), before changing its bits."""
    locked: StatusList = db.session.scalars(
        select(StatusList).where(StatusList.id == status_list_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    return locked


def set_status(status_list: StatusList, index: int, value: bool, *, now: dt.datetime | None = None) -> None:
    """Set the bit ``index`` of a locked list to ``value``; the version grows when the bit changes.

    Raises :class:`~badgehub.credentials.status_list.StatusListError` for an index outside the list.
    """
    if get_bit(status_list.bits, index) == value:
        return
    status_list.bits = set_bit(status_list.bits, index, value)
    status_list.version += 1
    status_list.updated_at = now or utcnow()


def get_status_list(organisation: Organisation, number: int) -> StatusList | None:
    """The organisation's list ``number``, or None."""
    found: StatusList | None = db.session.scalar(select(StatusList).where(
        StatusList.organisation_id == organisation.id, StatusList.number == number))
    return found


@dataclass(frozen=True)
class SignedStatusList:
    """A signed ``BitstringStatusListCredential``: the JSON text as served, and its strong ETag (SHA-256 hex)."""

    text: str
    etag: str


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_stored_copy(status_list: StatusList, active_key_id: str | None,
                      now: dt.datetime | None = None) -> SignedStatusList | None:
    """The signed copy kept on the row when it is still good to serve, else None: signed for the list's current
    version, by ``active_key_id`` (the organisation's active Ed25519 key; None when it has none), with more than
    :data:`RESIGN_BEFORE` of validity left. The one test of freshness: :func:`signed_status_list` uses it, and
    so do readers that already hold the active key id (and would rather not ask for it again)."""
    cached, etag, until = status_list.signed_credential, status_list.signed_etag, status_list.signed_valid_until
    if cached is None or etag is None or until is None or active_key_id is None:
        return None
    if status_list.signed_version != status_list.version or status_list.signed_key_id != active_key_id:
        return None
    if until - (now or utcnow()) <= RESIGN_BEFORE:
        return None
    return SignedStatusList(cached, etag)


def signed_status_list(status_list: StatusList, *, config: Mapping[str, Any],
                       now: dt.datetime | None = None, store: bool = True) -> SignedStatusList:
    """Return the signed list credential of ``status_list``, from the cache when it is still good.

    A fresh one is signed when the bits changed since, the organisation's active Ed25519 key changed, or less
    than :data:`RESIGN_BEFORE` of validity remains; with ``store`` it is kept on the row (the caller commits).
    Raises :class:`~badgehub.keys.errors.NoActiveKey` when the organisation has no active key, and the key
    service's errors when the KEK is missing or wrong.
    """
    moment = now or utcnow()
    identity = signing_identity(status_list.organisation, config)
    key = identity.ed25519_key
    stored = fresh_stored_copy(status_list, key.key_id, moment)
    if stored is not None:
        return stored
    url = url_of(status_list, config)
    valid_until = moment + LIST_VALIDITY
    # validFrom: when the list last changed, but never after the signature (an issue dated in the past may
    # have created the list "later" than a revocation being signed now).
    valid_from = min(status_list.updated_at, moment)
    document = build_status_list_credential(url, identity.issuer_id, status_list.purpose.value, status_list.bits,
                                            valid_from, valid_until=valid_until, ttl_ms=TTL_MS)
    private_key = load_private_key(key, installation_kek(config))
    if not isinstance(private_key, Ed25519PrivateKey):  # pragma: no cover - the key row says Ed25519
        raise IssuingFailed()
    signed = sign_data_integrity(document, private_key, identity.verification_method_id, _stamp(moment))
    text = to_json(signed)
    etag = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if store:
        status_list.signed_credential = text
        status_list.signed_version = status_list.version
        status_list.signed_key_id = key.key_id
        status_list.signed_valid_until = valid_until
        status_list.signed_etag = etag
    return SignedStatusList(text, etag)


def status_list_credential(status_list: StatusList, *, config: Mapping[str, Any],
                           now: dt.datetime | None = None) -> str:
    """The signed list credential's JSON text as served (:func:`signed_status_list`, cached on the row)."""
    return signed_status_list(status_list, config=config, now=now).text


def servable_copy(status_list: StatusList, keys: Iterable[SigningKey],
                  now: dt.datetime | None = None) -> SignedStatusList | None:
    """The stored signed copy when a verifier may still rely on it, else None: made for the list's current
    version, not expired, and signed by one of ``keys`` (the organisation's published keys) that is not
    declared compromised. Looser than :func:`fresh_stored_copy` on purpose: a copy signed by a key retired
    since, or in the second half of its validity, is still true; the refresh replaces it, readers do not."""
    cached, etag, until = status_list.signed_credential, status_list.signed_etag, status_list.signed_valid_until
    if cached is None or etag is None or until is None or status_list.signed_version != status_list.version:
        return None
    if until <= (now or utcnow()):
        return None
    signer = next((key for key in keys if key.key_id == status_list.signed_key_id), None)
    if signer is None or signer.state is KeyState.COMPROMISED:
        return None
    return SignedStatusList(cached, etag)


def served_status_list(status_list: StatusList, keys: Iterable[SigningKey], *,
                       config: Mapping[str, Any], now: dt.datetime | None = None) -> SignedStatusList:
    """What a reader serves for ``status_list``: its :func:`servable_copy`, or, when the changes and the refresh
    have left none (a database restored from an old backup, a refresh job that does not run), a copy signed now
    in memory and not kept (a reader never writes). Raises like :func:`signed_status_list`."""
    moment = now or utcnow()
    stored = servable_copy(status_list, keys, moment)
    if stored is not None:
        return stored
    log.warning("status list %s/%s had no servable signed copy: signed on the fly; is the "
                "'status_lists.refresh' job running?", status_list.organisation.slug, status_list.number)
    return signed_status_list(status_list, config=config, now=moment, store=False)


def publish_status_list(status_list: StatusList, *, config: Mapping[str, Any],
                        now: dt.datetime | None = None) -> bool:
    """Sign ``status_list`` again and keep the copy on its row when the stored one is not fresh (see
    :func:`fresh_stored_copy`); True when it did. Flushes nothing: the caller's transaction holds the row (the
    one that changed the list, or the refresh). Raises like :func:`signed_status_list`."""
    before = status_list.signed_etag
    signed = signed_status_list(status_list, config=config, now=now)
    return signed.etag != before


@dataclass(frozen=True)
class RefreshResult:
    """What :func:`refresh_status_lists` did: lists signed again, lists already fresh, lists it could not sign
    (their organisation has no active Ed25519 key)."""

    signed: int
    fresh: int
    unsigned: int


def refresh_status_lists(*, organisation: Organisation | None = None, config: Mapping[str, Any],
                         now: dt.datetime | None = None) -> RefreshResult:
    """Sign again every list (of ``organisation``, or of all) whose stored copy is not fresh: changed since,
    signed by a key that is no longer the active one, or with less than :data:`RESIGN_BEFORE` of validity left.
    Run by the ``status_lists.refresh`` job and ``badgehub status-lists refresh`` often enough (hourly by
    default) that no list reaches its ``validUntil``. Flushes; the caller commits."""
    moment = now or utcnow()
    # Rows a revocation holds are skipped (PostgreSQL): it signs them itself, and a refresh that waited would
    # then overwrite the new copy with one of the old version.
    query = (select(StatusList).order_by(StatusList.organisation_id, StatusList.number)
             .with_for_update(skip_locked=True))
    if organisation is not None:
        query = query.where(StatusList.organisation_id == organisation.id)
    signed = fresh = unsigned = 0
    active: dict[int, str | None] = {}
    for status_list in db.session.scalars(query):
        if status_list.organisation_id not in active:
            active[status_list.organisation_id] = db.session.scalar(select(SigningKey.key_id).where(
                SigningKey.organisation_id == status_list.organisation_id,
                SigningKey.algorithm == KeyAlgorithm.ED25519, SigningKey.state == KeyState.ACTIVE))
        key_id = active[status_list.organisation_id]
        if key_id is None:
            unsigned += 1
            continue
        if fresh_stored_copy(status_list, key_id, moment) is not None:
            fresh += 1
            continue
        try:
            signed_status_list(status_list, config=config, now=moment)
        except NoActiveKey:  # pragma: no cover - read just above, in this transaction
            unsigned += 1
            continue
        signed += 1
    db.session.flush()
    return RefreshResult(signed, fresh, unsigned)
