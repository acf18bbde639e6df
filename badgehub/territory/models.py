"""Territories (learning cities or regions), their areas, coordinators, and the registry of members."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.organisations.models import Organisation


class Territory(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    charter: Mapped[str] = mapped_column(Text, default="")
    default_locale: Mapped[str] = mapped_column(String(8), default="fr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    areas: Mapped[list[Area]] = relationship(back_populates="territory", cascade="all, delete-orphan",
                                             order_by="Area.name")
    memberships: Mapped[list[TerritoryMembership]] = relationship(back_populates="territory",
                                                                 cascade="all, delete-orphan")


class Area(db.Model):  # type: ignore[name-defined,misc]
    """A commune or neighbourhood of a territory, the unit of its statistics."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))

    territory: Mapped[Territory] = relationship(back_populates="areas")


class TerritoryCoordinator(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "territory_coordinators"
    __table_args__ = (UniqueConstraint("territory_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    territory: Mapped[Territory] = relationship()
    user: Mapped[User] = relationship()


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    REJECTED = "rejected"


class TerritoryMembership(db.Model):  # type: ignore[name-defined,misc]
    """An organisation's place in a territory's registry of trusted issuers, and the last decision on it."""

    __tablename__ = "territory_memberships"
    __table_args__ = (UniqueConstraint("territory_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(str_enum(MembershipStatus), default=MembershipStatus.PENDING)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # When the organisation was first approved: "approved member since …" on credential pages.
    member_since: Mapped[dt.datetime | None]

    territory: Mapped[Territory] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
