"""Achievements (badge definitions, the OB 3.0 ``Achievement``) and their versions.

An :class:`Achievement` is the stable thing with a public URL, ``/achievements/<public_id>``. What it says
(name, criteria, image, competencies…) lives in :class:`AchievementVersion` rows. A version is *locked* the
first time a credential is issued from it; a locked version never changes again, so editing the achievement
then makes a new version, which becomes the current one. An unlocked version is edited in place.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.competencies.models import Competency
    from badgehub.organisations.models import Organisation


class Achievement(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    # Short and unguessable: it is printed in QR codes and written into signed credentials.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    # The FK closes a cycle with achievement_versions.achievement_id, so it is added after both tables exist
    # (use_alter) and written after the version row (post_update on the relationship).
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievement_versions.id", use_alter=True, ondelete="SET NULL"))
    archived_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    current_version: Mapped[AchievementVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[AchievementVersion]] = relationship(
        back_populates="achievement", foreign_keys="AchievementVersion.achievement_id",
        order_by="AchievementVersion.number", cascade="all, delete-orphan")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class AchievementVersion(db.Model):  # type: ignore[name-defined,misc]
    """What an achievement says at one point in time; frozen once a credential is issued from it."""

    __tablename__ = "achievement_versions"
    __table_args__ = (UniqueConstraint("achievement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    criteria_md: Mapped[str] = mapped_column(Text)
    criteria_url: Mapped[str | None] = mapped_column(String(500))
    achievement_type: Mapped[str] = mapped_column(String(64), default="Badge")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    in_language: Mapped[str] = mapped_column(String(16))
    valid_for_days: Mapped[int | None] = mapped_column(Integer)
    evidence_expected: Mapped[str] = mapped_column(Text, default="")
    # Deferred: lists and pages need the metadata, only the image endpoint needs the bytes.
    image: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    image_media_type: Mapped[str] = mapped_column(String(32))
    image_sha256: Mapped[str] = mapped_column(String(64))
    image_source: Mapped[str] = mapped_column(String(16))
    image_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    locked_at: Mapped[dt.datetime | None]

    achievement: Mapped[Achievement] = relationship(back_populates="versions", foreign_keys=[achievement_id])
    created_by: Mapped[User | None] = relationship()
    alignments: Mapped[list[AchievementCompetency]] = relationship(
        back_populates="version", order_by="AchievementCompetency.position", cascade="all, delete-orphan")

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def competencies(self) -> list[Competency]:
        """The aligned competencies, in the order the issuer chose."""
        return [alignment.competency for alignment in self.alignments]


class AchievementCompetency(db.Model):  # type: ignore[name-defined,misc]
    """A competency an achievement version is aligned to (an OB ``Alignment``), in a chosen order.

    No ON DELETE on the competency: competencies are archived, never deleted, and a competency written into
    a version must not vanish from it.
    """

    __tablename__ = "achievement_version_competencies"

    achievement_version_id: Mapped[int] = mapped_column(
        ForeignKey("achievement_versions.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[AchievementVersion] = relationship(back_populates="alignments")
    competency: Mapped[Competency] = relationship()
