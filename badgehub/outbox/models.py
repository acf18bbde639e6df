"""The mail outbox: every e-mail the platform sends, as a row, before and after it leaves."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from badgehub.db import db, utcnow


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """One e-mail, stored complete (RFC 5322 bytes, its ``Message-ID`` inside) when it is decided, delivered
    later by the sender, kept ``MAIL_RETENTION_DAYS`` after delivery, and deleted with its recipient's data."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # email_key of the recipient: what an erasure deletes by.
    recipient_key: Mapped[str] = mapped_column(String(254), index=True)
    # What the message is about, for the code that queued it (``batch:<id>:row:<id>``); never personal.
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A sender holds the message until then; after a crash, another takes it when this has passed.
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))
