"""The resolver the platform verifies with: local answers first, then the web through the safe fetcher.

Every verification the app runs (``/verify``, ``POST /api/v1/verify``, and later the credential page
``/c/<id>``) asks :func:`build_resolver` for its resolver, so they all resolve alike::

    ChainResolver(<our own documents>, DocumentResolver(SafeFetcher.fetch), LocalResolver())

**The hook for our own issuers.** The platform's own credentials go through exactly the same pipeline
as a stranger's (DESIGN §4), but their DID documents (``did:web:<our host>:issuers:<slug>``), JWK sets
and status lists must come from the database, not over HTTP to ourselves. A later step supplies a
:class:`~badgehub.verification.resolver.Resolver` that answers for our own URLs and DIDs and raises
``ResolutionError("unsupported", …)`` for anything else, so that the chain moves on to the web. It is
plugged in either per call (``build_resolver(app, local_documents=resolver)``) or once for the app
(:func:`register_local_resolver` with a factory called for every verification, e.g. one that wraps the
request's database session). It comes first in the chain: an answer from it is final, and a refusal
from it (a key that our DID document does not list) is never "corrected" by the web. Today the ``verify``
blueprint registers :class:`badgehub.keys.resolver.OwnIssuerResolver` this way when it is registered.

:func:`verify_submission` is what ``/verify``, ``POST /api/v1/verify`` and the credential page share: it
decides whether what was submitted can be read at all (:class:`SubmissionRefused`, with the HTTP status to
answer) and verifies it through :func:`build_resolver`, with the app's memo of pure checks
(:func:`platform_memo`: signatures, safe mode and schema of exact contents are computed once per process;
keys, revocation and dates are checked on every call).

This module does not import Flask: it only reads ``app.config`` and keeps its state in
``app.extensions`` (one :class:`~badgehub.verification.fetch.SafeFetcher` per app, so its cache is
shared by every request of that app).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

from badgehub.fields import FieldError, email_address
from badgehub.verification.fetch import (
    DEFAULT_CACHE_TTL,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT,
    SafeFetcher,
    SafeFetchError,
)
from badgehub.verification.memo import DEFAULT_MAX_ENTRIES, CheckMemo
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus, VerificationReport
from badgehub.verification.resolver import ChainResolver, DocumentResolver, Fetch, LocalResolver, Resolver

FETCHER_EXTENSION: Final = "badgehub.verification.fetcher"
"""Key of the app's :class:`SafeFetcher` in ``app.extensions`` (a test may put its own there first)."""
LOCAL_RESOLVER_EXTENSION: Final = "badgehub.verification.local_resolver"
"""Key of the factory registered by :func:`register_local_resolver` in ``app.extensions``."""

MEMO_EXTENSION: Final = "badgehub.verification.memo"
"""Key of the app's :class:`CheckMemo` in ``app.extensions`` (one per process, shared by every request)."""

LocalResolverFactory = Callable[[], Resolver]


class AppLike(Protocol):
    """What this module needs from a Flask app."""

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def extensions(self) -> dict[str, Any]: ...


def fetcher_from_config(config: Mapping[str, Any]) -> SafeFetcher:
    """A :class:`SafeFetcher` configured from optional ``VERIFY_FETCH_*`` settings.

    ``VERIFY_FETCH_TIMEOUT`` (seconds, default 5), ``VERIFY_FETCH_MAX_BYTES`` (default 1 MiB),
    ``VERIFY_FETCH_MAX_REDIRECTS`` (default 3), ``VERIFY_FETCH_CACHE_TTL`` (seconds, default 300),
    ``VERIFY_FETCH_ALLOW_HTTP`` (default false: https only). There is deliberately no setting for
    ``allowed_networks``: internal addresses are never reachable from a configuration.
    """
    base_url = str(config.get("BASE_URL") or "").rstrip("/")
    return SafeFetcher(
        timeout=float(config.get("VERIFY_FETCH_TIMEOUT", DEFAULT_TIMEOUT)),
        max_bytes=int(config.get("VERIFY_FETCH_MAX_BYTES", DEFAULT_MAX_BYTES)),
        max_redirects=int(config.get("VERIFY_FETCH_MAX_REDIRECTS", DEFAULT_MAX_REDIRECTS)),
        cache_ttl=float(config.get("VERIFY_FETCH_CACHE_TTL", DEFAULT_CACHE_TTL)),
        allow_http=bool(config.get("VERIFY_FETCH_ALLOW_HTTP", False)),
        user_agent=f"BadgeHub-verifier/1.0 (+{base_url})" if base_url else "BadgeHub-verifier/1.0",
    )


