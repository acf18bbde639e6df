"""Privacy by construction: the one place that turns exact figures into published ones.

The rules for everyone who is not a coordinator of the territory (the public page and every open-data file):

1. **Fixed tables.** Figures exist for whole months, quarters and years (or all the time there is), crossed
   with one sector and one theme at most (:class:`~badgehub.stats.queries.Filters`): no free window, no
   per-organisation or per-badge line, no names of people, ever.
2. **Thresholds.** A figure (a line of a table, a headline figure) is not published when it counts fewer than
   :data:`THRESHOLD` distinct learners (five badges of one person are one person) or when fewer than
   :data:`ORGANISATION_THRESHOLD` organisations contribute to it (the rule of business statistics: then no
   organisation can be isolated by sector, type, area or theme). It reads "< 5" / "not published" and its value
   is withheld (``null`` / empty in files). A true zero (nobody) is published as such, except in the tables
   that list every line whatever it counts (``Table.withhold_zero``: recognition), where a zero is withheld too.
3. **Cell-key perturbation.** Every other count is published as ``count + noise``, the noise read in the
   published perturbation table (:mod:`badgehub.stats.ptable`) with the figure's cell key, the sum of the record
   keys of what it counts: at most ±:data:`~badgehub.stats.ptable.MAX_PERTURBATION`, unbiased, variance
   :data:`~badgehub.stats.ptable.VARIANCE`. The same figure always gets the same noise, so asking again or
   averaging teaches nothing, and subtracting two figures gives the difference of the truths give or take the
   sum of two noises: never a hidden figure exactly. The headline count of organisations that issued is such a
   count too: its units are organisations, each with its own record key (``StatsOrganisation.record_key``), and
   it is withheld whenever the selection's credentials are (fewer than 3 organisations or 5 learners), so
   ``?sector=`` never confirms that one organisation makes a figure.
4. **Totals are figures of their own.** A table's total is the selection's total, perturbed with its own key; it
   generally differs from the sum of the lines shown (the lines carry their own noise, and withheld lines are
   not in that sum). The non-formal share is computed from the published lines, when both are.
5. **Order tells nothing more.** Lines shown largest first are ordered by their published values, withheld
   ones after them by name (:data:`SIZE_ORDERED`), never by the exact counts.

Coordinators of the territory see the exact figures (nothing hidden, nothing perturbed) plus the
per-organisation table; each line tells them whether the public sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from badgehub.stats.figures import NO_AREA, ORGANISATION_THRESHOLD, THRESHOLD, Figures, Group
from badgehub.stats.filters import Filters
from badgehub.stats.ptable import MAX_PERTURBATION, perturbed

__all__ = ["MAX_PERTURBATION", "ORGANISATION_THRESHOLD", "THRESHOLD", "Published", "PublishedCell",
           "PublishedSummary", "PublishedTable", "publish"]


@dataclass(frozen=True)
class PublishedCell:
    """One line as shown: ``value`` is None when it is withheld."""

    key: str
    label: str
    value: int | None
    hidden_publicly: bool  # what coordinators are told; always equal to "value is None" on the public side
    extra: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why the public does not see it: "learners" or "organisations"

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class PublishedTable:
    name: str
    cells: list[PublishedCell]
    partition: bool
    total: int | None  # partition tables only: the selection's total (published with its own noise)

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
    organisations: int | None
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
    span: tuple[int, int] | None = None  # the months the territory's data spans, whatever the filters


# Tables whose lines the page shows largest first (the others keep their own order: months, fixed lists).
SIZE_ORDERED = frozenset({"competencies", "domains", "themes", "sectors", "organisation_types", "areas"})


def withheld_because(learners_enough: bool, organisations: int) -> str:
    """Why a figure with credentials is not published ("" when it is)."""
    if organisations < ORGANISATION_THRESHOLD:
        return "organisations"
    return "" if learners_enough else "learners"


def _cell(group: Group, public: bool, withhold_zero: bool = False) -> PublishedCell:
    counted = group.credentials or withhold_zero
    reason = withheld_because(group.enough_learners, len(group.organisations)) if counted else ""
    value: int | None = group.credentials
    if public and counted:  # a true zero is nobody: it is published as it is (except where zeros are withheld)
        value = None if reason else perturbed(group.credentials, group.key_sum)
    extra = dict(group.extra)
    if "organisations" in extra:
        # A skills gap: organisations look for it and its supply is thin, fewer than THRESHOLD learners or fewer
        # than ORGANISATION_THRESHOLD organisations. Saying only "learners" would tell, for a line withheld because
        # one or two organisations make it, whether they recognised five learners: a figure of theirs.
        extra["gap"] = not group.enough_learners or len(group.organisations) < ORGANISATION_THRESHOLD
    return PublishedCell(group.key, group.label, value, bool(reason), extra, reason)


def _headline(value: int, key: int, enough: bool, organisations: int, public: bool) -> int | None:
    if not public or value == 0:
        return value
    return None if withheld_because(enough, organisations) else perturbed(value, key)


def publish(figures: Figures, *, public: bool) -> Published:
    """Apply the rules of this module to exact figures: ``public`` for everyone but the territory's
    coordinators (who get the exact figures, with each line marked when the public does not see it)."""
    summary = figures.summary
    keys = summary.keys
    enough = summary.learners >= THRESHOLD
    credentials = _headline(summary.credentials, keys.get("credentials", 0), enough, summary.organisations, public)
    tables: dict[str, PublishedTable] = {}
    for name, table in figures.tables.items():
        if public and name == "organisations":
            continue
        cells = [_cell(group, public, table.withhold_zero) for group in table.groups]
        if public and name in SIZE_ORDERED:
            # Largest first by the published value, withheld lines after them by name: an order made from the
            # exact counts would tell which of two withheld lines is larger, or take part of the noise off.
            cells.sort(key=lambda c: (c.key == NO_AREA, c.value is None, -(c.value or 0), c.label.casefold()))
        total = _cell(table.total, public, table.withhold_zero).value if table.total is not None else (
            credentials if table.partition else None)
        tables[name] = PublishedTable(name, cells, table.partition, total)
    settings = tables["learning_settings"]
    shown = [c for c in settings.cells if c.value is not None]
    non_formal = next((c.value for c in settings.cells if c.key == "non_formal" and c.value is not None), 0)
    percent = None
    if settings.cells and len(shown) == len(settings.cells) and sum(c.value or 0 for c in shown):
        percent = round(100 * non_formal / sum(c.value or 0 for c in shown))

    def headline(name: str) -> int | None:
        value = getattr(summary, name)
        return _headline(value, keys.get(name, 0), value >= THRESHOLD, summary.organisations, public)

    return Published(
        public=public, territory_slug=figures.territory_slug, territory_name=figures.territory_name,
        filters=figures.filters, months=figures.months, generated_at=figures.generated_at, span=figures.span,
        summary=PublishedSummary(
            credentials=credentials, learners=headline("learners"),
            learners_several_organisations=headline("learners_several_organisations"),
            learners_several_sectors=headline("learners_several_sectors"),
            organisations=_headline(summary.organisations, keys.get("organisations", 0), enough,
                                    summary.organisations, public),
            non_formal_percent=percent),
        tables=tables)
