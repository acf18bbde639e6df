"""The sender: delivers what the outbox holds, each message once, and marks it.

Like a job, it commits. A message is first *claimed* (a short lease, committed), then handed to the mail
server, then marked sent (committed). A crash between the hand-over and the mark leaves the claim to run out,
and the next sender delivers the message again with the same bytes and ``Message-ID``: the only case in which
a message leaves twice, and the receiving side can tell. A restart never sends what was marked sent. (The file
backend, a developer's or a demo's mailbox, marks a claimed group at once: there a crash may write again the
messages of the group being written, see :func:`deliver_many`.)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from badgehub.db import run_with_retry, utcnow, writing
from badgehub.extensions import db
from badgehub.mail import Mail, MailError, transmit
from badgehub.outbox import service
from badgehub.outbox.models import OutboxBody, OutboxMessage

log = logging.getLogger(__name__)

CLAIM = dt.timedelta(minutes=2)
CLAIM_GROUP = 100
MAX_ATTEMPTS = 6


@dataclass
class Delivery:
    """What a delivery round did: how many messages left, and the refs of those that could not."""

    sent: int = 0
    failed_refs: list[str | None] = field(default_factory=list)
    sent_ids: set[int] = field(default_factory=set)


def _claim(message_ids: list[int]) -> list[tuple[int, str | None, bytes]]:
    """Claim those of ``message_ids`` still to send and nobody else's, and return them (id, ref, bytes), by id.

    Its own short transaction, with SQLite's write lock taken at the start: two senders racing for one message
    queue for the lock, and the conditional update lets exactly one of them have it."""

    def claim() -> list[tuple[int, str | None, bytes]]:
        now = utcnow()
        refs = dict(db.session.execute(
            update(OutboxMessage).where(
                OutboxMessage.id.in_(message_ids), OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
            .values(claimed_until=now + CLAIM, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.ref)
            .execution_options(synchronize_session=False)).tuples().all())
        raws = dict(db.session.execute(select(OutboxBody.outbox_id, OutboxBody.raw).where(
            OutboxBody.outbox_id.in_(list(refs)))).tuples().all()) if refs else {}
        db.session.commit()
        return sorted((int(message_id), ref, bytes(raws[message_id])) for message_id, ref in refs.items())

    db.session.commit()  # whatever the caller read ends here (its writes were committed before delivering)
    with writing():
        return run_with_retry(claim, attempts=8)


def deliver(row: OutboxMessage, *, config: Mapping[str, Any], give_up: bool = False) -> bool:
    """Deliver one queued message now; False when another sender holds it or it already left.

    Raises :class:`~badgehub.mail.MailError` when the mail server refuses; the message is then tried again by a
    later round (after a backoff), or abandoned at once with ``give_up`` (somebody waiting was told to retry).
    """
    return deliver_by_id(inspect(row).identity[0], config=config, give_up=give_up)


def deliver_by_id(row_id: int, *, config: Mapping[str, Any], give_up: bool = False) -> bool:
    """:func:`deliver`, by the message's id."""
    claimed = _claim([row_id])
    if not claimed:  # sent, abandoned, held by another sender, or erased meanwhile
        return False
    message_id, _ref, raw = claimed[0]
    _transmit(message_id, raw, config=config, give_up=give_up)
    return True


def _transmit(message_id: int, raw: bytes, *, config: Mapping[str, Any], give_up: bool, mark: bool = True) -> None:
    # No transaction is open during the SMTP conversation (the claim committed). ``mark``: marked sent here;
    # otherwise the caller marks it (with the rest of its group).
    try:
        transmit(raw, config)
    except MailError as error:
        _note_failure(message_id, str(error), give_up)
        raise
    if mark:
        _mark_sent([message_id])


def _note_failure(message_id: int, error: str, give_up: bool) -> None:
    def note() -> None:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None:
            return
        message.last_error = error[:255]
        if give_up or message.attempts >= MAX_ATTEMPTS:
            message.failed_at = utcnow()
        else:
            # The claim doubles as the time of the next attempt: 1, 2, 4… minutes.
            message.claimed_until = utcnow() + dt.timedelta(minutes=2 ** (message.attempts - 1))
        db.session.commit()

    with writing():
        run_with_retry(note, attempts=8)


