"""Claim campaigns and the claims made through them.

A :class:`ClaimCampaign` offers one achievement of an organisation during a time window, optionally up to a
cap, behind a short code printed on a poster (``/claim/<short_code>``). A :class:`Claim` is one e-mail
address asking for the badge: pending until the person follows the one-time link e-mailed to them, confirmed
once the credential is issued. One claim per campaign and address (``email_key``, the accounts rule).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.achievements.models import Achievement
    from badgehub.issuing.models import IssuedCredential
    from badgehub.organisations.models import Organisation


class ClaimCampaign(db.Model):  # type: ignore[name-defined,misc]
    """One achievement offered to an event's participants between ``opens_at`` and ``closes_at``.

    ``claimed_count`` is the number of confirmed claims; it only changes under the campaign's row lock, so
    the cap ``max_claims`` (None: no cap) holds with concurrent confirmations. ``closed_at`` is set when
    staff close the campaign before the end of its window.
    """

    __tablename__ = "claim_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # For the staff only (never shown on the public page or the poster).
    notes: Mapped[str] = mapped_column(Text, default="")
    # Printed on the poster and typed by hand: see claims.service.SHORT_CODE_ALPHABET.
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    max_claims: Mapped[int | None] = mapped_column(Integer)
    claimed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    achievement: Mapped[Achievement] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    claims: Mapped[list[Claim]] = relationship(back_populates="campaign", cascade="all, delete-orphan",
                                               passive_deletes=True)


class ClaimState(enum.StrEnum):
    PENDING = "pending"  # the link is sent, not yet followed
    CONFIRMED = "confirmed"  # the link was followed and the credential issued


class Claim(db.Model):  # type: ignore[name-defined,misc]
    """One address asking for a campaign's badge. Only the SHA-256 of the confirmation link's secret is kept."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("campaign_id", "email_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("claim_campaigns.id", ondelete="CASCADE"))
    # As typed (for the e-mails and the credential); blanked by erasure.
    email: Mapped[str] = mapped_column(String(254))
    # fields.email_key(email): one claim per address whatever its case.
    email_key: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    # The language of the page the claim was made from: the e-mails are written in it.
    locale: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[ClaimState] = mapped_column(str_enum(ClaimState, length=16), default=ClaimState.PENDING)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When the last link was sent (asking again sends a new one and voids the previous).
    link_sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id", ondelete="SET NULL"))

    campaign: Mapped[ClaimCampaign] = relationship(back_populates="claims")
    credential: Mapped[IssuedCredential | None] = relationship()
