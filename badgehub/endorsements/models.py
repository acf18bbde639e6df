"""Endorsements as made (signed documents kept as issued), invitations to endorse, and territory issuers.

An :class:`Endorsement` keeps its signed documents **as issued**, like an issued credential: ``document_json``
is the exact JSON text signed with Data Integrity and ``vc_jwt`` the compact JWS over it. Its status bit lives in
the endorser's revocation list (``(status_list_id, status_index)`` unique; the issuing side never hands that
index to a credential, see :func:`badgehub.issuing.status_lists.register_index_holder`).

A :class:`TerritoryIssuer` ties a territory to the organisation row that signs in its name: the territory gets a
did:web, keys, status lists and a public profile exactly as any issuer, through the same code. A
:class:`PersonalIssuer` does the same for a person who endorses in their own name.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.achievements.models import Achievement
    from badgehub.issuing.models import IssuedCredential, StatusList
    from badgehub.organisations.models import Organisation
    from badgehub.territory.models import Territory


class EndorsedKind(enum.StrEnum):
    """What an endorsement is about."""

    ACHIEVEMENT = "achievement"
    PROFILE = "profile"
    CREDENTIAL = "credential"


class Display(enum.StrEnum):
    """Whether the endorsed party shows it: endorsements of achievements and profiles are shown until the
    endorsed organisation declines them; those of a credential wait for the learner to choose them."""

    SHOWN = "shown"
    DECLINED = "declined"
    PENDING = "pending"


class TerritoryIssuer(db.Model):  # type: ignore[name-defined,misc]
    """The organisation row a territory signs with (one per territory)."""

    __tablename__ = "territory_issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    territory: Mapped[Territory] = relationship()
    organisation: Mapped[Organisation] = relationship()


class PersonalIssuer(db.Model):  # type: ignore[name-defined,misc]
    """The organisation row a person endorses with in their own name (one per person; see
    :mod:`badgehub.endorsements.personal_issuers`). ``user_id`` is None once the person's account is erased."""

    __tablename__ = "personal_issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class EndorsementInvitation(db.Model):  # type: ignore[name-defined,misc]
    """A learner's link asking anyone with an organisation to endorse one of their credentials. Only the
    SHA-256 of the token is kept; the link works until ``expires_at`` or until the learner closes it."""

    __tablename__ = "endorsement_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id", ondelete="CASCADE"),
                                                      index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]

    credential: Mapped[IssuedCredential] = relationship()


class Endorsement(db.Model):  # type: ignore[name-defined,misc]
    """One signed EndorsementCredential made here (see the module docstring)."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("status_list_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    credential_id: Mapped[str] = mapped_column(String(64), unique=True)
    endorser_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[EndorsedKind] = mapped_column(str_enum(EndorsedKind, length=16))
    subject_uri: Mapped[str] = mapped_column(String(500))
    # The organisation whose achievement or profile is endorsed, or that issued the endorsed credential.
    endorsed_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                          index=True)
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"),
                                                       index=True)
    issued_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("endorsement_invitations.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    document_json: Mapped[str] = mapped_column(Text)
    vc_jwt: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime]
    display: Mapped[Display] = mapped_column(str_enum(Display, length=16))
    display_changed_at: Mapped[dt.datetime | None]
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), index=True)
    status_index: Mapped[int] = mapped_column(Integer)
    withdrawn_at: Mapped[dt.datetime | None]

    endorser: Mapped[Organisation] = relationship(foreign_keys=[endorser_id])
    endorsed_organisation: Mapped[Organisation] = relationship(foreign_keys=[endorsed_organisation_id])
    achievement: Mapped[Achievement | None] = relationship()
    issued_credential: Mapped[IssuedCredential | None] = relationship()
    status_list: Mapped[StatusList] = relationship()

    @property
    def is_public(self) -> bool:
        """Shown by the endorsed party and not withdrawn by the endorser."""
        return self.display is Display.SHOWN and self.withdrawn_at is None
