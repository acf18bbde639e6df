"""Recording audit events. The only way events are written."""

from __future__ import annotations

from typing import Any

from badgehub.audit.models import AuditEvent
from badgehub.extensions import db


def record(action: str, *, actor_id: int | None, organisation_id: int | None = None,
           territory_id: int | None = None, subject_type: str | None = None, subject_id: object = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append an audit event to the session (flushed with the rest of the unit of work).

    ``details`` must hold no secret and no personal data beyond ids: the trail outlives account erasure.
    """
    event = AuditEvent(
        action=action, actor_id=actor_id, organisation_id=organisation_id, territory_id=territory_id,
        subject_type=subject_type, subject_id=None if subject_id is None else str(subject_id),
        details=details or {},
    )
    db.session.add(event)
    return event
