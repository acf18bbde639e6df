"""Attacks on the observatory's public figures, as an outsider would run them with public GETs only.

The attacker reads every public table of the generated territory (:mod:`tests.unit.stats.generated`) for every
period on offer (all the time there is, the year, its quarters and months), crossed with every sector and the
theme: the very :class:`~badgehub.stats.privacy.Published` objects that the pages render and the CSV/JSON files
export (``tests/functional/test_observatory_web.py`` checks that the page and both files say the same). The
attacker is generous to itself: it knows the exact structure of the data (which organisation issued which
badge in which month and area: every non-empty cell of the pre-aggregates), the published perturbation table and
its bound, and solves integer programs (HiGHS, through SciPy) over all the figures at once.

What the method promises and the tests check (the README's privacy paragraph says the same):

* a figure asked again, or reached through another filter, gets the same noise: averaging teaches nothing;
* a withheld figure is never recovered exactly, whether by differencing periods, sectors or themes, by the
  complement of a table (total minus the other lines) or by all of them together: at least two values stay
  possible for it;
* no organisation's own count, in any month, quarter or year, can be recovered exactly either; no published
  figure comes from fewer than three organisations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from flask import Flask
from scipy.optimize import LinearConstraint, milp
from sqlalchemy import select

from badgehub.achievements.models import AchievementCompetency, AchievementVersion
from badgehub.catalogue.models import achievement_themes
from badgehub.competencies.models import Competency
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, Sector
from badgehub.stats import queries
from badgehub.stats.models import StatsAreaCell
from badgehub.stats.privacy import MAX_PERTURBATION, ORGANISATION_THRESHOLD, Published, publish
from badgehub.stats.queries import is_formal, observatory, parse_filters
from badgehub.territory.models import Area
from tests.unit.stats.generated import Generated, build_generated

PERIODS = ["", "2025", *(f"2025-Q{q}" for q in range(1, 5)), *(f"2025-{m:02d}" for m in range(1, 13))]
TABLES = ("monthly", "sectors", "organisation_types", "learning_settings", "areas", "competencies", "domains",
          "themes")


@dataclass(frozen=True)
class Atom:
    """One non-empty cell of the pre-aggregates: what the attacker would like to know the size of."""

    organisation: int
    month: int
    version: int
    area: str
    truth: int


@dataclass
class Knowledge:
    atoms: list[Atom]
    organisations: dict[int, Organisation]
    competencies: dict[int, set[str]]  # version → competency codes
    tagged: set[int]  # versions of badges tagged with the theme
    figures: dict[frozenset[int], tuple[float, float]]  # atoms of a figure → what the published figures allow
    withheld: set[frozenset[int]]


@pytest.fixture
def generated(ctx: Flask) -> Generated:
    queries.clear_cache()
    return build_generated()


def releases(generated: Generated) -> Iterator[tuple[dict[str, str], Published]]:
    """Every public release on offer: each period, with each sector or none, with the theme or without."""
    territory = generated.territory
    for period in PERIODS:
        for sector in ["", *(s.value for s in Sector)]:
            for theme in ("", generated.theme_code):
                args = {"period": period, "sector": sector, "theme": theme}
                yield args, publish(observatory(territory, parse_filters(args, territory)), public=True)


def knowledge(generated: Generated) -> Knowledge:
    codes = dict(db.session.execute(select(Area.id, Area.code).where(
        Area.territory_id == generated.territory.id)).tuples().all())
    atoms = [Atom(org, month, version, codes.get(area, queries.NO_AREA), credentials)
             for org, month, version, area, credentials in db.session.execute(select(
                 StatsAreaCell.organisation_id, StatsAreaCell.month, StatsAreaCell.achievement_version_id,
                 StatsAreaCell.area_id, StatsAreaCell.credentials).where(StatsAreaCell.credentials > 0)).tuples()]
    merged: dict[tuple[int, int, int, str], int] = defaultdict(int)  # the "none" area gathers several area ids
    for atom in atoms:
        merged[(atom.organisation, atom.month, atom.version, atom.area)] += atom.truth
    atoms = [Atom(*key, truth) for key, truth in sorted(merged.items())]
    organisations = {o.id: o for o in generated.organisations}
    competencies: dict[int, set[str]] = defaultdict(set)
    for version, code in db.session.execute(select(AchievementCompetency.achievement_version_id, Competency.code)
                                            .join(Competency)).tuples():
        competencies[version].add(code)
    tagged = set(db.session.scalars(select(AchievementVersion.id).join(
        achievement_themes, achievement_themes.c.achievement_id == AchievementVersion.achievement_id)))
    return Knowledge(atoms, organisations, competencies, tagged, {}, set())


def members(known: Knowledge, args: dict[str, str], table: str, key: str) -> frozenset[int]:
    """The atoms a published line is made of, as the data dictionary defines it."""
    start, end = (queries.period_months(args["period"])[:2] if args["period"] else (0, 999999))
    chosen = set()
    for index, atom in enumerate(known.atoms):
        organisation = known.organisations[atom.organisation]
        if not start <= atom.month <= end or (args["sector"] and organisation.sector != args["sector"]):
            continue
        if args["theme"] and atom.version not in known.tagged:
            continue
        line = {"summary": True, "monthly": queries.format_month(atom.month) == key,
                "sectors": organisation.sector == key, "organisation_types": organisation.type == key,
                "learning_settings": ("formal" if is_formal(organisation.type) else "non_formal") == key,
                "areas": atom.area == key, "competencies": key in known.competencies[atom.version],
                "domains": key in known.competencies[atom.version],
                "themes": atom.version in known.tagged}[table]
        if line:
            chosen.add(index)
    return frozenset(chosen)


def observe(known: Knowledge, atoms: frozenset[int], value: int | None) -> None:
    """What one published figure tells: its true count is within the bound of the value, or it is withheld."""
    low, high = known.figures.get(atoms, (0.0, np.inf))
    if value is None:
        known.withheld.add(atoms)
        low = max(low, 1.0)
    elif value == 0:
        low, high = 0.0, 0.0
    else:
        low, high = max(low, value - MAX_PERTURBATION), min(high, value + MAX_PERTURBATION)
    known.figures[atoms] = (low, high)


def read_everything(generated: Generated) -> Knowledge:
    known = knowledge(generated)
    for args, published in releases(generated):
        observe(known, members(known, args, "summary", ""), published.summary.credentials)
        for table in TABLES:
            for cell in published.tables[table].cells:
                observe(known, members(known, args, table, cell.key), cell.value)
    return known


class Solver:
    """The attacker's integer program: every atom at least ``lower`` (1: the attacker knows which cells are
    non-empty), every figure within what was published."""

    def __init__(self, known: Knowledge, lower: int = 1) -> None:
        self.lower = lower
        self.size = len(known.atoms)
        rows = [(atoms, bounds) for atoms, bounds in known.figures.items() if atoms]
        matrix = np.zeros((len(rows), self.size))
        for number, (atoms, _) in enumerate(rows):
            matrix[number, sorted(atoms)] = 1
        self.constraint = LinearConstraint(matrix, [b[0] for _, b in rows], [b[1] for _, b in rows])
        self.truth = np.array([atom.truth for atom in known.atoms])

    def other_value(self, atoms: frozenset[int], truth: int) -> int | None:
        """A value other than ``truth`` that the figures allow for the sum of ``atoms`` (above it, else below it),
        or None when the truth is the only one: the figure is then recovered exactly. Each is an integer
        feasibility program (HiGHS stops at the first solution found)."""
        row = np.zeros((1, self.size))
        row[0, sorted(atoms)] = 1
        for low, high in ((truth + 1, np.inf), (-np.inf, truth - 1)):
            result = milp(np.zeros(self.size), integrality=np.ones(self.size), bounds=(self.lower, np.inf),
                          constraints=[self.constraint, LinearConstraint(row, [low], [high])])
            if result.status == 0:
                return round(float(row[0] @ result.x))
            assert result.status == 2, result.message  # 2: infeasible
        return None

    def exactly_recovered(self, targets: dict[str, frozenset[int]]) -> list[str]:
        """The targets whose sum only one value of the figures allows. A solution of the program that differs
        from the truth on a target proves the target uncertain; a few solutions pushed to the extremes (all
        targets up, all down) prove most of them at once, the rest are tried one by one."""
        vectors = {name: np.isin(np.arange(self.size), sorted(atoms)).astype(float) for name, atoms in targets.items()}
        truths = {name: float(vector @ self.truth) for name, vector in vectors.items()}
        open_ = set(targets)
        for sign in (-1, 1):
            objective = sign * sum(vectors.values(), np.zeros(self.size))
            result = milp(objective, constraints=[self.constraint], integrality=np.ones(self.size),
                          bounds=(self.lower, np.inf))
            assert result.success, result.message
            open_ -= {name for name in open_ if abs(vectors[name] @ result.x - truths[name]) > 0.5}
        return sorted(name for name in open_ if self.other_value(targets[name], round(truths[name])) is None)


def attack_targets(known: Knowledge) -> dict[str, frozenset[int]]:
    targets = {f"withheld {sorted(atoms)[:3]}…": atoms for atoms in known.withheld}
    for organisation in known.organisations.values():
        for period in PERIODS:
            atoms = members(known, {"period": period, "sector": "", "theme": ""}, "summary", "")
            own = frozenset(i for i in atoms if known.atoms[i].organisation == organisation.id)
            if own:
                targets[f"{organisation.name} in {period or 'all time'}"] = own
    return targets


def test_differencing_every_period_sector_and_theme_recovers_no_withheld_figure(generated):
    known = read_everything(generated)
    truth = [atom.truth for atom in known.atoms]
    for atoms, (low, high) in known.figures.items():  # every published figure is within the bound of the truth
        assert low <= sum(truth[i] for i in atoms) <= high
    solver = Solver(known)
    assert known.withheld  # the generated territory has small cells to attack
    targets = attack_targets(known)
    assert len(targets) > 100
    assert solver.exactly_recovered(targets) == []


def test_no_published_figure_comes_from_fewer_than_three_organisations(generated):
    territory = generated.territory
    for period in PERIODS[:6]:
        for sector in ["", *(s.value for s in Sector)]:
            for theme in ("", generated.theme_code):
                args = {"period": period, "sector": sector, "theme": theme}
                exact = observatory(territory, parse_filters(args, territory))
                published = publish(exact, public=True)
                for name, table in exact.tables.items():
                    if name == "organisations":
                        continue
                    cells = {cell.key: cell for cell in published.tables[name].cells}
                    for group, cell in ((g, cells[g.key]) for g in table.groups):
                        if cell.value:
                            assert len(group.organisations) >= ORGANISATION_THRESHOLD, (args, name, group.key)
                if published.summary.credentials:
                    assert exact.summary.organisations >= ORGANISATION_THRESHOLD
    # The company is alone in the economic sector: that filter shows no figure at all.
    alone = publish(observatory(territory, parse_filters({"sector": "economic"}, territory)), public=True)
    assert alone.summary.credentials is None and alone.summary.learners is None
    assert all(c.value in (None, 0) for t in alone.tables.values() for c in t.cells)


def test_averaging_many_requests_of_the_same_figure_gives_nothing_new(generated):
    territory = generated.territory
    seen = set()
    for _ in range(5):
        queries.clear_cache()  # as if each request reached another process
        published = publish(observatory(territory, parse_filters({"period": "2025"}, territory)), public=True)
        seen.add((published.summary.credentials, published.summary.learners,
                  tuple(c.value for c in published.tables["monthly"].cells)))
    assert len(seen) == 1
    # The same credentials reached by two paths (all the time there is; the year 2025) get the same noise.
    everything = publish(observatory(territory, parse_filters({}, territory)), public=True)
    assert everything.summary.credentials == next(iter(seen))[0]


def test_the_complement_of_a_table_does_not_recover_its_withheld_line(generated):
    territory = generated.territory
    known = knowledge(generated)
    checked = 0
    for period in PERIODS[1:6]:
        args = {"period": period, "sector": "", "theme": ""}
        published = publish(observatory(territory, parse_filters(args, territory)), public=True)
        for name in ("sectors", "organisation_types", "learning_settings", "areas", "monthly"):
            cells = published.tables[name].cells
            hidden = [c for c in cells if c.value is None]
            if len(hidden) != 1 or published.tables[name].total is None:
                continue
            # Total minus the other lines: each published figure is within the bound, so the withheld line is
            # only known within the sum of their bounds.
            others = sum(c.value or 0 for c in cells if c.value is not None)
            estimate = published.tables[name].total - others
            truth = len(members(known, args, name, hidden[0].key)) and sum(
                known.atoms[i].truth for i in members(known, args, name, hidden[0].key))
            spread = MAX_PERTURBATION * (1 + sum(1 for c in cells if c.value is not None))
            assert abs(estimate - truth) <= spread
            solver_known = Knowledge(known.atoms, known.organisations, known.competencies, known.tagged, {}, set())
            observe(solver_known, members(known, args, "summary", ""), published.tables[name].total)
            for cell in cells:
                observe(solver_known, members(known, args, name, cell.key), cell.value)
            assert Solver(solver_known).other_value(members(known, args, name, hidden[0].key), truth) is not None
            checked += 1
    assert checked  # the generated territory has such tables


def test_the_same_solver_breaks_the_old_rules_of_free_windows_rounded_to_five(generated):
    """The control: the attack has teeth. Given what the old rules published (any from/to window, its count
    rounded to the nearest 5), the solver recovers months exactly, as the report that led to the cell-key method
    found; the fixed periods and the noise above leave it nothing of the kind."""
    known = knowledge(generated)
    months = sorted({atom.month for atom in known.atoms})
    by_month = {month: frozenset(i for i, a in enumerate(known.atoms) if a.month == month) for month in months}
    old = Knowledge(known.atoms, known.organisations, known.competencies, known.tagged, {}, set())
    for first in range(len(months)):
        for last in range(first, len(months)):
            atoms = frozenset().union(*(by_month[m] for m in months[first:last + 1]))
            count = sum(known.atoms[i].truth for i in atoms)
            rounded = 5 * ((count + 2) // 5)
            old.figures[atoms] = (rounded - 2, rounded + 2)
    targets = {f"month {month}": atoms for month, atoms in by_month.items()}
    assert Solver(old).exactly_recovered(targets)


def test_the_order_of_the_lines_comes_from_the_published_values_only(generated):
    from badgehub.stats.privacy import SIZE_ORDERED

    checked = 0
    for _, published in releases(generated):
        for name in SIZE_ORDERED:
            cells = [c for c in published.tables[name].cells if c.key != queries.NO_AREA]
            shown = [c.value for c in cells if c.value is not None]
            hidden = [c.label.casefold() for c in cells if c.value is None]
            assert [c.value is None for c in cells] == sorted(c.value is None for c in cells)  # withheld last
            assert shown == sorted(shown, reverse=True) and hidden == sorted(hidden)
            checked += len(hidden) > 1
    assert checked  # several withheld lines in one table: their order could have told which is larger
