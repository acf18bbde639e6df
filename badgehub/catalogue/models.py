"""The catalogue of a territory: its themes and their tags on achievements, employers' skills demand, and the
folded texts the catalogue's search reads.

Kept apart from :mod:`badgehub.territory.models` (places, memberships, registry), which knows nothing of
achievements or competencies: the catalogue builds on territories, achievements and competencies, never the
other way round.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    insert,
    inspect,
    update,
)
from sqlalchemy.orm import InstanceState, Mapped, mapped_column, relationship

from badgehub.achievements.models import AchievementVersion
from badgehub.db import db, str_enum, utcnow
from badgehub.territory.models import Territory
from badgehub.territory.slugs import name_sort_key

if TYPE_CHECKING:
    from badgehub.competencies.models import Competency
    from badgehub.organisations.models import Organisation


class ThemeKind(enum.StrEnum):
    """Where a theme comes from: UNESCO's six building blocks of a learning city, or the territory's own."""

    UNESCO = "unesco"
    LOCAL = "local"


class Theme(db.Model):  # type: ignore[name-defined,misc]
    """A priority a territory reports on: a UNESCO building block or one of its own action domains.

    ``code`` is stable (UNESCO presets have fixed codes, translated at display time); ``name`` is what the
    coordinator typed for a local theme, or the preset's English name for a UNESCO one.
    """

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ThemeKind] = mapped_column(str_enum(ThemeKind, length=16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    territory: Mapped[Territory] = relationship()


# Which themes an achievement is tagged with. Not part of the signed document: tagging never makes a new
# achievement version. theme_id is indexed for the catalogue and observatory filters ("badges of theme T").
achievement_themes = Table(
    "achievement_themes",
    db.Model.metadata,
    Column("achievement_id", ForeignKey("achievements.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CompetencyDemand(db.Model):  # type: ignore[name-defined,misc]
    """An organisation looks for people with this competency (of a framework of one of its territories)."""

    __tablename__ = "competency_demands"
    __table_args__ = (UniqueConstraint("organisation_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship()
    competency: Mapped[Competency] = relationship()


class CatalogueText(db.Model):  # type: ignore[name-defined,misc]
    """What the catalogue's text search reads for one achievement version: its name, description, criteria and
    keywords, folded (case and accents removed by ``slugs.name_sort_key``) when the version is written.

    Kept by the mapper events below, so that every way of writing a version through the ORM keeps it; a version
    written otherwise (bulk SQL) simply has no row, and the catalogue then folds its text on the fly.
    """

    __tablename__ = "catalogue_texts"

    achievement_version_id: Mapped[int] = mapped_column(
        ForeignKey("achievement_versions.id", ondelete="CASCADE"), primary_key=True)
    folded: Mapped[str] = mapped_column(Text)
    # The folded name alone: the catalogue's order, compared code point by code point on both databases.
    name_key: Mapped[str] = mapped_column(Text)


SEARCHED_FIELDS = ("name", "description", "criteria_md", "tags")


def searchable_text(name: str | None, description: str | None, criteria_md: str | None, tags: Any) -> str:
    """An achievement version's searchable text, folded: the one rule the catalogue's search compares with."""
    keywords = " ".join(str(tag) for tag in tags) if isinstance(tags, list) else ""
    return name_sort_key(f"{name or ''}\n{description or ''}\n{criteria_md or ''}\n{keywords}")


def catalogue_text_values(name: str | None, description: str | None, criteria_md: str | None,
                          tags: Any) -> dict[str, str]:
    """The ``folded`` and ``name_key`` columns of a version's catalogue text (for whoever writes rows in bulk)."""
    return {"folded": searchable_text(name, description, criteria_md, tags), "name_key": name_sort_key(name or "")}


def _store_search_text(connection: Connection, target: AchievementVersion) -> None:
    table = CatalogueText.__table__
    values = catalogue_text_values(target.name, target.description, target.criteria_md, target.tags)
    changed = connection.execute(update(table).where(table.c.achievement_version_id == target.id)
                                 .values(**values)).rowcount
    if not changed:
        connection.execute(insert(table).values(achievement_version_id=target.id, **values))


@event.listens_for(AchievementVersion, "after_insert")
def _version_inserted(mapper: Any, connection: Connection, target: AchievementVersion) -> None:
    _store_search_text(connection, target)


@event.listens_for(AchievementVersion, "after_update")
def _version_updated(mapper: Any, connection: Connection, target: AchievementVersion) -> None:
    # Issuing locks a version (an update): skip the fold unless a searched field changed.
    state: InstanceState[AchievementVersion] = inspect(target)
    if any(state.attrs[field].history.has_changes() for field in SEARCHED_FIELDS):
        _store_search_text(connection, target)
