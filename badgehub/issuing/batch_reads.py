"""Reading batches: an organisation's list, a batch's rows filtered, its progress, and its rows as CSV."""

from __future__ import annotations

from typing import Any, Final

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from badgehub.errors import NotFound
from badgehub.extensions import db
from badgehub.issuing import csv_rows
from badgehub.issuing.batch_messages import column_label, problem_text
from badgehub.issuing.models import BatchRow, IssueBatch, RowState
from badgehub.organisations.models import Organisation

TEMPLATE_HEADER: Final = ("email", "name", "date", "end", "evidence", "narrative", "area", "result")


class BatchNotFound(NotFound):
    code = "batch_not_found"
    default_message = _l("There is no such list of participants in this organisation.")


def pending_count(batch: IssueBatch) -> int:
    return int(db.session.scalar(select(func.count()).select_from(BatchRow).where(
        BatchRow.batch_id == batch.id, BatchRow.state == RowState.PENDING)) or 0)


def get_batch_for(organisation: Organisation, batch_id: int) -> IssueBatch:
    """The organisation's batch ``batch_id``; another organisation's is :class:`BatchNotFound` too."""
    batch: IssueBatch | None = db.session.scalar(select(IssueBatch).where(
        IssueBatch.id == batch_id, IssueBatch.organisation_id == organisation.id))
    if batch is None:
        raise BatchNotFound()
    return batch


def batches_of(organisation: Organisation, *, limit: int = 50, offset: int = 0) -> list[IssueBatch]:
    """The organisation's batches, newest first."""
    return list(db.session.scalars(
        select(IssueBatch).where(IssueBatch.organisation_id == organisation.id)
        .order_by(IssueBatch.created_at.desc(), IssueBatch.id.desc()).limit(max(1, min(limit, 200)))
        .offset(max(0, offset))))


ROW_FILTERS: Final = ("problems", "issued", "previous", "failed", "pending")


def rows_of(batch: IssueBatch, *, show: str | None = None, limit: int = 200,
            offset: int = 0) -> tuple[list[BatchRow], int]:
    """Rows of a batch in file order, filtered by ``show`` (one of :data:`ROW_FILTERS`), and how many match."""
    query = select(BatchRow).where(BatchRow.batch_id == batch.id)
    states = {"problems": (RowState.SKIPPED_INVALID,), "issued": (RowState.ISSUED,),
              "previous": (RowState.DUPLICATE_PREVIOUS,), "failed": (RowState.FAILED,),
              "pending": (RowState.PENDING,)}.get(show or "")
    if states is not None:
        query = query.where(BatchRow.state.in_(states))
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(db.session.scalars(query.order_by(BatchRow.number).limit(max(1, min(limit, 1000)))
                                   .offset(max(0, offset))))
    return rows, total


def progress(batch: IssueBatch) -> dict[str, Any]:
    """The batch's state and counts, as the progress endpoint sends them."""
    handled = batch.issued_count + batch.duplicate_count + batch.failed_count
    to_handle = handled + (pending_count(batch) if not batch.is_over else 0)
    return {"id": batch.id, "state": batch.state.value, "over": batch.is_over, "rows": batch.total_rows,
            "issued": batch.issued_count, "previous": batch.duplicate_count, "invalid": batch.invalid_count,
            "failed": batch.failed_count, "handled": handled, "to_handle": to_handle,
            "mail_failures": batch.mail_failures}


def export_csv(batch: IssueBatch, *, credential_url: Any) -> str:
    """The batch's rows and what became of each, as CSV with every cell inert in spreadsheets.

    ``credential_url(credential)`` gives the public link of an issued credential.
    """
    header = ("row", "email", "name", "state", "credential", "problems")
    rows = db.session.scalars(select(BatchRow).where(BatchRow.batch_id == batch.id).order_by(BatchRow.number))
    lines = []
    for row in rows:
        email = row.recipient_email or str(row.raw.get("recipient_email", ""))
        name = row.recipient_name or str(row.raw.get("recipient_name", ""))
        link = credential_url(row.credential) if row.credential is not None else ""
        problems = "; ".join(f"{column_label(p.get('field'))}: {problem_text(p)}" for p in row.problems)
        lines.append((row.number, email, name, row.state.value, link, problems))
    return csv_rows.write_csv(header, lines)


def template_csv() -> str:
    """A CSV to fill in: the header the reader understands and one example row."""
    return csv_rows.write_csv(TEMPLATE_HEADER, [("lea.martin@example.org", "Léa Martin", "2025-03-31", "",
                                                 "", "", "", "")])
