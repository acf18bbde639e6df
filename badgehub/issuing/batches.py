"""CSV batches: a list of participants checked row by row, confirmed, then issued row by row.

* **Draft** (:func:`create_draft`): the file is read (:mod:`badgehub.issuing.csv_rows`), every row is checked
  with :func:`badgehub.issuing.service.check_award` (the one source of the award rules) plus the batch rules
  (an address twice in the file, a date that is not a date, an unknown area), and stored as a
  :class:`BatchRow` with its problems. Nothing is issued; the draft *is* the preview.
* **Idempotency.** Each valid row gets a key derived from what it awards (organisation, achievement,
  recipient's e-mail key, activity dates, evidence, narrative, area, result: see :func:`row_key`; the name is
  left out because it is not in the signed document). :func:`issue_credential` replays a key already used, so
  the same file uploaded twice, a confirmation clicked twice or a job resumed after a crash never issue twice.
  The draft already marks the rows issued earlier (``duplicate_previous``, with the credential).
* **Confirm** (:func:`confirm`) moves a draft to ``queued``; a worker then issues it chunk after chunk,
  committing each (see :mod:`badgehub.jobs.tasks`): a chunk is planned in a read (:func:`plan_pending_rows`),
  signed on every core (:mod:`badgehub.issuing.bulk`) and stored in a short write (:func:`store_pending_rows`);
  :func:`issue_pending_rows` does the three in one transaction. A row is ``pending`` until the chunk
  that issued it commits, so a crash leaves it pending and it is issued on resume, once.
* **Erasure** (:func:`erase_personal_data`) blanks the addresses and names kept in batch rows.

Services flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from badgehub import events
from badgehub.achievements.models import Achievement
from badgehub.achievements.service import require_issuable
from badgehub.audit.service import record
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, Conflict, ValidationError
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.issuing import bulk, csv_rows, parallel
from badgehub.issuing.batch_leases import (
    DEFAULT_LEASE_SECONDS,
    QUEUE_LEASE_OWNER,
    LeaseLost,
    orphaned_batch_ids,
    release_lease,
    renew_lease,
    take_lease,
)
from badgehub.issuing.batch_messages import column_label, problem_text, refusal_message, rule_problem
from badgehub.issuing.batch_reads import (
    ROW_FILTERS,
    TEMPLATE_HEADER,
    BatchNotFound,
    batches_of,
    export_csv,
    get_batch_for,
    pending_count,
    progress,
    rows_of,
    template_csv,
)
from badgehub.issuing.errors import WrongOrganisation
from badgehub.issuing.models import BatchRow, BatchState, CredentialSource, IssueBatch, IssuedCredential, RowState
from badgehub.issuing.notify import AwardMailer, award_notice, award_notices
from badgehub.issuing.service import AwardInput, Signer, check_award, issuing_areas
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import require_good_standing

# Leases and reads moved to batch_leases.py and batch_reads.py; named here too, for the callers that know this
# module as ``batches``.
__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "QUEUE_LEASE_OWNER",
    "ROW_FILTERS",
    "TEMPLATE_HEADER",
    "BatchNotFound",
    "LeaseLost",
    "batches_of",
    "column_label",
    "export_csv",
    "get_batch_for",
    "orphaned_batch_ids",
    "pending_count",
    "problem_text",
    "progress",
    "refusal_message",
    "release_lease",
    "renew_lease",
    "rows_of",
    "take_lease",
    "template_csv",
]

log = logging.getLogger(__name__)

DEFAULT_INLINE_ROWS: Final = 200
CHUNK_SIZE: Final = 50
MAX_FILENAME: Final = 255
# The service's field names, as the CSV calls them.
_FIELD_OF_AWARD: Final = {"area_id": "area"}
# Rows read per query when looking for earlier credentials (keeps the IN list within every database's limits).
_LOOKUP_SLICE: Final = 500


class CsvFileRefused(ValidationError):
    """The file cannot be read as a list of participants; ``details`` has the reader's code and figures."""

    code = "csv_refused"


class BatchNotDraft(Conflict):
    code = "batch_not_draft"
    default_message = _l("This list was already confirmed or cancelled.")


# ------------------------------------------------------------------------------------------------- drafts


