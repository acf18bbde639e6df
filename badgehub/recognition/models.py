"""Recognition requests: a person asks an organisation to recognise something they did.

A :class:`RecognitionRequest` names the organisation asked, what is to be recognised (one of its badges, or a
free description of the learning, ``achievement_id`` None) and where it stands (:class:`RequestStatus`). Its
:class:`RequestEvidence` rows are links and files (files checked and cleaned by
:mod:`badgehub.recognition.evidence_files`, their bytes kept in the row); its :class:`RequestEvent` rows are
the conversation: what the learner wrote, each question, answer and decision, in order.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.achievements.models import Achievement
    from badgehub.issuing.models import IssuedCredential
    from badgehub.organisations.models import Organisation


class RequestStatus(enum.StrEnum):
    """Where a request stands. ``submitted`` is in the organisation's queue; ``more_asked`` waits for the
    learner's answer (which puts it back in the queue); the last three are final."""

    SUBMITTED = "submitted"
    MORE_ASKED = "more_asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.MORE_ASKED)


class EvidenceKind(enum.StrEnum):
    LINK = "link"
    FILE = "file"


class EventKind(enum.StrEnum):
    """One step of a request's conversation."""

    SUBMITTED = "submitted"  # the learner's description
    MORE_ASKED = "more_asked"  # the organisation's question
    ANSWERED = "answered"  # the learner's answer
    ACCEPTED = "accepted"  # the organisation's note, if any
    DECLINED = "declined"  # the reason
    WITHDRAWN = "withdrawn"


class RecognitionRequest(db.Model):  # type: ignore[name-defined,misc]
    """One request (see the module docstring)."""

    __tablename__ = "recognition_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # In addresses: short and unguessable (the pages still check who asks).
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The badge asked for; None when the learner described the learning in their own words.
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id", ondelete="SET NULL"),
                                                       index=True)
    # What the learner calls it (the badge's name at the time, or their own title).
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus, length=16), index=True)
    # Asked for a self-declared badge: accepted at once, without assessment.
    self_declared: Mapped[bool] = mapped_column(default=False)
    # The language of the page the request was made from (the learner's e-mails fall back to it).
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set when accepted: what was awarded.
    issued_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    achievement: Mapped[Achievement | None] = relationship()
    issued_credential: Mapped[IssuedCredential | None] = relationship()
    evidence: Mapped[list[RequestEvidence]] = relationship(
        back_populates="request", order_by="RequestEvidence.id", cascade="all, delete-orphan",
        passive_deletes=True)
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RequestEvidence(db.Model):  # type: ignore[name-defined,misc]
    """A link or a file given with a request (or with an answer)."""

    __tablename__ = "recognition_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("recognition_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, length=8))
    url: Mapped[str | None] = mapped_column(String(500))
    # A file: its cleaned name, type decided from the bytes, size and digest of what is stored.
    filename: Mapped[str | None] = mapped_column(String(120))
    media_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Deferred: the pages list files, only the download reads them.
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    request: Mapped[RecognitionRequest] = relationship(back_populates="evidence")


class RequestEvent(db.Model):  # type: ignore[name-defined,misc]
    """One message of the conversation about a request."""

    __tablename__ = "recognition_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("recognition_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, length=16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    request: Mapped[RecognitionRequest] = relationship(back_populates="events")
    author: Mapped[User | None] = relationship()
