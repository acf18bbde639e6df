"""Queueing e-mails in the outbox, in the caller's transaction, and forgetting them.

A message is queued in the same transaction as what it announces (a credential, a link): either both are
committed or neither, so a crash can neither lose the e-mail of something done nor mail about something undone.
Delivery is :mod:`badgehub.outbox.sender`'s. Like every service: flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_

from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import email_key
from badgehub.mail import Mail
from badgehub.outbox.mime import render
from badgehub.outbox.models import OutboxBody, OutboxMessage

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30


def queue(mail: Mail, *, config: Mapping[str, Any], ref: str | None = None,
          now: dt.datetime | None = None) -> OutboxMessage:
    """Add ``mail`` to the outbox, complete as it will be sent (with its ``Message-ID``). Flushes."""
    return queue_all([(mail, ref)], config=config, now=now)[0]


def queue_all(mails: Sequence[tuple[Mail, str | None]], *, config: Mapping[str, Any],
              now: dt.datetime | None = None) -> list[OutboxMessage]:
    """:func:`queue` for each ``(mail, ref)``, in one flush (a batch's chunk: one multi-row insert)."""
    return queue_written([(written(mail, config=config), ref) for mail, ref in mails], now=now)


@dataclass(frozen=True)
class WrittenMail:
    """An e-mail written as it will be sent (its ``Message-ID`` and bytes), not queued yet: what is costly in
    queueing is done before the transaction that queues it (a single award writes its e-mail before it takes
    the write lock)."""

    message_id: str
    recipient_key: str
    raw: bytes


def written(mail: Mail, *, config: Mapping[str, Any]) -> WrittenMail:
    """``mail`` written as it will be sent. Reads and writes nothing."""
    message_id, raw = render(mail, config["MAIL_FROM"])
    return WrittenMail(message_id, email_key(mail.to)[:254], raw)


def queue_written(mails: Sequence[tuple[WrittenMail, str | None]], *,
                  now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Add each ``(written mail, ref)`` to the outbox, in one flush."""
    moment = now or utcnow()
    rows = [OutboxMessage(message_id=mail.message_id, recipient_key=mail.recipient_key, ref=ref,
                          body=OutboxBody(raw=mail.raw), created_at=moment, attempts=0) for mail, ref in mails]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def retention(config: Mapping[str, Any]) -> dt.timedelta:
    """How long delivered (or abandoned) messages are kept: ``MAIL_RETENTION_DAYS``."""
    days = config.get("MAIL_RETENTION_DAYS")
    return dt.timedelta(days=max(0, int(days if days is not None else DEFAULT_RETENTION_DAYS)))


def purge_old(*, config: Mapping[str, Any], now: dt.datetime | None = None) -> int:
    """Delete the messages delivered or abandoned longer than the retention ago (rows, and the files of the
    file backend); returns how many rows went. Flushes."""
    cutoff = (now or utcnow()) - retention(config)
    result = db.session.execute(delete(OutboxMessage).where(
        or_(OutboxMessage.sent_at < cutoff, OutboxMessage.failed_at < cutoff))
        .execution_options(synchronize_session=False))
    db.session.flush()
    if config.get("MAIL_BACKEND") != "smtp":
        _delete_files(Path(config["OUTBOX_DIR"]), lambda path, _message: _older_than(path, cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase_personal_data(email_keys: set[str], *, config: Mapping[str, Any]) -> int:
    """Delete every message to one of ``email_keys`` (an erased person's): queued, sent or failed, and their
    copies in the file backend's folder. Returns how many rows went. Flushes."""
    keys = {key for key in email_keys if key}
    if not keys:
        return 0
    result = db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient_key.in_(keys))
                                .execution_options(synchronize_session=False))
    db.session.flush()
    if config.get("MAIL_BACKEND") != "smtp":
        _delete_files(Path(config["OUTBOX_DIR"]),
                      lambda _path, message: email_key(str(message.get("To") or "")) in keys
                      or any(key in str(message.get("To") or "").lower() for key in keys))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _older_than(path: Path, cutoff: dt.datetime) -> bool:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) < cutoff
    except OSError:
        return False


def _delete_files(folder: Path, doomed: Any) -> None:
    # The file backend is a developer's or a demo's mailbox; it must not outlive the data it copies.
    if not folder.is_dir():
        return
    parser = BytesParser(policy=policy.default)
    for path in folder.glob("*.eml"):
        try:
            message = parser.parsebytes(path.read_bytes(), headersonly=True)
            if doomed(path, message):
                path.unlink()
        except OSError:
            log.warning("could not read or delete %s in the outbox folder", path.name)
