"""Signals one part of the platform sends and others may subscribe to (Flask ships blinker).

The domains send them and know nothing of who listens, so the imports point one way: issuing sends, and
:mod:`badgehub.metrics` and the observatory (:mod:`badgehub.stats.subscribers`) listen. Receivers of the
issuing signals run in the sender's transaction: what they write commits or rolls back with the award.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from blinker import Namespace

_signals = Namespace()

# sender: None; credential=the IssuedCredential, signed and stored (flushed) in the current transaction.
credential_issued = _signals.signal("credential-issued")
# sender: None; credentials=[IssuedCredential, ...] issued (flushed) in the current transaction: each one as it
# is issued, or all those of an issued_together() block when it ends (the observatory counts them in one go).
credentials_issued = _signals.signal("credentials-issued")
# sender: None; credential=the IssuedCredential just marked revoked (flushed) in the current transaction.
credential_revoked = _signals.signal("credential-revoked")
# Recognition (issue 17). Plain values, so the observatory needs no import of the sending domain; receivers
# run in the sender's transaction. Each may also carry occurred_at=datetime (aware, UTC), the moment of the
# change, when it is not now (the observatory counts it in that month).
# sender: None; endorsement_id=int, kind="achievement"|"profile"|"credential", endorser_organisation_id=int|None
# (None: a person or the territory), endorsed_organisation_id=int|None, territory_id=int|None.
endorsement_issued = _signals.signal("endorsement-issued")
# sender: None; request_id=int, organisation_id=int, status="submitted"|"more_asked"|"accepted"|"declined"|
# "withdrawn" (by the learner), self_declared=bool. A learner's answer puts a request back to "submitted": count
# requests by request_id, not by "submitted" signals. A self-declared badge sends "submitted" then "accepted".
recognition_request_changed = _signals.signal("recognition-request-changed")
# sender: None; pathway_id=int, owner_organisation_id=int|None, territory_id=int|None, holder_key=str (the
# recipient's stable key, as issuing uses), completed=bool (False: progress changed, True: completed, awarded).
pathway_progressed = _signals.signal("pathway-progressed")
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


_together: ContextVar[list[Any] | None] = ContextVar("badgehub_issued_together", default=None)


def announce_issued(credential: Any) -> None:
    """Tell the subscribers that ``credential`` was just issued (flushed, in the issuing transaction):
    :data:`credential_issued` at once, :data:`credentials_issued` now or at the end of the enclosing
    :func:`issued_together` block."""
    credential_issued.send(credential=credential)
    pending = _together.get()
    if pending is not None:
        pending.append(credential)
    else:
        credentials_issued.send(credentials=[credential])


@contextmanager
def issued_together() -> Iterator[None]:
    """Announce the credentials issued inside the block in one :data:`credentials_issued` when it ends (what a
    CSV batch chunk does: the observatory then writes a few statements per chunk instead of ten per
    credential). If the block raises, nothing is announced (the caller rolls its transaction back). A block
    inside another adds its credentials to the outer one."""
    pending: list[Any] = []
    outer = _together.get()
    token = _together.set(pending)
    try:
        yield
    finally:
        _together.reset(token)
    if outer is not None:
        outer.extend(pending)
    elif pending:
        credentials_issued.send(credentials=pending)
