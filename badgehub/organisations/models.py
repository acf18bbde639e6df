"""Organisations (issuers: the OB 3.0 Profile), their staff roles and pending invitations."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.territory.models import Area, TerritoryMembership


class Sector(enum.StrEnum):
    CIVIC = "civic"
    ECONOMIC = "economic"
    PUBLIC_SERVICES = "public_services"
    EDUCATION = "education"
    COMMUNITY = "community"


class OrganisationType(enum.StrEnum):
    ASSOCIATION = "association"
    COMPANY = "company"
    LIBRARY = "library"
    MUSEUM = "museum"
    SCHOOL = "school"
    UNIVERSITY = "university"
    TRAINING_CENTRE = "training_centre"
    LOCAL_AUTHORITY = "local_authority"
    PUBLIC_SERVICE = "public_service"
    OTHER = "other"


class Role(enum.StrEnum):
    OWNER = "owner"
    ISSUER = "issuer"
    VIEWER = "viewer"


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[OrganisationType] = mapped_column(str_enum(OrganisationType))
    sector: Mapped[Sector] = mapped_column(str_enum(Sector))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    image_url: Mapped[str | None] = mapped_column(String(500))
    street_address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    locality: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country_code: Mapped[str | None] = mapped_column(String(2))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    area: Mapped[Area | None] = relationship()
    members: Mapped[list[OrganisationMember]] = relationship(back_populates="organisation",
                                                            cascade="all, delete-orphan")
    memberships: Mapped[list[TerritoryMembership]] = relationship(back_populates="organisation",
                                                                 cascade="all, delete-orphan")


class OrganisationMember(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """A staff invitation sent by e-mail; only the token's SHA-256 is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation] = relationship()
