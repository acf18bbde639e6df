"""One answer to "is this stored credential valid now?": :func:`verify_issued`.

The credential page, the wallet, share pages, certificates and ``POST /api/v1/verify`` (when what was submitted
is one of our stored credentials, :func:`stored_submission`) all ask here. The answer is the verification
pipeline's, run over the stored document exactly as for a stranger's badge (DESIGN §4), with our keys and status
lists answered from the database, plus the registry's word on the issuer (:mod:`badgehub.territory.registry`).

**Cached by everything it depends on.** A verdict changes only when one of its inputs does, so it is kept under
a key made of all of them, read from the database on every call (the reads a view needs anyway: the credential
with its organisation and list, the organisation's keys, its memberships):

* the stored document (its SHA-256);
* its status list: version, and the signed copy being served (ETag, expiry, key);
* every published key of the organisation: state and compromise date;
* the issuer's standing: each membership's territory, status and dates;
* the next instant at which a date check flips (the credential's ``validFrom`` / ``validUntil``, the expiry of
  the signed list);
* :data:`VERDICT_FORMAT` and the settings that shape our documents (``BASE_URL``, ``ISSUER_ID_STYLE``), so that
  a new release or configuration never reads a verdict computed before it.

A revocation, a key compromise, a suspension or an expiry changes the key, so the very next view, in any
process, verifies again: nothing is kept "for a while". Verdicts are shared through Redis when ``REDIS_URL`` is
set (computed once for every process; signed with the app's secret key, since they are unpickled), with a small
in-process LRU in front (``VERDICT_CACHE_ENTRIES``); without Redis the LRU alone serves, and is no staler,
since the key is read from the database each time. Redis being unreachable only costs a verification.

Reading never writes: the signed status list is the one the last change stored
(:mod:`badgehub.issuing.status_lists`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import pickle
import re
import threading
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import urlsplit

from cachetools import LRUCache
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.resolver import platform_local_resolver
from badgehub.keys.identity import base_url_of, local_path
from badgehub.keys.models import KeyState, SigningKey
from badgehub.keys.resolver import own_issuer_resolver
from badgehub.territory.models import Territory, TerritoryMembership
from badgehub.territory.registry import IssuerStanding, standing_for_report
from badgehub.verification.platform import AppLike, SubmissionRefused, as_url, verify_submission
from badgehub.verification.report import VerificationReport

log = logging.getLogger(__name__)

VERDICT_FORMAT: Final = 1
"""Bumped whenever what a verdict holds or how it is computed changes (it is part of every key)."""
DEFAULT_CACHE_ENTRIES: Final = 4096
DEFAULT_SHARED_SECONDS: Final = 24 * 3600
CACHE_EXTENSION: Final = "badgehub.issuing.verdicts"
_REDIS_PREFIX: Final = "badgehub:verdict:"
_REDIS_TIMEOUT: Final = 0.25
# After Redis failed, do without it for this long rather than wait for it on every view.
_REDIS_PAUSE: Final = 30.0
_URN_ID: Final = re.compile(r'"id"\s*:\s*"(urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
_ID_SCAN: Final = 64 * 1024
_PUBLISHED: Final = (KeyState.ACTIVE, KeyState.RETIRED, KeyState.COMPROMISED)
# Settings that change what our DID documents, keys and lists say, hence a verdict.
_SETTINGS: Final = ("BASE_URL", "ISSUER_ID_STYLE")


@dataclass(frozen=True)
class LiveVerdict:
    """The pipeline's report on a stored credential and its issuer's standing (None when the issuer is not
    confirmed), with ``key``: the digest of everything they depend on (an ETag may be made from it)."""

    report: VerificationReport
    standing: IssuerStanding | None
    key: str


@dataclass(frozen=True)
class _Stored:
    """What is cached: the standing without its database row (put back on the way out)."""

    report: VerificationReport
    standing: IssuerStanding | None
    issuer_slug: str | None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def next_flip(credential: IssuedCredential, now: dt.datetime) -> dt.datetime | None:
    """The next instant after ``now`` at which a date check of ``credential``'s verification changes its answer:
    its ``validFrom`` or ``validUntil``, or the end of its signed status list's validity; None when none is
    ahead."""
    status_list = credential.status_list
    moments = (_aware(credential.valid_from), _aware(credential.valid_until), _aware(status_list.signed_valid_until))
    ahead = [moment for moment in moments if moment is not None and moment > now]
    return min(ahead) if ahead else None


def verdict_key(credential: IssuedCredential, keys: Sequence[Sequence[Any]], memberships: Sequence[Sequence[Any]],
                now: dt.datetime, config: Mapping[str, Any]) -> str:
    """The digest of everything the verdict on ``credential`` depends on (see the module docstring): ``keys`` are
    the organisation's published keys as :func:`dependencies` reads them, ``memberships`` its memberships, and
    ``config`` the settings that shape our documents (a verdict shared in Redis outlives a restart)."""
    status_list = credential.status_list
    parts = (
        VERDICT_FORMAT,
        [str(config.get(name) or "") for name in _SETTINGS],
        credential.public_id,
        hashlib.sha256(credential.document_json.encode("utf-8")).hexdigest(),
        [status_list.id, status_list.version, status_list.signed_version, status_list.signed_etag,
         status_list.signed_key_id, _iso(status_list.signed_valid_until)],
        sorted([str(value) for value in key] for key in keys),
        sorted([str(value) for value in member] for member in memberships),
        _iso(next_flip(credential, now)),
    )
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8")).hexdigest()


def dependencies(organisation_id: int) -> tuple[list[Any], list[Any]]:
    """What a verdict depends on beyond the credential and its list, read as plain rows (two small reads, no
    objects built: this runs on every view): every published key of the organisation with its state and
    compromise date, and every membership with its territory, status and dates."""
    keys = db.session.execute(_KEYS, {"organisation_id": organisation_id}).all()
    memberships = db.session.execute(_MEMBERSHIPS, {"organisation_id": organisation_id}).all()
    return list(keys), list(memberships)


# Built once: a statement made again on every view costs more CPU than running it.
_KEYS: Final = (
    select(SigningKey.key_id, SigningKey.algorithm, SigningKey.state, SigningKey.compromised_since)
    .where(SigningKey.organisation_id == bindparam("organisation_id"), SigningKey.state.in_(_PUBLISHED)))
_MEMBERSHIPS: Final = (
    select(TerritoryMembership.territory_id, Territory.slug, Territory.name, TerritoryMembership.status,
           TerritoryMembership.member_since, TerritoryMembership.decided_at)
    .join(Territory, Territory.id == TerritoryMembership.territory_id)
    .where(TerritoryMembership.organisation_id == bindparam("organisation_id")))


class VerdictCache:
    """Verdicts by key: an in-process LRU in front of Redis (when configured). Thread-safe; never raises."""

    def __init__(self, entries: int, *, redis_url: str | None = None, secret: bytes = b"",
                 shared_seconds: int = DEFAULT_SHARED_SECONDS) -> None:
        self._local: LRUCache[str, _Stored] | None = LRUCache(maxsize=entries) if entries > 0 else None
        self._lock = threading.Lock()
        self._secret = hashlib.sha256(b"badgehub verdicts\0" + secret).digest()
        self._shared_seconds = max(1, shared_seconds)
        self._redis: Any = None
        self._paused_until = 0.0
        if redis_url:
            from redis import Redis

            self._redis = Redis.from_url(redis_url, socket_timeout=_REDIS_TIMEOUT,
                                         socket_connect_timeout=_REDIS_TIMEOUT)

    @property
    def shared(self) -> bool:
        """True when verdicts are shared with other processes (Redis)."""
        return self._redis is not None

    def get(self, key: str) -> _Stored | None:
        if self._local is not None:
            with self._lock:
                found = self._local.get(key)
            if found is not None:
                return found
        found = self._shared_get(key)
        if found is not None:
            self._put_local(key, found)
        return found

    def put(self, key: str, value: _Stored) -> None:
        self._put_local(key, value)
        self._shared_put(key, value)

    def _put_local(self, key: str, value: _Stored) -> None:
        if self._local is not None:
            with self._lock:
                self._local[key] = value

    def _available(self) -> bool:
        return self._redis is not None and dt.datetime.now(dt.UTC).timestamp() >= self._paused_until

    def _failed(self, error: Exception) -> None:
        self._paused_until = dt.datetime.now(dt.UTC).timestamp() + _REDIS_PAUSE
        log.warning("verdict cache: Redis unavailable (%s); verifying without it for %.0f s", error, _REDIS_PAUSE)

    def _seal(self, value: _Stored) -> bytes:
        body = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
        return hmac.new(self._secret, body, hashlib.sha256).digest() + body

    def _open(self, data: bytes) -> _Stored | None:
        mac, body = data[:32], data[32:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, body, hashlib.sha256).digest()):
            return None
        value = pickle.loads(zlib.decompress(body))  # noqa: S301 - signed by us with the app's secret key
        return value if isinstance(value, _Stored) else None

    def _shared_get(self, key: str) -> _Stored | None:
        if not self._available():
            return None
        try:
            data = self._redis.get(_REDIS_PREFIX + key)
        except Exception as error:
            self._failed(error)
            return None
        return self._open(data) if isinstance(data, bytes) else None

    def _shared_put(self, key: str, value: _Stored) -> None:
        if not self._available():
            return
        try:
            self._redis.set(_REDIS_PREFIX + key, self._seal(value), ex=self._shared_seconds)
        except Exception as error:
            self._failed(error)


def verdict_cache(app: AppLike) -> VerdictCache:
    """The app's :class:`VerdictCache`, made on first use from ``VERDICT_CACHE_ENTRIES`` (in-process entries,
    default 4096; 0 keeps none), ``VERDICT_CACHE_SECONDS`` (how long Redis keeps one, default a day) and
    ``REDIS_URL``."""
    cache = app.extensions.get(CACHE_EXTENSION)
    if not isinstance(cache, VerdictCache):
        config = app.config
        secret = str(config.get("SECRET_KEY") or "").encode("utf-8")
        made = VerdictCache(int(config.get("VERDICT_CACHE_ENTRIES", DEFAULT_CACHE_ENTRIES)),
                            redis_url=config.get("REDIS_URL") or None, secret=secret,
                            shared_seconds=int(config.get("VERDICT_CACHE_SECONDS") or DEFAULT_SHARED_SECONDS))
        cache = app.extensions.setdefault(CACHE_EXTENSION, made)
    assert isinstance(cache, VerdictCache)
    return cache


def _compute(app: AppLike, credential: IssuedCredential, issuers: Any, now: dt.datetime,
             known_email: str | None) -> tuple[VerificationReport, IssuerStanding | None]:
    local = platform_local_resolver(app.config, issuers=issuers, held=(credential.status_list,))
    report = verify_submission(app, json.loads(credential.document_json), kind="object", now=now,
                               known_email=known_email, local_documents=local)
    return report, standing_for_report(report, app.config, by_slug=issuers.organisation)


def verify_issued(app: AppLike, credential: IssuedCredential, *, now: dt.datetime | None = None,
                  known_email: str | None = None) -> LiveVerdict:
    """Is ``credential`` (one of ours, as stored) valid now? The pipeline's report on its stored document and its
    issuer's standing, from the cache when nothing it depends on has changed (see the module docstring).

    ``known_email`` also checks the holder's address (the ``recipient`` step); such a report quotes what a person
    typed and is neither read from nor put in the cache. Needs an application context; never writes. Read the
    credential with ``get_credential(..., with_context=True)`` to spare a query.
    """
    moment = now or utcnow()
    organisation = credential.organisation
    issuers = own_issuer_resolver(app.config)
    issuers.remember(organisation)
    key = verdict_key(credential, *dependencies(organisation.id), moment, app.config)
    if known_email is not None:
        report, standing = _compute(app, credential, issuers, moment, known_email)
        return LiveVerdict(report, standing, key)
    cache = verdict_cache(app)
    stored = cache.get(key)
    if stored is None:
        report, standing = _compute(app, credential, issuers, moment, None)
        slug = standing.organisation.slug if standing is not None and standing.organisation is not None else None
        stored = _Stored(report, replace(standing, organisation=None) if standing is not None else None, slug)
        cache.put(key, stored)
    standing = stored.standing
    if standing is not None and stored.issuer_slug is not None:
        standing = replace(standing, organisation=issuers.organisation(stored.issuer_slug))
    return LiveVerdict(stored.report, standing, key)


_OWN_CREDENTIAL_PATH: Final = re.compile(r"/c/(?P<public_id>[A-Za-z0-9_-]{1,16})(?:\.json)?/?")


def own_address_submission(kind: str, data: bytes | str | Mapping[str, Any],
                           config: Mapping[str, Any]) -> IssuedCredential | None:
    """The stored credential whose page or JSON address (``<BASE_URL>/c/<public_id>``, the QR code's target, or
    its ``.json``) was submitted as a ``url``, or as ``text`` that is only an address; None for any other input.
    The address must have BASE_URL's own scheme, host and port: then it is read from the database, not fetched
    (our own ``http://`` demo address included), while every other address still goes through the safe
    fetcher and its refusal of internal networks. Raises :class:`SubmissionRefused` (``url_unreachable``, as
    for a 404) when no credential of ours has that id."""
    if not isinstance(data, str) or kind not in ("url", "text"):
        return None
    address = as_url(data) if kind == "text" else data.strip()
    if not address:
        return None
    base = base_url_of(config)
    path = local_path(address, base)
    if path is None or urlsplit(address).scheme.lower() != urlsplit(base).scheme.lower():
        return None
    match = _OWN_CREDENTIAL_PATH.fullmatch(path)
    if match is None:
        return None
    found = _with_context(IssuedCredential.public_id == match["public_id"])
    if not found:
        raise SubmissionRefused("url_unreachable", reason="http_error", http_status=404)
    return found[0]


def stored_submission(kind: str, data: bytes | str | Mapping[str, Any]) -> IssuedCredential | None:
    """The stored credential that was submitted to ``POST /api/v1/verify`` or ``/verify``, when what was sent is
    exactly one of ours: the bytes of its stored JSON (``file`` or ``text``), or, for a parsed JSON ``object``, the
    same content. The pipeline would then read the very document :func:`verify_issued` verifies, and report the
    same. A VC-JWT is another envelope with its own checks, so it takes the ordinary path, like anything else
    that is not exactly ours (None). Read with its context, ready for :func:`verify_issued`."""
    if kind == "object" and isinstance(data, Mapping):
        credential_id = data.get("id")
        if not isinstance(credential_id, str) or not credential_id.startswith("urn:uuid:"):
            return None
        found = _with_context(IssuedCredential.credential_id == credential_id)
        return found[0] if found and json.loads(found[0].document_json) == data else None
    if kind not in ("file", "text") or not isinstance(data, (bytes, str)):
        return None
    text = (data.decode("utf-8", "replace") if isinstance(data, bytes) else data).strip()
    if not text.startswith("{"):
        return None
    # Not parsed (a hostile document may be deep or huge): the ids it names are candidates, and only the exact
    # stored text is a match.
    candidates = list(dict.fromkeys(_URN_ID.findall(text[:_ID_SCAN])))[:4]
    if not candidates:
        return None
    found = _with_context(IssuedCredential.credential_id.in_(candidates))
    return next((credential for credential in found if credential.document_json.strip() == text), None)


def _with_context(condition: Any) -> Sequence[IssuedCredential]:
    return db.session.scalars(
        select(IssuedCredential).where(condition)
        .options(joinedload(IssuedCredential.organisation), joinedload(IssuedCredential.achievement_version),
                 joinedload(IssuedCredential.status_list)).limit(4)).all()


def verify_submitted(app: AppLike, data: bytes | str | Mapping[str, Any], *, kind: str,
                     known_email: str | None = None, now: dt.datetime | None = None
                     ) -> tuple[VerificationReport, IssuerStanding | None]:
    """Verify what someone submitted to ``/verify`` or ``POST /api/v1/verify``: the report and the issuer's
    standing. One of our stored credentials, sent exactly as stored (:func:`stored_submission`), takes
    :func:`verify_issued`'s path (same answer, from the cache); anything else
    :func:`~badgehub.verification.platform.verify_submission`'s. Raises what the latter raises."""
    moment = now or utcnow()
    stored = own_address_submission(kind, data, app.config) or stored_submission(kind, data)
    if stored is not None:
        verdict = verify_issued(app, stored, now=moment, known_email=known_email)
        return verdict.report, verdict.standing
    report = verify_submission(app, data, kind=kind, now=moment, known_email=known_email)
    return report, standing_for_report(report, app.config)