def platform_fetcher(app: AppLike) -> SafeFetcher:
    """The app's shared :class:`SafeFetcher`, made from its configuration on first use."""
    fetcher = app.extensions.get(FETCHER_EXTENSION)
    if not isinstance(fetcher, SafeFetcher):
        # setdefault is atomic: two first requests in parallel end up sharing one fetcher.
        fetcher = app.extensions.setdefault(FETCHER_EXTENSION, fetcher_from_config(app.config))
    assert isinstance(fetcher, SafeFetcher)
    return fetcher


def platform_memo(app: AppLike) -> CheckMemo:
    """The app's memo of pure checks (:mod:`badgehub.verification.memo`), made on first use with
    ``VERIFY_MEMO_ENTRIES`` entries at most (default 4096; 0 turns it off)."""
    memo = app.extensions.get(MEMO_EXTENSION)
    if not isinstance(memo, CheckMemo):
        size = int(app.config.get("VERIFY_MEMO_ENTRIES", DEFAULT_MAX_ENTRIES))
        memo = app.extensions.setdefault(MEMO_EXTENSION, CheckMemo(size))
    assert isinstance(memo, CheckMemo)
    return memo


def register_local_resolver(app: AppLike, factory: LocalResolverFactory) -> None:
    """Have every :func:`build_resolver` of ``app`` put ``factory()`` first (see the module docstring)."""
    app.extensions[LOCAL_RESOLVER_EXTENSION] = factory


def build_resolver(
    app: AppLike, local_documents: Resolver | None = None, *, fetch: Fetch | None = None
) -> ChainResolver:
    """The resolver the web app and the API verify with.

    ``local_documents`` answers first (our own issuers' documents, from the database, and only for addresses
    and DIDs under our own ``BASE_URL``); when it is not given, the factory registered with
    :func:`register_local_resolver`, if any, supplies it. Then any other document through the app's
    :class:`SafeFetcher` (or ``fetch``, a wrapper around it that, say, records why a fetch failed), and
    only last ``did:key`` and fragment keys (no I/O). That order is the key-binding rule: a key written in
    the credential (the fragment of an ``https`` verification method) is read only when the controller's
    document cannot be fetched or is no key list at all, and then only as an unconfirmed key; a DID's key
    never comes from a fragment (:class:`LocalResolver` refuses it), so a did:web whose document cannot be
    fetched ends in ``fetch_failed``: "could not be checked now".
    """
    chain: list[Resolver] = []
    local = local_documents
    if local is None:
        factory = app.extensions.get(LOCAL_RESOLVER_EXTENSION)
        if callable(factory):
            local = factory()
    if local is not None:
        chain.append(local)
    fetcher = platform_fetcher(app)
    chain.append(DocumentResolver(fetch or fetcher.fetch, max_bytes=fetcher.max_bytes))
    chain.append(LocalResolver())
    return ChainResolver(*chain)


DEFAULT_MAX_SUBMISSION_BYTES: Final = 5 * 1024 * 1024
"""Largest file, text or request body checked on /verify and by the API (``VERIFY_MAX_BYTES``)."""

_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Parse failures that mean "not a badge format at all" (415) or "too large" (413); any other is 400.
_PARSE_STATUS: Final[Mapping[str, int]] = {"unknown_format": 415, "not_utf8": 415, "input_too_large": 413}
# A redirect can lead to one of these: then the address was refused, not unreachable.
_REFUSALS: Final = frozenset({"address_not_allowed", "scheme_not_allowed", "port_not_allowed", "invalid_url"})


class SubmissionRefused(Exception):
    """What was submitted cannot be verified: a stable ``code``, the HTTP ``status`` to answer with,
    and ``params`` for the message (``reason`` and ``status`` of a failed fetch, ``limit`` in bytes).

    Codes: ``empty_input``, ``too_many_inputs``, ``too_large``, ``unsupported_type``, ``invalid_email``,
    ``url_refused``, ``url_unreachable``, and the ``parse`` codes of the pipeline (``invalid_json``,
    ``invalid_jwt``, ``image_unreadable``, ``image_without_badge``, ``not_an_object``, …).
    """

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


