"""Privacy by construction: the one place that turns exact figures into published ones.

The rules for everyone who is not a coordinator of the territory (the public page and every open-data file):

1. **Threshold.** A group (a line of a table, a headline figure) that counts fewer than :data:`THRESHOLD`
   distinct learners is not published: it reads "< 5" and its value is withheld (``null`` / empty in files).
   The threshold is on learners, not credentials: five badges of one person are one person. A true zero
   (nobody) is published as such.
2. **Rounding.** Every published count is rounded to the nearest multiple of :data:`ROUNDING_BASE`. Two
   requests that differ by a little (two periods one month apart, all sectors and one sector, with and
   without a theme) then differ by a rounded amount that leaves any hidden group uncertain by ±4, so
   subtracting one published figure from another cannot recover a group of fewer than five learners.
3. **Totals from published figures only.** The total line of a table is the sum of the figures shown in it
   (suppressed lines add nothing), so a hidden line cannot be recovered as "total minus the others"; the
   non-formal share is only published when every line it is computed from is.
4. **Never an individual**: no per-organisation or per-achievement detail, no names of people, ever; filters
   only take whole published groupings (whole months, a sector, a theme).

Coordinators of the territory see the exact figures (nothing hidden, nothing rounded) plus the
per-organisation table; each line tells them whether the public sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from badgehub.stats.queries import THRESHOLD, Figures, Filters, Group, Table

ROUNDING_BASE: Final = 5

__all__ = ["ROUNDING_BASE", "THRESHOLD", "Published", "PublishedCell", "PublishedSummary", "PublishedTable",
           "publish", "round_count"]


def round_count(value: int) -> int:
    """Round a count to the nearest multiple of :data:`ROUNDING_BASE` (halves up: 7 → 5, 8 → 10)."""
    return ROUNDING_BASE * ((value + ROUNDING_BASE // 2) // ROUNDING_BASE)


@dataclass(frozen=True)
class PublishedCell:
    """One line as shown: ``value`` is None when it is withheld."""

    key: str
    label: str
    value: int | None
    hidden_publicly: bool  # what coordinators are told; always equal to "value is None" on the public side
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class PublishedTable:
    name: str
    cells: list[PublishedCell]
    partition: bool
    total: int | None  # partition tables only: the sum of the values shown

    @property
    def maximum(self) -> int:
        return max((c.value or 0 for c in self.cells), default=0)

    @property
    def suppressed_count(self) -> int:
        return sum(1 for c in self.cells if c.suppressed)


@dataclass(frozen=True)
class PublishedSummary:
    credentials: int | None
    learners: int | None
    learners_several_organisations: int | None
    learners_several_sectors: int | None
    organisations: int
    non_formal_percent: int | None


@dataclass(frozen=True)
class Published:
    """What one page (and its open data) shows."""

    public: bool
    territory_slug: str
    territory_name: str
    filters: Filters
    months: tuple[int, int] | None
    generated_at: dt.datetime | None
    summary: PublishedSummary
    tables: dict[str, PublishedTable]


def _cell(group: Group, public: bool) -> PublishedCell:
    value: int | None = group.credentials
    if public and group.credentials:  # a true zero is nobody: it is published as it is
        value = round_count(group.credentials) if group.enough_learners else None
    extra = dict(group.extra)
    if "organisations" in extra:
        # A skills gap: organisations look for it and fewer than THRESHOLD learners were recognised for it.
        extra["gap"] = not group.enough_learners
    return PublishedCell(group.key, group.label, value, bool(group.credentials) and not group.enough_learners, extra)


def _table(table: Table, public: bool) -> PublishedTable:
    cells = [_cell(group, public) for group in table.groups]
    total = sum(c.value or 0 for c in cells) if table.partition else None
    return PublishedTable(table.name, cells, table.partition, total)


def _headline(value: int, learners: int, public: bool) -> int | None:
    if not public or value == 0:
        return value
    return round_count(value) if learners >= THRESHOLD else None


def publish(figures: Figures, *, public: bool) -> Published:
    """Apply the rules of this module to exact figures: ``public`` for everyone but the territory's
    coordinators (who get the exact figures, with each line marked when the public does not see it)."""
    tables = {name: _table(table, public) for name, table in figures.tables.items()
              if public is False or name != "organisations"}
    summary = figures.summary
    settings = tables["learning_settings"]
    shown = [c for c in settings.cells if c.value is not None]
    non_formal = next((c.value for c in settings.cells if c.key == "non_formal" and c.value is not None), 0)
    percent = None
    if settings.cells and len(shown) == len(settings.cells) and sum(c.value or 0 for c in shown):
        percent = round(100 * non_formal / sum(c.value or 0 for c in shown))
    return Published(
        public=public, territory_slug=figures.territory_slug, territory_name=figures.territory_name,
        filters=figures.filters, months=figures.months, generated_at=figures.generated_at,
        summary=PublishedSummary(
            credentials=_headline(summary.credentials, summary.learners, public),
            learners=_headline(summary.learners, summary.learners, public),
            learners_several_organisations=_headline(summary.learners_several_organisations,
                                                     summary.learners_several_organisations, public),
            learners_several_sectors=_headline(summary.learners_several_sectors, summary.learners_several_sectors,
                                               public),
            organisations=summary.organisations, non_formal_percent=percent),
        tables=tables)
