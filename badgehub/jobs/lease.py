"""How long a batch run's lease lasts: read by the sweeper (:mod:`badgehub.jobs`) and by the runs
(:mod:`badgehub.jobs.tasks`), which therefore need not import each other."""

from __future__ import annotations

from typing import Any


def lease_seconds(app: Any) -> int:
    """How long a batch run's lease lasts without a heartbeat (``JOB_LEASE_SECONDS``, default 120)."""
    from badgehub.issuing.batches import DEFAULT_LEASE_SECONDS

    return max(5, int(app.config.get("JOB_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS))
