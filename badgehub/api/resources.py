"""What ``/api/v1`` answers about achievements and credentials (JSON resources)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from badgehub.achievements.models import Achievement
from badgehub.achievements.service import achievement_url
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def credential_resource(credential: IssuedCredential, now: dt.datetime) -> dict[str, Any]:
    """The API's view of a credential (the organisation's own data: the recipient's address included)."""
    state = "revoked" if credential.is_revoked else "expired" if credential.is_expired(now) else "active"
    return {
        "id": credential.public_id,
        "url": issuing.credential_url(credential, current_app.config),
        "json_url": issuing.credential_url(credential, current_app.config, ".json"),
        "jwt_url": issuing.credential_url(credential, current_app.config, ".jwt"),
        "status": state,
        "achievement": credential.achievement.public_id,
        "achievement_version": credential.achievement_version.number,
        "recipient": {"email": credential.recipient_email, "name": credential.recipient_name},
        "holder_did": credential.holder_did,
        "issued_at": iso(credential.issued_at),
        "valid_from": iso(credential.valid_from),
        "valid_until": iso(credential.valid_until),
        "activity_start": iso(credential.activity_start),
        "activity_end": iso(credential.activity_end),
        "area": credential.area_id,
        "evidence_url": credential.evidence_url,
        "narrative": credential.narrative,
        "result": credential.result,
        "source": credential.source.value,
        "idempotency_key": credential.idempotency_key,
        "revoked_at": iso(credential.revoked_at),
        "revocation_reason": credential.revocation_reason.value if credential.revocation_reason else None,
        "revocation_note": credential.revocation_note,
    }


def achievement_resource(achievement: Achievement) -> dict[str, Any]:
    """The API's view of an achievement and its current version."""
    version = achievement.current_version
    return {
        "id": achievement.public_id,
        "url": achievement_url(achievement, current_app.config),
        "name": version.name if version else "",
        "description": version.description if version else "",
        "criteria": version.criteria_md if version else "",
        "achievement_type": version.achievement_type if version else "Badge",
        "tags": list(version.tags or []) if version else [],
        "language": version.in_language if version else None,
        "valid_for_days": version.valid_for_days if version else None,
        "version": version.number if version else None,
        "archived": achievement.is_archived,
        "created_at": iso(achievement.created_at),
    }