def _mark_sent(message_ids: list[int]) -> None:
    # The messages have left: losing this mark to a busy database would send them again once the claim runs
    # out, so the mark takes the write lock at its start and is tried again on a transient error.
    def mark() -> None:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                           .values(sent_at=utcnow(), claimed_until=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()

    if not message_ids:
        return
    db.session.rollback()
    with writing():
        run_with_retry(mark, attempts=8)


def deliver_pending(*, config: Mapping[str, Any], ref_prefix: str | None = None,
                    limit: int = 200) -> Delivery:
    """Deliver up to ``limit`` queued messages, oldest first (only those whose ``ref`` starts with
    ``ref_prefix`` when given); failures are counted, not raised."""
    now = utcnow()
    query = select(OutboxMessage.id, OutboxMessage.ref).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
    if ref_prefix is not None:
        query = query.where(OutboxMessage.ref.startswith(ref_prefix, autoescape=True))
    ids = [int(row.id) for row in db.session.execute(query.order_by(OutboxMessage.id).limit(limit))]
    return deliver_many(ids, config=config)


def deliver_many(ids: list[int], *, config: Mapping[str, Any]) -> Delivery:
    """Deliver the queued messages ``ids`` still to send and nobody else's, in order; failures are counted (with
    the ids of those that left in ``Delivery.sent_ids``), not raised."""
    db.session.commit()  # end the caller's read: messages are claimed in transactions of their own
    report = Delivery()
    # The file backend writes a message in well under a millisecond: its messages are claimed by the hundred
    # and marked sent together once the group is written (two transactions per hundred, not one per message);
    # a crash while a group is written writes again, with the same bytes and Message-ID, those of the group
    # already written. The file backend is a developer's or a demo's mailbox. An SMTP conversation can take
    # seconds and reaches a person: each message is claimed just before it and marked sent just after it, so
    # no claim runs out while it waits its turn, and a crash can send again only the message being handed over.
    one_by_one = config.get("MAIL_BACKEND") == "smtp"
    group = 1 if one_by_one else CLAIM_GROUP
    for start in range(0, len(ids), group):
        written: list[int] = []
        try:
            for message_id, ref, raw in _claim(ids[start:start + group]):
                try:
                    _transmit(message_id, raw, config=config, give_up=False, mark=one_by_one)
                except MailError:
                    log.warning("outbox message %s could not be delivered; it will be tried again", message_id)
                    report.failed_refs.append(ref)
                else:
                    written.append(message_id)
        finally:
            if not one_by_one:
                _mark_sent(written)
        report.sent += len(written)
        report.sent_ids.update(written)
    return report


def send_now(mail: Mail, *, config: Mapping[str, Any]) -> None:
    """Send ``mail`` at once (a person is waiting for it: a sign-in link, an invitation), recorded in the outbox.

    The message row rides on the caller's transaction: a caller that sends before committing (an invitation is
    kept only if its e-mail left) rolls it back with its own work; a caller that already committed gets it
    committed here. Raises :class:`~badgehub.mail.MailError` when it cannot leave; it is then marked failed,
    not retried behind the person's back (they were told to try again)."""
    clean = not _has_writes(db.session)
    row = service.queue(mail, config=config)
    row.attempts = 1
    try:
        transmit(row.message, config)
    except MailError as error:
        row.failed_at, row.last_error = utcnow(), str(error)[:255]
        db.session.flush()
        if clean:
            db.session.commit()
        raise
    row.sent_at = utcnow()
    db.session.flush()
    if clean:
        try:
            db.session.commit()
        except DBAPIError:
            # The message left; only its record is lost to a busy database. Not the person's failure.
            db.session.rollback()
            log.warning("an e-mail left but could not be recorded in the outbox")


def _has_writes(session: Any) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_FLUSHED))


_FLUSHED = "badgehub_flushed"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_flush(session: Session) -> None:
    session.info.pop(_FLUSHED, None)


def run_round(app: Any) -> Delivery:
    """One round of the background sender: deliver what is due, forget what is past its retention."""
    with app.app_context():
        try:
            report = deliver_pending(config=app.config)
            service.purge_old(config=app.config)
            db.session.commit()
            return report
        finally:
            db.session.remove()
