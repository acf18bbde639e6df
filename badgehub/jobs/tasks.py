"""The jobs themselves: issuing a confirmed CSV batch chunk by chunk, resuming unfinished batches, and the
scheduled ones: the refresh of the signed status lists and the purge of the outbox's old messages.

:func:`run_batch` is the entry point that commits (like a view or a CLI command): one commit per chunk of
rows, then the e-mails of that chunk. Run twice, or after a crash at any point, it issues every valid row
exactly once: a row stays ``pending`` until the commit of the chunk that issued it, and the row's idempotency
key makes a credential issued just before a crash come back instead of a second one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any, Final

from flask import current_app
from sqlalchemy import select

from badgehub.db import reading, run_with_retry, writing
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing import batches, bulk, parallel
from badgehub.issuing.models import BatchRow, IssueBatch
from badgehub.issuing.service import Signer, signer_for
from badgehub.issuing.status_lists import refresh_status_lists
from badgehub.jobs.lease import lease_seconds
from badgehub.mails.awards import award_mail
from badgehub.oid4vci.award_mail import QR_SCALE, award_mail_link_of
from badgehub.outbox.sender import deliver_pending
from badgehub.pathways.jobs import award_completed

log = logging.getLogger(__name__)


def _chunk_size() -> int:
    return max(1, int(current_app.config.get("BATCH_CHUNK_ROWS") or batches.CHUNK_SIZE))


def send_batch_mail(batch: IssueBatch) -> int:
    """Deliver the e-mails of the batch's issued rows that the outbox still holds; returns how many left.

    Rows issued without their e-mail queued (by a version before the outbox) are queued first, each with its
    ``mailed`` mark in one transaction. A message that cannot leave is counted on the batch and marked on the
    row (``mail_failed``): the credential stays issued, its link is on the batch page, and the outbox tries again.
    """
    config = current_app.config
    while True:
        rows = batches.rows_to_mail(batch, limit=100)
        if not rows:
            break
        for row in rows:
            batches.queue_row_mail(batch, row, config, award_mail)
            row.mailed = True
        db.session.commit()
    delivery = deliver_pending(config=config, ref_prefix=f"batch:{batch.id}:")
    if delivery.failed_refs:
        failed_ids = {int(ref.rsplit(":", 1)[1]) for ref in delivery.failed_refs if ref}
        for row in db.session.scalars(select(BatchRow).where(BatchRow.id.in_(failed_ids))):
            if row.error_code != "mail_failed":
                row.error_code = "mail_failed"
                batch.mail_failures += 1
                log.warning("batch %s: could not send the e-mail of row %s", batch.id, row.number)
        db.session.commit()
    return delivery.sent


def _runner_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _died_here(owner: str | None) -> bool:
    """True when ``owner`` names a process of this machine that no longer exists. (A reused pid reads as
    alive: the lease is then waited out, the safe side.)"""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_batch(batch_id: int, *, max_chunks: int | None = None, chunk_rows: int | None = None,
              now: dt.datetime | None = None) -> str | None:
    """Issue the pending rows of a confirmed batch, one committed chunk at a time; return its state at the end
    (``None`` when there is no such batch, or nothing to run).

    The run holds a lease on the batch, renewed with every chunk: a second run finds it alive and leaves
    (returns the state), and a run whose worker died is taken over once its lease runs out (:func:`sweep`).
    ``chunk_rows`` defaults to the ``BATCH_CHUNK_ROWS`` config (50); ``max_chunks`` stops after that many
    chunks, leaving the batch running (the rest is a later run's).
    """
    batch = batches.lock_batch(batch_id)
    if batch is None or not batches.start_running(batch, now=now):
        db.session.rollback()
        return None
    owner, seconds = _runner_id(), lease_seconds(current_app)
    if not batches.take_lease(batch, owner, seconds=seconds, now=now):
        if not _died_here(batch.lease_owner):
            state = batch.state.value
            db.session.rollback()
            return state
        # Its runner was a process of this machine that is gone: no need to wait for the lease to run out.
        batch.lease_expires_at = None
        batches.take_lease(batch, owner, seconds=seconds, now=now)
    db.session.commit()
    try:
        return _run_leased(batch, owner, seconds, max_chunks=max_chunks, chunk_rows=chunk_rows, now=now)
    except batches.LeaseLost:
        db.session.rollback()
        log.warning("batch %s: taken over by another run; this one stops", batch_id)
        return None


def _run_leased(batch: IssueBatch, owner: str, seconds: int, *, max_chunks: int | None, chunk_rows: int | None,
                now: dt.datetime | None) -> str:
    config = current_app.config
    # The pools start while the first chunk is planned, if the rows left are worth them.
    parallel.warm_up(config, documents=batch.valid_rows - batch.issued_count)
    send_batch_mail(batch)  # a previous run may have stopped between a commit and its e-mails
    chunks = 0
    limit = chunk_rows or _chunk_size()
    signer: Signer | None = None
    upcoming: tuple[batches.ChunkPlan, Callable[[], None]] | None = None
    while True:
        try:
            batches.check_batch_can_issue(batch)
            # Read again for each chunk (the decrypted keys are cached): keys retired or declared compromised
            # while the batch runs sign nothing more, and with no key left the batch stops and says why.
            current = signer_for(batch.organisation, config)
        except BadgeHubError as error:
            return _stop(batch, owner, error, now)
        if signer is None or _keys_of(current) != _keys_of(signer):
            # A chunk planned ahead was signed with the keys that were active then: it is planned again.
            signer, upcoming = current, None
        try:
            # A chunk is planned in a read, signed on the pool outside any transaction, then stored in a short
            # write transaction: SQLite's one writer is held for the inserts only, not for the signatures. While
            # this process stores a chunk and writes its e-mails, the pool signs the next one (planned after it,
            # on other status-list indexes): both cores work.
            if upcoming is None:
                upcoming = _plan_and_sign(batch, signer, limit=limit, now=now)
            chunk, signed = upcoming
            signed()
            upcoming = None
            if chunk.row_ids and (max_chunks is None or chunks + 1 < max_chunks):
                upcoming = _plan_and_sign(batch, signer, limit=limit, now=now, after=chunk)
            batches.renew_lease(batch, owner, seconds=seconds, now=now)
            handled = batches.store_pending_rows(batch, chunk, signer=signer, mailer=award_mail, config=config,
                                                 now=now)
            db.session.commit()
        except BadgeHubError as error:
            # What stops the whole chunk (its status list cannot be signed: the last key was just declared
            # compromised): its rows stay pending, and the batch page says why.
            return _stop(batch, owner, error, now)
        except Exception:
            db.session.rollback()
            raise
        send_batch_mail(batch)
        if not handled:
            break
        chunks += 1
        if max_chunks is not None and chunks >= max_chunks:
            batches.release_lease(batch, owner)
            db.session.commit()
            return batch.state.value
    batches.finish(batch, now=now)
    batches.release_lease(batch, owner)
    db.session.commit()
    return batch.state.value


def _keys_of(signer: Signer) -> tuple[str, str]:
    """Which keys ``signer`` signs with: its Data Integrity method and its token's ``kid`` name them."""
    return signer.identity.verification_method_id, signer.identity.jwt_kid


def _stop(batch: IssueBatch, owner: str, error: BadgeHubError, now: dt.datetime | None) -> str:
    """End the run on what stops the whole batch: ``failed`` with the error's code (the batch page words it),
    pending rows left pending for a retry."""
    db.session.rollback()
    batches.finish(batch, error_code=error.code, now=now)
    batches.release_lease(batch, owner)
    db.session.commit()
    return batch.state.value


def _plan_and_sign(batch: IssueBatch, signer: Signer, *, limit: int, now: dt.datetime | None,
                   after: batches.ChunkPlan | None = None) -> tuple[batches.ChunkPlan, Callable[[], None]]:
    """The next chunk planned (in a read transaction, ended here) and its signing started on the pool, with the
    QR codes of its e-mails; the function returned waits for them."""
    config = current_app.config
    with reading():
        chunk = batches.plan_pending_rows(batch, signer=signer, config=config, limit=limit, now=now, after=after)
        db.session.commit()
    # Each row's e-mail carries the QR code of its wallet offer: drawn by the pool with the row's signature, so
    # that the chunk's write transaction finds it ready.
    codes = bulk.QrCodes(lambda public_id: award_mail_link_of(public_id, config), QR_SCALE)
    return chunk, bulk.start_signing(chunk.plan, signer, config=config, codes=codes)


def resume_batches() -> list[int]:
    """Run every batch left queued or running (after a crash or a restart); returns their ids."""
    ids = batches.unfinished_batch_ids()
    db.session.rollback()
    for batch_id in ids:
        run_batch(batch_id)
    return ids


def refresh_lists() -> int:
    """Sign again the status lists that need it (:func:`~badgehub.issuing.status_lists.refresh_status_lists`)
    and commit; returns how many were signed. Scheduled every ``STATUS_LIST_REFRESH_SECONDS``."""
    try:
        result = refresh_status_lists(config=current_app.config)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.unsigned:
        log.warning("%s status lists could not be signed: their organisation has no active key", result.unsigned)
    return result.signed


def purge_mail() -> int:
    """Delete the outbox's messages delivered or abandoned longer than ``MAIL_RETENTION_DAYS`` ago and commit;
    returns how many. Scheduled with the status lists' refresh."""
    from badgehub.outbox.service import purge_old

    try:
        count = purge_old(config=current_app.config)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return count


def send_mail() -> int:
    """Deliver what the outbox holds and is due (each message claimed, sent, marked); returns how many left."""
    return deliver_pending(config=current_app.config).sent


TASKS: Final[dict[str, Callable[..., Any]]] = {
    "batches.run": run_batch,
    "batches.resume": resume_batches,
    "status_lists.refresh": refresh_lists,
    "mail.purge": purge_mail,
    "mail.send": send_mail,
    "pathways.award_completed": award_completed,
}

def run_task(name: str, *args: Any) -> Any:
    """Run the task ``name`` in the current application context, again after a transient database error
    (every task is safe to run twice), and leave the session clean."""
    task = TASKS[name]
    try:
        with writing():
            return run_with_retry(lambda: task(*args))
    finally:
        db.session.remove()
