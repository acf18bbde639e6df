"""The append-only audit trail: who did what, when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from badgehub.db import db, utcnow


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One recorded action. Rows are never updated or deleted (a trigger refuses it in the database too).

    ``actor_id`` and the subject ids carry no foreign key on purpose: erasing an account must not rewrite
    history, and an id without its person is no longer personal data.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[int | None] = mapped_column(index=True)
    territory_id: Mapped[int | None] = mapped_column(index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditEventImmutable(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditEventImmutable("audit events are append-only")
