"""Who runs a confirmed batch: a lease with a heartbeat, taken by one run at a time, and the batches whose run
died (their lease ran out) for the sweeper to hand to the queue again. Services flush, never commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update

from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import BatchState, IssueBatch

DEFAULT_LEASE_SECONDS = 40
# The lease a sweep takes while a batch waits in the queue: any run may take it over.
QUEUE_LEASE_OWNER = "queue"


class LeaseLost(RuntimeError):
    """Another run took the batch over (this run's lease had run out): stop without committing more."""


def take_lease(batch: IssueBatch, owner: str, *, seconds: int, now: dt.datetime | None = None) -> bool:
    """Make ``owner`` the runner of the (locked) ``batch`` for ``seconds``; False when another run holds a lease
    that has not run out (it is alive: leave the batch to it). Flushes."""
    now = now or utcnow()
    alive = batch.lease_expires_at is not None and batch.lease_expires_at > now
    if alive and batch.lease_owner not in (None, owner, QUEUE_LEASE_OWNER):
        return False
    batch.lease_owner = owner
    batch.lease_expires_at = now + dt.timedelta(seconds=seconds)
    db.session.flush()
    return True


def renew_lease(batch: IssueBatch, owner: str, *, seconds: int, now: dt.datetime | None = None) -> None:
    """The heartbeat of a run, in the transaction of its next chunk: push the lease ``seconds`` further.
    Raises :class:`LeaseLost` when another run holds the batch now. Flushes."""
    moment = now or utcnow()
    result = db.session.execute(
        update(IssueBatch).where(IssueBatch.id == batch.id, IssueBatch.lease_owner == owner)
        .values(lease_expires_at=moment + dt.timedelta(seconds=seconds))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"batch {batch.id} is run by someone else now")


def release_lease(batch: IssueBatch, owner: str) -> None:
    """End ``owner``'s lease (the run stops: done, failed, or paused by ``max_chunks``). Flushes."""
    if batch.lease_owner == owner:
        batch.lease_owner = None
        batch.lease_expires_at = None
        db.session.flush()


def orphaned_batch_ids(*, seconds: int, now: dt.datetime | None = None) -> list[int]:
    """Confirmed batches nobody is running: running with a lease that ran out (the worker died), or queued for
    longer than a lease without being picked up (the job was lost with its queue)."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=seconds)
    return list(db.session.scalars(select(IssueBatch.id).where(
        IssueBatch.state.in_((BatchState.QUEUED, BatchState.RUNNING)),
        or_(IssueBatch.lease_expires_at < now,
            and_(IssueBatch.lease_expires_at.is_(None),
                 or_(IssueBatch.state == BatchState.RUNNING, IssueBatch.queued_at < cutoff))))
        .order_by(IssueBatch.id)))
