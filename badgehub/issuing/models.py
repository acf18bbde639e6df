"""Issued credentials and the status lists that can revoke them.

An :class:`IssuedCredential` keeps the signed documents **as issued** (DESIGN §1): ``document_json`` is the
exact JSON text that was signed with Data Integrity and ``vc_jwt`` the compact JWS over it. They are never
rebuilt; the other columns only index what pages, lists and statistics query.

A :class:`StatusList` is one W3C Bitstring Status List of an organisation, published at
``/issuers/<slug>/status/<number>``. Indexes are drawn at random and never reused: the pair
``(status_list_id, status_index)`` is unique, and a list that is full is left as it is while a new one opens.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.achievements.models import Achievement, AchievementVersion
    from badgehub.organisations.models import Organisation
    from badgehub.territory.models import Area


class CredentialSource(enum.StrEnum):
    """How a credential came to be issued (for the batch page, statistics and support)."""

    SINGLE = "single"  # the award form
    CSV = "csv"  # a CSV batch
    CLAIM = "claim"  # a claim campaign
    API = "api"  # the JSON API
    REQUEST = "request"  # a learner's request, approved by the organisation
    PATHWAY = "pathway"  # awarded on completing a pathway (badgehub.pathways.award)
    CLI = "cli"  # `badgehub issue`
    DEMO = "demo"  # the demo installation


class RevocationReason(enum.StrEnum):
    """Why a credential was revoked, from a short public list: this, and only this, is shown on its page
    (the issuer's own words go to the private note, which may name people)."""

    ERROR = "error"  # awarded by mistake, or with wrong details
    FRAUD = "fraud"
    LEARNER_REQUEST = "learner_request"  # withdrawn at the learner's request
    OTHER = "other"


class StatusPurpose(enum.StrEnum):
    """The ``statusPurpose`` of a list. Only ``revocation`` is used: see :mod:`badgehub.issuing.status_lists`."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusList(db.Model):  # type: ignore[name-defined,misc]
    """One bitstring of an organisation, its allocation count and the cached signed list credential.

    ``version`` grows each time a bit changes; the signed ``BitstringStatusListCredential`` is cached with the
    version and the key it was signed for (``signed_version``, ``signed_key_id``) and re-signed when either is
    stale or when its ``validUntil`` comes near.
    """

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Public: /issuers/<slug>/status/<number>, numbered 1, 2, … per organisation whatever the purpose.
    number: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[StatusPurpose] = mapped_column(str_enum(StatusPurpose, length=16))
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When a bit last changed (the list credential's validFrom).
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    signed_credential: Mapped[str | None] = mapped_column(Text)
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signed_key_id: Mapped[str | None] = mapped_column(String(32))
    signed_valid_until: Mapped[dt.datetime | None]
    signed_etag: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship()

    @property
    def is_full(self) -> bool:
        return self.allocated >= self.size


ERASED_RECIPIENT_PREFIX: Final = "erased:"
"""How ``recipient_email_key`` starts once the recipient erased their account (no address can: it has no "@")."""


class IssuedCredential(db.Model):  # type: ignore[name-defined,misc]
    """One award to one person, with its signed documents as issued."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        UniqueConstraint("organisation_id", "idempotency_key"),
        Index("ix_issued_credentials_organisation_issued", "organisation_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short and unguessable: printed in QR codes, the address /c/<public_id>.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    # The credential's own id (urn:uuid:…), inside the signed documents.
    credential_id: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    achievement_version_id: Mapped[int] = mapped_column(ForeignKey("achievement_versions.id"), index=True)
    # Private: the document only holds a salted hash of it.
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_email_key: Mapped[str] = mapped_column(String(254), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    holder_did: Mapped[str | None] = mapped_column(String(500))
    # The exact JSON text signed with Data Integrity, and the VC-JWT over it: served byte for byte.
    document_json: Mapped[str] = mapped_column(Text)
    vc_jwt: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime | None]
    awarded_date: Mapped[dt.datetime]
    activity_start: Mapped[dt.datetime | None]
    activity_end: Mapped[dt.datetime | None]
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    narrative: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[CredentialSource] = mapped_column(str_enum(CredentialSource, length=16))
    # The CSV batch that issued it (claim campaigns keep their own link, from the claim).
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("issue_batches.id", ondelete="SET NULL"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[dt.datetime | None]
    revocation_reason: Mapped[RevocationReason | None] = mapped_column(str_enum(RevocationReason))
    # The issuer's words about the revocation: for the organisation's records only, never published.
    revocation_note: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    achievement: Mapped[Achievement] = relationship()
    achievement_version: Mapped[AchievementVersion] = relationship()
    area: Mapped[Area | None] = relationship()
    status_list: Mapped[StatusList] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        """True when the credential has a validity end and it has passed."""
        return self.valid_until is not None and self.valid_until <= (now or utcnow())

    def __repr__(self) -> str:
        return f"<IssuedCredential {self.public_id} organisation_id={self.organisation_id}>"


# ------------------------------------------------------------------------------------------- CSV batches


class BatchState(enum.StrEnum):
    """Where a CSV batch is: previewed (draft), waiting for or in the hands of a worker, or over."""

    DRAFT = "draft"  # uploaded and checked; nothing issued until someone confirms
    QUEUED = "queued"  # confirmed, waiting for a worker
    RUNNING = "running"  # a worker is issuing its rows (or died doing so: it is resumed)
    DONE = "done"  # every row was handled
    FAILED = "failed"  # stopped for a reason that concerns the whole batch (organisation suspended, no key…)
    CANCELLED = "cancelled"  # a draft abandoned by the staff


class RowState(enum.StrEnum):
    """What became of one row of a batch."""

    PENDING = "pending"  # valid, not handled yet
    ISSUED = "issued"  # a credential was issued by this batch
    SKIPPED_INVALID = "skipped_invalid"  # the row has problems: nothing issued
    DUPLICATE_PREVIOUS = "duplicate_previous"  # the same award was issued before (same idempotency key)
    FAILED = "failed"  # issuing this row failed; it can be retried


class IssueBatch(db.Model):  # type: ignore[name-defined,misc]
    """One CSV file (or pasted text) of participants to award one achievement to.

    The counts are kept up to date chunk after chunk so the batch page shows progress without counting rows.
    """

    __tablename__ = "issue_batches"
    __table_args__ = (Index("ix_issue_batches_organisation_created", "organisation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    filename: Mapped[str] = mapped_column(String(255), default="")
    # How the file was read (shown in the preview so a wrongly guessed encoding is noticed).
    encoding: Mapped[str] = mapped_column(String(32), default="")
    delimiter: Mapped[str] = mapped_column(String(8), default="")
    state: Mapped[BatchState] = mapped_column(str_enum(BatchState, length=16), default=BatchState.DRAFT,
                                              index=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, default=0)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    mail_failures: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    queued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    # Who is running the batch, until when: a run renews its lease at every chunk, and a batch whose lease
    # ran out (its worker died) is handed to the next worker or web process (jobs.sweep).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation] = relationship()
    achievement: Mapped[Achievement] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def handled_rows(self) -> int:
        return self.issued_count + self.duplicate_count + self.failed_count

    @property
    def is_over(self) -> bool:
        return self.state in (BatchState.DONE, BatchState.FAILED, BatchState.CANCELLED)


class BatchRow(db.Model):  # type: ignore[name-defined,misc]
    """One data row of a batch: what the file said (``raw``), its problems, and what became of it.

    The normalised columns are filled for valid rows only (they are what is issued); ``raw`` keeps the cells
    as read, for the preview and the export. ``number`` is the row's line in the file (the header is line 1).
    """

    __tablename__ = "issue_batch_rows"
    __table_args__ = (
        UniqueConstraint("batch_id", "number"),
        Index("ix_issue_batch_rows_batch_state", "batch_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("issue_batches.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipient_email: Mapped[str] = mapped_column(String(254), default="")
    recipient_email_key: Mapped[str] = mapped_column(String(254), default="", index=True)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    activity_start: Mapped[dt.datetime | None]
    activity_end: Mapped[dt.datetime | None]
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    narrative: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    result: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[RowState] = mapped_column(str_enum(RowState, length=24), default=RowState.PENDING)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id", ondelete="SET NULL"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    # The recipient's e-mail left (a crash between the commit and the mail is caught up on resume).
    mailed: Mapped[bool] = mapped_column(Boolean, default=False)

    batch: Mapped[IssueBatch] = relationship()
    credential: Mapped[IssuedCredential | None] = relationship()
