"""The live status of imported badges: the pipeline's report over their stored bytes, cached briefly per app
(``WALLET_STATUS_CACHE_SECONDS``): a badge from elsewhere has no change we could hear of."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Final

from cachetools import TTLCache

from badgehub.db import utcnow
from badgehub.verification.platform import AppLike, SubmissionRefused, verify_submission
from badgehub.verification.report import VerificationReport
from badgehub.wallet.models import ImportedCredential

DEFAULT_STATUS_CACHE_SECONDS: Final = 60
STATUS_CACHE_EXTENSION: Final = "badgehub.wallet.status_cache"


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


def status_cache(app: AppLike) -> _StatusCache:
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
    cache = status_cache(app)
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
