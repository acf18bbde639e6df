"""Is this stored endorsement valid now? The verification pipeline's answer on its stored document.

Endorsements go through exactly the pipeline a stranger's document goes through (DESIGN §4), with our keys and
status lists answered from the database (:func:`badgehub.issuing.resolver.platform_local_resolver`). The report
is kept in a small per-process LRU under a key made of everything it depends on, read on every call: the
document's SHA-256, its status list's version and served copy, the endorser's published keys and their states,
and the hour (the list's signed copy expires; a coarse bucket is enough, since the list's own copy is in the key).
Reading never writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from typing import Final

from cachetools import LRUCache

from badgehub.db import utcnow
from badgehub.endorsements.models import Endorsement
from badgehub.issuing.live import dependencies
from badgehub.issuing.resolver import platform_local_resolver
from badgehub.verification.platform import AppLike, verify_submission
from badgehub.verification.report import VerificationReport

CACHE_EXTENSION: Final = "badgehub.endorsements.verdicts"
DEFAULT_ENTRIES: Final = 1024


class _Cache:
    def __init__(self, entries: int) -> None:
        self._reports: LRUCache[str, VerificationReport] = LRUCache(maxsize=max(1, entries))
        self._lock = threading.Lock()

    def get(self, key: str) -> VerificationReport | None:
        with self._lock:
            return self._reports.get(key)

    def put(self, key: str, report: VerificationReport) -> None:
        with self._lock:
            self._reports[key] = report


def _cache(app: AppLike) -> _Cache:
    cache = app.extensions.get(CACHE_EXTENSION)
    if not isinstance(cache, _Cache):
        cache = app.extensions.setdefault(CACHE_EXTENSION, _Cache(DEFAULT_ENTRIES))
    assert isinstance(cache, _Cache)
    return cache


def verdict_key(endorsement: Endorsement, now: dt.datetime) -> str:
    """The digest of what the report on ``endorsement`` depends on (see the module docstring)."""
    status_list = endorsement.status_list
    keys, _ = dependencies(endorsement.endorser_id)
    parts = (hashlib.sha256(endorsement.document_json.encode("utf-8")).hexdigest(), status_list.version,
             status_list.signed_etag, sorted(repr(tuple(row)) for row in keys), now.strftime("%Y-%m-%dT%H"))
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def verify_endorsement(app: AppLike, endorsement: Endorsement, *, now: dt.datetime | None = None
                       ) -> VerificationReport:
    """The pipeline's report on ``endorsement``'s stored document, from the cache when nothing it depends on has
    changed. Needs an application context; never writes."""
    moment = now or utcnow()
    key = verdict_key(endorsement, moment)
    cache = _cache(app)
    report = cache.get(key)
    if report is None:
        local = platform_local_resolver(app.config, held=(endorsement.status_list,))
        report = verify_submission(app, json.loads(endorsement.document_json), kind="object", now=moment,
                                   local_documents=local)
        cache.put(key, report)
    return report
