"""Signals one part of the platform sends and others may subscribe to (Flask ships blinker).

The domains send them and know nothing of who listens; :mod:`badgehub.metrics` counts them.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace

_signals = Namespace()

# sender: the app; credential=the IssuedCredential, signed and stored (flushed) in the current transaction.
credential_issued = _signals.signal("credential-issued")
# sender: the app; verdict="verified" or the id of the first failed check ("proof", "status", "expiry"…).
verification_finished = _signals.signal("verification-finished")
# sender: the app; backend="file" or "smtp".
mail_sent = _signals.signal("mail-sent")
mail_failed = _signals.signal("mail-failed")


def verdict_of(report: Any) -> str:
    """The label of a verification report for counting: ``verified``, else the id of its first failed check
    (a short, fixed set: the pipeline's named steps)."""
    if report.verified:
        return "verified"
    failed = report.failed
    return str(failed[0].id) if failed else "not_verified"