def row_key(organisation_id: int, achievement_id: int, email: str, *, start: dt.datetime | None,
            end: dt.datetime | None, evidence_url: str | None, narrative: str | None, area_id: int | None,
            result: str | None) -> str:
    """The idempotency key of one award from a list: the same award gives the same key, whatever the file."""
    content = json.dumps([organisation_id, achievement_id, email_key(email),
                          start.isoformat() if start else None, end.isoformat() if end else None,
                          evidence_url, narrative, area_id, result], ensure_ascii=False, separators=(",", ":"))
    return "csv:" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:48]


def _limits(config: Mapping[str, Any]) -> dict[str, int]:
    return {"max_bytes": int(config.get("CSV_MAX_BYTES") or csv_rows.MAX_BYTES),
            "max_rows": int(config.get("CSV_MAX_ROWS") or csv_rows.MAX_ROWS)}


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def create_draft(organisation: Organisation, achievement: Achievement, source: bytes | str, *, filename: str = "",
                 actor_id: int | None, config: Mapping[str, Any],
                 now: dt.datetime | None = None) -> IssueBatch:
    """Read ``source`` (uploaded bytes or pasted text), check every row and store a draft batch (flushed).

    Raises :class:`WrongOrganisation` (404) for another organisation's achievement,
    :class:`~badgehub.organisations.errors.OrganisationSuspended`,
    :class:`~badgehub.achievements.errors.AchievementArchived`, and :class:`CsvFileRefused` for a file that
    cannot be read (its message says why). Rows with problems do not raise: they carry their problems.
    """
    moment = now or utcnow()
    if achievement.organisation_id != organisation.id:
        raise WrongOrganisation()
    require_good_standing(organisation)
    require_issuable(achievement)
    areas = issuing_areas(organisation)
    choices = [csv_rows.AreaChoice(a.id, a.code, a.name) for a in areas]
    try:
        parsed = csv_rows.read_csv(source, areas=choices, email_key=email_key, **_limits(config))
    except csv_rows.CsvRefused as error:
        raise CsvFileRefused(refusal_message(error), details={"csv": error.code, **error.params}) from error
    batch = IssueBatch(organisation_id=organisation.id, achievement_id=achievement.id, created_by_id=actor_id,
                       created_at=moment, filename=(filename or "")[:MAX_FILENAME], encoding=parsed.encoding,
                       delimiter={"\t": "tab"}.get(parsed.delimiter, parsed.delimiter), state=BatchState.DRAFT,
                       total_rows=len(parsed.rows))
    db.session.add(batch)
    db.session.flush()
    rows = [_draft_row(batch, organisation, achievement, parsed_row, moment) for parsed_row in parsed.rows]
    _mark_previous(organisation, rows)
    db.session.add_all(rows)
    _recount(batch, rows)
    record("batch.drafted", actor_id=actor_id, organisation_id=organisation.id, subject_type="batch",
           subject_id=batch.id, details={"achievement": achievement.public_id, "rows": batch.total_rows,
                                         "valid": batch.valid_rows, "encoding": parsed.encoding})
    db.session.flush()
    return batch


def _draft_row(batch: IssueBatch, organisation: Organisation, achievement: Achievement,
               parsed: csv_rows.ParsedRow, moment: dt.datetime) -> BatchRow:
    problems = [{"field": p.field, "code": p.code, "params": p.params} for p in parsed.problems]
    row = BatchRow(batch_id=batch.id, number=parsed.number, raw=dict(parsed.cells), problems=problems,
                   state=RowState.PENDING, mailed=False)
    row.recipient_email = parsed.email[:254]
    row.recipient_email_key = email_key(parsed.email)[:254]
    row.recipient_name = parsed.name[:200]
    broken = {p.field for p in parsed.problems}
    award = AwardInput(
        recipient_email=parsed.email, recipient_name=parsed.name,
        evidence_url=parsed.cells.get("evidence_url") or None, narrative=parsed.cells.get("narrative") or None,
        activity_start=parsed.activity_start if "activity_start" not in broken else None,
        activity_end=parsed.activity_end if "activity_end" not in broken else None,
        # The area was matched against issuing_areas(organisation) by the reader already: check_award would
        # run that same query again for every row (half of the preview's time on a list with areas).
        area_id=None, result=parsed.cells.get("result") or None)
    try:
        # create_draft checked the organisation's standing and the achievement just before, once for all rows.
        clean = check_award(organisation, achievement, award, now=moment, standing_checked=True)
    except ValidationError as error:
        for name, message in (error.details.get("fields") or {}).items():
            column = _FIELD_OF_AWARD.get(name, name)
            if column not in broken:
                problems.append({"field": column, **rule_problem(message)})
        clean = None
    if problems or clean is None:
        row.state = RowState.SKIPPED_INVALID
        row.problems = problems
        return row
    row.recipient_email = clean.recipient_email
    row.recipient_email_key = clean.recipient_email_key
    row.recipient_name = clean.recipient_name
    row.activity_start, row.activity_end = clean.activity_start, clean.activity_end
    row.evidence_url, row.narrative, row.result = clean.evidence_url, clean.narrative, clean.result
    row.area_id = parsed.area_id
    row.idempotency_key = row_key(organisation.id, achievement.id, clean.recipient_email,
                                  start=clean.activity_start, end=clean.activity_end,
                                  evidence_url=clean.evidence_url, narrative=clean.narrative,
                                  area_id=row.area_id, result=clean.result)
    return row