def max_submission_bytes(config: Mapping[str, Any]) -> int:
    """The size limit of a submission (``VERIFY_MAX_BYTES``, default 5 MiB)."""
    return int(config.get("VERIFY_MAX_BYTES", DEFAULT_MAX_SUBMISSION_BYTES))


def sniff_format(data: bytes) -> str | None:
    """``png``, ``svg``, ``json`` or ``jwt`` from the first bytes of an uploaded file, or None: a file
    is judged by what it holds, not by its name or the type the browser claims."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "svg"
    if head.startswith(b"{"):
        return "json"
    if _JWS.fullmatch(head.rstrip()):
        return "jwt"
    return None


def recipient_address(value: str | None) -> str | None:
    """The e-mail address to check the recipient against (the rule of :func:`badgehub.fields.email_address`),
    or None when none was given. Raises :class:`SubmissionRefused` (``invalid_email``) for something that
    is not an address."""
    if value is None or not value.strip():
        return None
    try:
        return email_address(value)
    except FieldError:
        raise SubmissionRefused("invalid_email") from None


def as_url(text: str) -> str | None:
    """``text`` when it is a single http(s) address, else None."""
    stripped = text.strip()
    if stripped.lower().startswith(("https://", "http://")) and not any(char.isspace() for char in stripped):
        return stripped
    return None


class _RecordingFetch:
    """The app's fetch, remembering why each URL failed, so that a refusal can be explained."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.failures: dict[str, SafeFetchError] = {}

    def __call__(self, url: str) -> bytes:
        try:
            return self._fetch(url)
        except SafeFetchError as exc:
            self.failures[url] = exc
            raise


def verify_submission(
    app: AppLike,
    data: bytes | str | Mapping[str, Any],
    *,
    kind: str,
    now: datetime,
    known_email: str | None = None,
    local_documents: Resolver | None = None,
) -> VerificationReport:
    """Verify what someone submitted on /verify or to the API, through :func:`build_resolver`.

    ``kind`` says what ``data`` is: ``file`` (uploaded bytes, judged by :func:`sniff_format`), ``text``
    (pasted JSON or JWT; a lone address is followed like a ``url``), ``url`` (fetched through the safe
    fetcher, after :meth:`SafeFetcher.check_url`) or ``object`` (a parsed JSON credential). Returns the
    report of a badge that could be read, whatever its verdict. Raises :class:`SubmissionRefused` when
    nothing could be read: too large (413), not a badge format (415), an address refused or unreachable,
    or a ``parse`` failure (its code).
    """
    limit = max_submission_bytes(app.config)
    if kind == "text" and isinstance(data, str) and as_url(data) is not None:
        kind, data = "url", str(as_url(data))
    if kind == "file":
        if not isinstance(data, bytes) or not data.strip():
            raise SubmissionRefused("empty_input")
        if len(data) > limit:
            raise SubmissionRefused("too_large", 413, limit=limit)
        if sniff_format(data) is None:
            raise SubmissionRefused("unsupported_type", 415)
    elif kind == "text":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        if len(data.encode("utf-8", "surrogatepass")) > limit:
            raise SubmissionRefused("too_large", 413, limit=limit)
    elif kind == "url":
        if not isinstance(data, str) or not data.strip():
            raise SubmissionRefused("empty_input")
        data = data.strip()
        try:
            platform_fetcher(app).check_url(data)
        except SafeFetchError as exc:
            raise SubmissionRefused("url_refused", reason=exc.reason) from None
    elif kind != "object" or not isinstance(data, Mapping):
        raise SubmissionRefused("empty_input")
    recorder = _RecordingFetch(platform_fetcher(app).fetch)
    resolver = build_resolver(app, local_documents, fetch=recorder)
    report = verify(data, resolver, now, known_email, memo=platform_memo(app))
    parse = report.check("parse")
    if parse is not None and parse.status is CheckStatus.FAILED:
        if parse.code == "url_unreachable" and isinstance(data, str):
            failure = recorder.failures.get(data)
            if failure is not None and failure.reason in _REFUSALS:
                raise SubmissionRefused("url_refused", reason=failure.reason)
            reason = failure.reason if failure is not None else "not_a_badge"
            status = failure.status if failure is not None else None
            raise SubmissionRefused("url_unreachable", reason=reason, http_status=status)
        raise SubmissionRefused(parse.code, _PARSE_STATUS.get(parse.code, 400), **dict(parse.params))
    return report

