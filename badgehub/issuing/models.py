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
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
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
    CLI = "cli"  # `badgehub issue`
    DEMO = "demo"  # the demo installation


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
    # A CSV batch or claim campaign (tables of later work; no foreign key yet).
    batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[dt.datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)
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
