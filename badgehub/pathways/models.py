"""Pathways, their groups of steps, and who completed them.

A :class:`Pathway` belongs to the organisation that signs its badge (``organisation_id``): an ordinary
organisation, or a territory's issuer (:class:`~badgehub.endorsements.models.TerritoryIssuer`), in which case
``territory_id`` names the territory that owns it. Its steps are achievements of any organisation, in
:class:`PathwayGroup` rows: each group has a minimum count and is ordered or not (see
:mod:`badgehub.pathways.progress` for what that means). It leads to a pathway badge (``achievement_id``, one of
the owner's achievements, awarded automatically on completion) and/or points to a qualification (an RNCP / ESCO
reference address and a job profile).

A :class:`PathwayCompletion` says that one holder completed one pathway (unique per pathway and holder: the
award happens once, even when two awards race). ``holder_digest`` is the SHA-256 of the holder's e-mail key, so
that the table names nobody in clear.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow

if TYPE_CHECKING:
    from badgehub.achievements.models import Achievement
    from badgehub.issuing.models import IssuedCredential
    from badgehub.organisations.models import Organisation
    from badgehub.territory.models import Territory


class PathwayStatus(enum.StrEnum):
    """A draft is seen by its owner's staff only; a published pathway is public and awards its badge; an
    archived one is public no more and awards nothing."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Pathway(db.Model):  # type: ignore[name-defined,misc]
    """One pathway (see the module docstring)."""

    __tablename__ = "pathways"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(12), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    in_language: Mapped[str] = mapped_column(String(16))
    achievement_id: Mapped[int | None] = mapped_column(ForeignKey("achievements.id", ondelete="SET NULL"),
                                                       index=True)
    qualification_uri: Mapped[str | None] = mapped_column(String(500))
    qualification_name: Mapped[str] = mapped_column(String(200), default="")
    job_profile: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PathwayStatus] = mapped_column(str_enum(PathwayStatus, length=16), default=PathwayStatus.DRAFT)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    territory: Mapped[Territory | None] = relationship()
    achievement: Mapped[Achievement | None] = relationship()
    groups: Mapped[list[PathwayGroup]] = relationship(
        back_populates="pathway", order_by="PathwayGroup.position", cascade="all, delete-orphan")

    @property
    def is_public(self) -> bool:
        return self.status is PathwayStatus.PUBLISHED


class PathwayGroup(db.Model):  # type: ignore[name-defined,misc]
    """A group of steps of a pathway: at least ``min_count`` of them, in their order when ``ordered``."""

    __tablename__ = "pathway_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200), default="")
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    min_count: Mapped[int] = mapped_column(Integer, default=1)

    pathway: Mapped[Pathway] = relationship(back_populates="groups")
    steps: Mapped[list[PathwayStep]] = relationship(
        back_populates="group", order_by="PathwayStep.position", cascade="all, delete-orphan")


class PathwayStep(db.Model):  # type: ignore[name-defined,misc]
    """One achievement of a group, at its position. Achievements are archived, never deleted: no ON DELETE."""

    __tablename__ = "pathway_steps"
    __table_args__ = (UniqueConstraint("group_id", "achievement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("pathway_groups.id", ondelete="CASCADE"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[PathwayGroup] = relationship(back_populates="steps")
    achievement: Mapped[Achievement] = relationship()


class PathwayCompletion(db.Model):  # type: ignore[name-defined,misc]
    """One holder completed one pathway; its badge, when it has one, is ``issued_credential_id``."""

    __tablename__ = "pathway_completions"
    __table_args__ = (UniqueConstraint("pathway_id", "holder_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathways.id", ondelete="CASCADE"), index=True)
    holder_digest: Mapped[str] = mapped_column(String(64), index=True)
    completed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="SET NULL"))

    pathway: Mapped[Pathway] = relationship()
    issued_credential: Mapped[IssuedCredential | None] = relationship()
