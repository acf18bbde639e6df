"""Pathways listen to issuing: every award may move a holder along a pathway, or complete it.

:func:`init_app` is called by the factory; the receivers run in the sender's transaction, with the settings of
the application that issues (the services take them as an argument).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from badgehub import events
from badgehub.issuing.models import ERASED_RECIPIENT_PREFIX
from badgehub.mails.awards import queue_notification
from badgehub.pathways import award
from badgehub.pathways.service import completion_of, holder_keys, pathways_with_steps


def _on_issued(sender: Any, *, credentials: list[Any], **_: Any) -> None:
    config = current_app.config
    award.credentials_issued(credentials, config=config,
                             notify=lambda credential: queue_notification(credential, config))


def _on_revoked(sender: Any, *, credential: Any, **_: Any) -> None:
    key = credential.recipient_email_key
    if not key or key.startswith(ERASED_RECIPIENT_PREFIX):
        return
    keys = None
    for pathway in pathways_with_steps({credential.achievement_id}, for_pages=False):
        keys = keys or holder_keys(key)
        if completion_of(pathway, keys) is None:  # a completed pathway stays completed
            events.pathway_progressed.send(None, pathway_id=pathway.id, owner_organisation_id=pathway.organisation_id,
                                           territory_id=pathway.territory_id, holder_key=key, completed=False)


def init_app(app: Flask) -> None:
    """Follow the credentials issued and revoked from now on (connecting twice is harmless: blinker keeps one
    connection per receiver)."""
    events.credentials_issued.connect(_on_issued)
    events.credential_revoked.connect(_on_revoked)
