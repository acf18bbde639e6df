"""The observatory listens to issuing: its pre-aggregates follow every award and revocation.

Issuing sends signals (:mod:`badgehub.events`) and knows nothing of the observatory, so the import points one
way. :func:`init_app` is called by the factory; the receivers run in the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from badgehub import events
from badgehub.stats import service


def _on_issued(sender: Any, *, credentials: list[Any], **_: Any) -> None:
    service.count_issued(credentials)


def _on_revoked(sender: Any, *, credential: Any, **_: Any) -> None:
    service.credential_revoked(credential)


def init_app(app: Flask) -> None:
    """Count the credentials issued and revoked from now on (connecting twice is harmless: blinker keeps one
    connection per receiver)."""
    events.credentials_issued.connect(_on_issued)
    events.credential_revoked.connect(_on_revoked)
