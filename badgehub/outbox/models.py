"""The mail outbox: every e-mail the platform sends, as a row, before and after it leaves."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # The bytes in a row of their own: claiming and marking a message update this row, and SQLite rewrites a
    # row whole, an award e-mail's 100 KB and more with it.
    body: Mapped[OutboxBody] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A sender holds the message until then; after a crash, another takes it when this has passed.
    claimed_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))

    @property
    def message(self) -> bytes:
        """The RFC 5322 bytes, as they are sent."""
        return self.body.raw


class OutboxBody(db.Model):  # type: ignore[name-defined,misc]
    """The bytes of an outbox message (deleted with it)."""

    __tablename__ = "mail_outbox_bodies"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("mail_outbox.id", ondelete="CASCADE"), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
