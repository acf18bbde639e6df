"""The observatory listens to issuing and to recognition: its pre-aggregates follow every award and revocation,
every endorsement made, recognition request changed and pathway completed.

The other domains send signals (:mod:`badgehub.events`) and know nothing of the observatory, so the imports
point one way. :func:`init_app` is called by the factory; the receivers run in the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from badgehub import events
from badgehub.stats import recognition, service


def _on_issued(sender: Any, *, credentials: list[Any], **_: Any) -> None:
    service.count_issued(credentials)


def _on_revoked(sender: Any, *, credential: Any, **_: Any) -> None:
    service.credential_revoked(credential)


def _on_endorsement(sender: Any, *, endorsement_id: int, kind: str, endorser_organisation_id: int | None,
                    endorsed_organisation_id: int | None, territory_id: int | None = None, **extra: Any) -> None:
    recognition.count_endorsement(endorsement_id=endorsement_id, kind=kind,
                                  endorser_organisation_id=endorser_organisation_id,
                                  endorsed_organisation_id=endorsed_organisation_id, territory_id=territory_id,
                                  occurred_at=extra.get("occurred_at"))


def _on_request(sender: Any, *, request_id: int, organisation_id: int, status: str, self_declared: bool = False,
                **extra: Any) -> None:
    recognition.count_request(request_id=request_id, organisation_id=organisation_id, status=status,
                              self_declared=self_declared, occurred_at=extra.get("occurred_at"))


def _on_pathway(sender: Any, *, pathway_id: int, owner_organisation_id: int | None, territory_id: int | None,
                holder_key: str, completed: bool, **extra: Any) -> None:
    recognition.count_pathway(pathway_id=pathway_id, owner_organisation_id=owner_organisation_id,
                              territory_id=territory_id, holder_key=holder_key, completed=completed,
                              occurred_at=extra.get("occurred_at"))


def init_app(app: Flask) -> None:
    """Count the credentials issued and revoked, and the recognition made, from now on (connecting twice is
    harmless: blinker keeps one connection per receiver)."""
    events.credentials_issued.connect(_on_issued)
    events.credential_revoked.connect(_on_revoked)
    events.endorsement_issued.connect(_on_endorsement)
    events.recognition_request_changed.connect(_on_request)
    events.pathway_progressed.connect(_on_pathway)