def _mark_previous(organisation: Organisation, rows: Sequence[BatchRow]) -> None:
    """Mark the rows whose award was already issued (by an earlier batch: same idempotency key)."""
    by_key = {row.idempotency_key: row for row in rows if row.idempotency_key}
    keys = list(by_key)
    for start in range(0, len(keys), _LOOKUP_SLICE):
        found = db.session.execute(select(IssuedCredential.idempotency_key, IssuedCredential.id).where(
            IssuedCredential.organisation_id == organisation.id,
            IssuedCredential.idempotency_key.in_(keys[start:start + _LOOKUP_SLICE])))
        for key, credential_id in found:
            row = by_key[key]
            row.state = RowState.DUPLICATE_PREVIOUS
            row.credential_id = credential_id
            row.mailed = True  # they got it the first time


def _recount(batch: IssueBatch, rows: Sequence[BatchRow] | None = None) -> None:
    if rows is None:
        counts = dict(db.session.execute(select(BatchRow.state, func.count()).where(BatchRow.batch_id == batch.id)
                                         .group_by(BatchRow.state)).tuples().all())
    else:
        counts = {}
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
    batch.issued_count = counts.get(RowState.ISSUED, 0)
    batch.duplicate_count = counts.get(RowState.DUPLICATE_PREVIOUS, 0)
    batch.invalid_count = counts.get(RowState.SKIPPED_INVALID, 0)
    batch.failed_count = counts.get(RowState.FAILED, 0)
    pending = counts.get(RowState.PENDING, 0)
    if batch.state is BatchState.DRAFT:
        batch.valid_rows = pending
    batch.total_rows = sum(counts.values())


def recount(batch: IssueBatch) -> IssueBatch:
    """Bring the batch's counts in line with its rows (flushes)."""
    db.session.flush()
    _recount(batch)
    db.session.flush()
    return batch


# ------------------------------------------------------------------------------------------ confirm, run


def lock_batch(batch_id: int) -> IssueBatch | None:
    """The batch, read again under its row lock (PostgreSQL), or None when it no longer exists."""
    found: IssueBatch | None = db.session.scalars(
        select(IssueBatch).where(IssueBatch.id == batch_id).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    return found


def confirm(batch: IssueBatch, *, actor_id: int | None, now: dt.datetime | None = None) -> IssueBatch:
    """Confirm a draft: it becomes ``queued`` for a worker (flushed). Confirming a batch that is already
    confirmed changes nothing (a double click). Raises :class:`BatchNotDraft` for a cancelled draft, and
    ``OrganisationSuspended`` / ``AchievementArchived`` when the organisation may no longer issue it."""
    locked = lock_batch(batch.id) or batch
    if locked.state in (BatchState.QUEUED, BatchState.RUNNING, BatchState.DONE, BatchState.FAILED):
        return locked
    if locked.state is not BatchState.DRAFT:
        raise BatchNotDraft()
    require_good_standing(locked.organisation)
    require_issuable(locked.achievement)
    locked.state = BatchState.QUEUED
    locked.confirmed_by_id = actor_id
    locked.queued_at = now or utcnow()
    record("batch.confirmed", actor_id=actor_id, organisation_id=locked.organisation_id, subject_type="batch",
           subject_id=locked.id, details={"rows": locked.valid_rows})
    db.session.flush()
    return locked


def cancel(batch: IssueBatch, *, actor_id: int | None) -> IssueBatch:
    """Abandon a draft (nothing was issued). Raises :class:`BatchNotDraft` once it is confirmed."""
    locked = lock_batch(batch.id) or batch
    if locked.state is BatchState.CANCELLED:
        return locked
    if locked.state is not BatchState.DRAFT:
        raise BatchNotDraft()
    locked.state = BatchState.CANCELLED
    locked.finished_at = utcnow()
    record("batch.cancelled", actor_id=actor_id, organisation_id=locked.organisation_id, subject_type="batch",
           subject_id=locked.id, details={})
    db.session.flush()
    return locked


def retry_failed(batch: IssueBatch, *, actor_id: int | None) -> int:
    """Put the batch's failed rows back in the queue (and the batch with them); returns how many. A batch that
    failed as a whole (say the organisation was suspended) is queued again too. Flushes."""
    locked = lock_batch(batch.id) or batch
    if locked.state in (BatchState.DRAFT, BatchState.CANCELLED):
        raise BatchNotDraft()
    require_good_standing(locked.organisation)
    require_issuable(locked.achievement)
    result: Any = db.session.execute(update(BatchRow).where(BatchRow.batch_id == locked.id,
                                                            BatchRow.state == RowState.FAILED)
                                     .values(state=RowState.PENDING, error_code=None))
    moved = result.rowcount or 0
    if moved or pending_count(locked):
        locked.state = BatchState.QUEUED
        locked.error_code = None
        locked.queued_at = utcnow()
        locked.finished_at = None
    record("batch.retried", actor_id=actor_id, organisation_id=locked.organisation_id, subject_type="batch",
           subject_id=locked.id, details={"rows": int(moved)})
    recount(locked)
    return int(moved)


def start_running(batch: IssueBatch, *, now: dt.datetime | None = None) -> bool:
    """Mark a queued (or interrupted) batch as running; False when there is nothing to run. Flushes."""
    if batch.state not in (BatchState.QUEUED, BatchState.RUNNING):
        return False
    if batch.state is BatchState.QUEUED:
        batch.state = BatchState.RUNNING
        batch.started_at = batch.started_at or now or utcnow()
    db.session.flush()
    return True


def check_batch_can_issue(batch: IssueBatch) -> None:
    """Raise what stops the whole batch: the organisation suspended, the achievement archived."""
    require_good_standing(batch.organisation)
    require_issuable(batch.achievement)


def _pending(batch: IssueBatch, limit: int, *, lock: bool, after: int | None = None) -> list[BatchRow]:
    query = (select(BatchRow).where(BatchRow.batch_id == batch.id, BatchRow.state == RowState.PENDING)
             .order_by(BatchRow.number).limit(limit))
    if after is not None:
        query = query.where(BatchRow.number > after)
    return list(db.session.scalars(query.with_for_update(skip_locked=True) if lock else query))


def _award_of(row: BatchRow) -> bulk.BulkAward:
    return bulk.BulkAward(AwardInput(
        recipient_email=row.recipient_email, recipient_name=row.recipient_name, evidence_url=row.evidence_url,
        narrative=row.narrative, activity_start=_date(row.activity_start), activity_end=_date(row.activity_end),
        area_id=row.area_id, result=row.result), row.idempotency_key)


@dataclass
class ChunkPlan:
    """The next pending rows of a batch (their ids, in row order) and the plan of their awards."""

    row_ids: list[int]
    plan: bulk.Plan
    last_number: int | None = None

    @property
    def indexes(self) -> tuple[int | None, set[int]]:
        """``(status list id, indexes)`` the plan draws: what the plan of the chunk after it must not draw."""
        return self.plan.status_list_id, {item.index for item in self.plan.planned}


def plan_pending_rows(batch: IssueBatch, *, signer: Signer, config: Mapping[str, Any], limit: int = CHUNK_SIZE,
                      now: dt.datetime | None = None, after: ChunkPlan | None = None) -> ChunkPlan:
    """Plan the awards of up to ``limit`` pending rows (:func:`badgehub.issuing.bulk.plan`). Reads only: the
    caller may end its transaction, sign (:func:`badgehub.issuing.bulk.sign`), then store the chunk in a short
    write transaction with :func:`store_pending_rows`.

    ``after``: a chunk planned but not stored yet (the job stores it while the pool signs this one): the rows
    after its last, and none of its status-list indexes. Should it not be stored first after all, the rows
    pending then differ from this plan's, and :func:`store_pending_rows` plans them again."""
    if after is not None and after.last_number is None:
        return ChunkPlan([], bulk.plan(batch.organisation, batch.achievement, [], signer=signer, now=now,
                                       config=config))
    rows = _pending(batch, limit, lock=False, after=after.last_number if after is not None else None)
    return ChunkPlan([row.id for row in rows],
                     bulk.plan(batch.organisation, batch.achievement, [_award_of(row) for row in rows],
                               signer=signer, now=now, config=config,
                               reserved=after.indexes if after is not None else (None, ())),
                     rows[-1].number if rows else None)


def store_pending_rows(batch: IssueBatch, chunk: ChunkPlan, *, signer: Signer, mailer: AwardMailer,
                       config: Mapping[str, Any], now: dt.datetime | None = None) -> list[BatchRow]:
    """Store a signed chunk and mark its rows (flushed, not committed); returns the rows handled. Each issued
    row's e-mail, worded by ``mailer``, is queued with it.

    Each row is its own unit: a row whose award is now refused (the area is no longer the organisation's…)
    becomes ``skipped_invalid`` with the reason, one that fails otherwise ``failed`` with the error code; both
    leave nothing behind. A replayed key is ``issued`` when this batch issued it (a resumed chunk) and
    ``duplicate_previous`` when an earlier one did. Rows no longer pending (another run took them) are left
    alone; when the rows differ from the plan's, the plan is dropped and the rows pending now are issued here.
    Other exceptions propagate (the caller rolls the chunk back; its rows stay pending). ``config`` is the app's.
    """
    rows = _pending(batch, max(1, len(chunk.row_ids)), lock=True)
    actor_id = batch.confirmed_by_id or batch.created_by_id
    awards = [_award_of(row) for row in rows]
    prepared = chunk.plan
    if [row.id for row in rows] != chunk.row_ids:
        prepared = bulk.plan(batch.organisation, batch.achievement, awards, signer=signer, now=now, config=config)
        bulk.sign(prepared, signer, config=config)
    with events.issued_together():  # announced (and counted by the observatory) once for the chunk
        outcomes = bulk.store(prepared, batch.organisation, batch.achievement, awards, signer=signer,
                              actor_id=actor_id, source=CredentialSource.CSV, batch_id=batch.id, config=config)
        to_mail = []
        for row, outcome in zip(rows, outcomes, strict=True):
            credential = _mark_row(batch, row, outcome)
            if credential is not None:
                to_mail.append((row, credential))
        _queue_rows_mail(batch, to_mail, config, mailer, drawn=prepared.drawn_codes())
    recount(batch)
    return rows


def issue_pending_rows(batch: IssueBatch, *, signer: Signer, mailer: AwardMailer, config: Mapping[str, Any],
                       limit: int = CHUNK_SIZE, now: dt.datetime | None = None) -> list[BatchRow]:
    """Plan, sign and store up to ``limit`` pending rows of ``batch`` in the caller's transaction, in row order,
    and return them (see :func:`store_pending_rows`)."""
    chunk = plan_pending_rows(batch, signer=signer, config=config, limit=limit, now=now)
    bulk.sign(chunk.plan, signer, config=config)
    return store_pending_rows(batch, chunk, signer=signer, mailer=mailer, config=config, now=now)


def _mark_row(batch: IssueBatch, row: BatchRow, outcome: bulk.Outcome) -> IssuedCredential | None:
    """Mark ``row`` with its outcome; returns the credential whose e-mail is to be queued with it, if any."""
    if isinstance(outcome, ValidationError):
        row.state = RowState.SKIPPED_INVALID
        row.error_code = outcome.code
        fields = outcome.details.get("fields") or {"": outcome.message}
        row.problems = [*row.problems, *({"field": _FIELD_OF_AWARD.get(k, k) or None, "code": "invalid",
                                          "message": str(v)} for k, v in fields.items())]
    elif isinstance(outcome, BadgeHubError):
        row.state = RowState.FAILED
        row.error_code = outcome.code
    else:
        credential = outcome.credential
        row.credential_id = credential.id
        row.state = RowState.ISSUED if credential.batch_id == batch.id else RowState.DUPLICATE_PREVIOUS
        to_mail = row.state is RowState.ISSUED and not row.mailed
        row.mailed = True
        return credential if to_mail else None
    return None


def _queue_rows_mail(batch: IssueBatch, rows: Sequence[tuple[BatchRow, IssuedCredential]],
                     config: Mapping[str, Any], mailer: AwardMailer,
                     drawn: Mapping[str, tuple[str, bytes]] | None = None) -> None:
    """:func:`queue_row_mail` for each of a chunk's rows just issued, their notices read together and their QR
    codes drawn on every core, unless ``drawn`` with the signatures (by public id: the job's chunks,
    :class:`~badgehub.issuing.bulk.QrCodes`)."""
    from badgehub.outbox.service import queue_all

    def draw_qr(texts: Sequence[str], scale: int) -> list[bytes]:
        # Those not drawn with their signatures: a chunk planned again, the awards stored one by one (an
        # organisation's first opens its list). Too few to start QR processes for.
        return parallel.qr_pngs(texts, scale, config=config, on_signing_pool=True)

    notices = award_notices([credential for _row, credential in rows], config, draw_qr=draw_qr, drawn=drawn)
    mails = [(mailer(notice), mail_ref(batch, row)) for (row, _c), notice in zip(rows, notices, strict=True)]
    queue_all(mails, config=config)  # one multi-row insert for the chunk


def finish(batch: IssueBatch, *, error_code: str | None = None, now: dt.datetime | None = None) -> IssueBatch:
    """Close a batch: ``failed`` with ``error_code``, else ``done`` once no row is pending (flushes)."""
    recount(batch)
    if error_code is not None:
        batch.state = BatchState.FAILED
        batch.error_code = error_code[:64]
    elif pending_count(batch) == 0:
        batch.state = BatchState.DONE
        batch.error_code = None
    else:
        return batch
    batch.finished_at = now or utcnow()
    record("batch.finished", actor_id=None, organisation_id=batch.organisation_id, subject_type="batch",
           subject_id=batch.id, details={"state": batch.state.value, "issued": batch.issued_count,
                                         "duplicates": batch.duplicate_count, "failed": batch.failed_count,
                                         "error": batch.error_code})
    db.session.flush()
    return batch


def mail_ref(batch: IssueBatch, row: BatchRow) -> str:
    """The outbox ``ref`` of a row's e-mail (what the batch's delivery round selects by)."""
    return f"batch:{batch.id}:row:{row.id}"


def queue_row_mail(batch: IssueBatch, row: BatchRow, config: Mapping[str, Any], mailer: AwardMailer,
                   credential: IssuedCredential | None = None) -> None:
    """Queue the e-mail of a row just issued (worded by ``mailer``), in the transaction that issues it (one outbox
    row): the chunk's commit makes the credential and its e-mail exist together, so a crash can never mail a
    person twice."""
    from badgehub.outbox.service import queue

    assert credential is not None or row.credential is not None or row.credential_id is not None
    credential = credential or row.credential or db.session.get(IssuedCredential, row.credential_id)
    assert credential is not None
    queue(mailer(award_notice(credential, config)), config=config, ref=mail_ref(batch, row))


def rows_to_mail(batch: IssueBatch, limit: int = 500) -> list[BatchRow]:
    """Rows issued by this batch whose recipient was not mailed yet (after a commit, or after a crash).

    They are locked until the caller commits (PostgreSQL), and rows another run holds are skipped: two runs of
    one batch at once (two processes resuming it) never mail one person twice."""
    return list(db.session.scalars(select(BatchRow).where(
        BatchRow.batch_id == batch.id, BatchRow.state == RowState.ISSUED, BatchRow.mailed.is_(False),
        BatchRow.credential_id.is_not(None)).order_by(BatchRow.number).limit(limit)
        .with_for_update(skip_locked=True).options(selectinload(BatchRow.credential))))


def unfinished_batch_ids() -> list[int]:
    """Batches confirmed but not over (queued, or running when their worker stopped): what to resume."""
    return list(db.session.scalars(select(IssueBatch.id).where(
        IssueBatch.state.in_((BatchState.QUEUED, BatchState.RUNNING))).order_by(IssueBatch.id)))


# ------------------------------------------------------------------------------------------------ erasure


def erase_personal_data(email_keys: set[str]) -> int:
    """Blank the addresses and names kept in batch rows for these e-mail keys (an erased account's); return
    how many rows were blanked. The credentials themselves are the issuing erasure's concern. Flushes."""
    keys = {k for k in email_keys if k}
    if not keys:
        return 0
    total = 0
    candidates = list(db.session.scalars(select(BatchRow).where(BatchRow.recipient_email_key.in_(keys))))
    for row in candidates:
        row.recipient_email = ""
        row.recipient_email_key = ""
        row.recipient_name = ""
        row.raw = {k: ("" if k in ("recipient_email", "recipient_name", "first_name", "last_name") else v)
                   for k, v in row.raw.items()}
        total += 1
    db.session.flush()
    return total
