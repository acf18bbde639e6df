"""Counting recognition (issue 17, part 4): what the signals say is counted once, in the right cells, and the
published figures survive the attacks that the credentials' figures survive (:mod:`tests.unit.stats.test_attacks`).

The attacker reads every recognition table (endorsements given and received by sector and type, requests by
outcome, pathway completions by owner's sector, each with its total) for every period on offer crossed with
every sector, knows which cells of the data are non-empty, and solves the whole as an integer program. What the
method promises, and the tests check: every line is listed whether it counts anything or not, so "withheld"
tells nothing (not even "more than zero"); no withheld line and no organisation's own count (given, received,
asked, owned), in any month, quarter or year, is pinned to a single value by an attacker who does not already
know which organisations endorsed which (or were asked, or own a completed pathway) in each month; no published
figure comes from fewer than three organisations (the territory counting as one); asking again gives the same
noise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from badgehub import events
from badgehub.extensions import db
from badgehub.organisations.models import Sector
from badgehub.stats import queries, recognition
from badgehub.stats.models import StatsRecognitionCell, StatsRecognitionUnit
from badgehub.stats.privacy import MAX_PERTURBATION, ORGANISATION_THRESHOLD, THRESHOLD, Published, publish
from badgehub.stats.queries import observatory, parse_filters
from tests.unit.stats.generated import Generated, build_generated
from tests.unit.stats.recognition_generated import send_recognition
from tests.unit.stats.test_attacks import PERIODS, Knowledge, Solver, observe

TABLES = tuple(recognition.TABLES)


@dataclass(frozen=True)
class Cell:
    """One non-empty recognition cell: what the attacker would like to know the size of."""

    kind: str
    month: int
    organisation: int
    other: int
    territory: int
    detail: str
    truth: int


@pytest.fixture
def generated(ctx: Flask, snapshot: Any) -> Generated:
    queries.clear_cache()
    return snapshot(build_and_send)  # built once per test process (about 3 s)


def build_and_send() -> Generated:
    built = build_generated()
    send_recognition(built)
    return built


def cells() -> list[Cell]:
    merged: dict[tuple[object, ...], int] = defaultdict(int)
    for row in db.session.execute(select(
            StatsRecognitionCell.kind, StatsRecognitionCell.month, StatsRecognitionCell.organisation_id,
            StatsRecognitionCell.other_id, StatsRecognitionCell.territory_id, StatsRecognitionCell.detail,
            StatsRecognitionCell.units).where(StatsRecognitionCell.units > 0)).tuples():
        merged[tuple(row[:6])] += row[6]  # self-declared or not: one atom
    return [Cell(*key, truth) for key, truth in sorted(merged.items())]  # type: ignore[arg-type]


def members(generated: Generated, atoms: list[Cell], args: dict[str, str], table: str, key: str) -> frozenset[int]:
    """The cells a published line (or with ``key`` "total", a table's total) is made of, as the data dictionary
    defines it."""
    kind, side, line = recognition.TABLES[table]
    organisations = {o.id: o for o in generated.organisations}
    start, end = queries.period_months(args["period"])[:2] if args["period"] else (0, 999999)
    chosen = set()
    for index, atom in enumerate(atoms):
        if atom.kind != kind or not start <= atom.month <= end:
            continue
        subject = atom.organisation if side == "organisation" else atom.other
        if subject:
            organisation = organisations[subject]
            if args["sector"] and organisation.sector != args["sector"]:
                continue
            found = {"sector": organisation.sector, "type": organisation.type, "status": atom.detail}[line]
        elif atom.territory == generated.territory.id and not args["sector"] and line != "status":
            found = recognition.TERRITORY
        else:
            continue
        if key in ("total", found):
            chosen.add(index)
    return frozenset(chosen)


def releases(generated: Generated) -> list[tuple[dict[str, str], Published]]:
    territory = generated.territory
    found = []
    for period in PERIODS:
        for sector in ["", *(s.value for s in Sector)]:
            args = {"period": period, "sector": sector, "theme": ""}
            found.append((args, publish(observatory(territory, parse_filters(args, territory)), public=True)))
    return found


def test_each_signal_is_counted_once_and_a_request_moves_with_its_state(generated):
    from badgehub.stats.recognition import recount, stored

    assert stored() == recount() and stored()
    before = stored()
    first = db.session.get(StatsRecognitionUnit, ("endorsement", "1"))
    events.endorsement_issued.send(None, endorsement_id=1, kind=first.detail,  # sent again: nothing new
                                   endorser_organisation_id=first.other_id or None,
                                   endorsed_organisation_id=first.organisation_id, territory_id=None)
    assert stored() == before
    request = db.session.get(StatsRecognitionUnit, ("request", "1"))
    key, month, status = request.record_key, request.month, request.detail
    events.recognition_request_changed.send(None, request_id=1, organisation_id=request.organisation_id,
                                            status="declined" if status != "declined" else "accepted",
                                            self_declared=request.flag)
    moved = db.session.get(StatsRecognitionUnit, ("request", "1"))
    assert (moved.record_key, moved.month) == (key, month) and moved.detail != status
    assert stored() == recount() and stored() != before


def test_the_figures_count_what_the_signals_said(generated):
    territory = generated.territory
    exact = observatory(territory, parse_filters({"period": "2025"}, territory))
    atoms = cells()
    args = {"period": "2025", "sector": "", "theme": ""}
    for table in TABLES:
        groups = exact.tables[table].groups
        assert groups, table
        for group in groups:
            assert group.credentials == sum(atoms[i].truth for i in members(generated, atoms, args, table, group.key))
        total = exact.tables[table].total
        assert total is not None
        assert total.credentials == sum(atoms[i].truth for i in members(generated, atoms, args, table, "total"))
    completions = exact.tables["pathway_completions"]
    assert recognition.TERRITORY in {g.key for g in completions.groups}
    # Completions are learners: the threshold counts distinct learners, who may complete two pathways.
    assert completions.total.learners_low <= completions.total.credentials


def test_differencing_every_period_and_sector_recovers_no_withheld_or_own_figure(generated):
    atoms = cells()
    known = Knowledge(atoms, {}, {}, set(), {}, set())  # type: ignore[arg-type]
    withheld: set[frozenset[int]] = set()
    for args, published in releases(generated):
        for table in TABLES:
            lines = [("total", published.tables[table].total)]
            lines += [(cell.key, cell.value) for cell in published.tables[table].cells]
            for key, value in lines:
                found = members(generated, atoms, args, table, key)
                if value is None:  # every line is listed, zero or not: withheld tells nothing, not even "> 0"
                    withheld.add(found)
                else:
                    observe(known, found, value)
    known.withheld = withheld
    truth = [atom.truth for atom in atoms]
    for found, (low, high) in known.figures.items():  # every published figure is within the bound
        assert low <= sum(truth[i] for i in found) <= high
    assert known.withheld  # the territory has small lines to attack
    targets = {f"withheld {sorted(found)[:3]}…": found for found in known.withheld if found}
    for organisation in generated.organisations:
        for period in PERIODS:
            start, end = queries.period_months(period)[:2] if period else (0, 999999)
            for kind, column in (("endorsement", "other"), ("endorsement", "organisation"),
                                 ("request", "organisation"), ("completion", "organisation")):
                own = frozenset(i for i, a in enumerate(atoms) if a.kind == kind and start <= a.month <= end
                                and getattr(a, column) == organisation.id)
                if own:
                    targets[f"{organisation.name} {kind} {column} in {period or 'all time'}"] = own
    assert len(targets) > 100
    # The attacker knows the organisations and what they could have done, not which of them endorsed which (or
    # was asked, or owns a pathway completed) in each month: that would be knowing the answer, unit by unit.
    assert Solver(known, lower=0).exactly_recovered(targets) == []
    # The limit, stated: one who knew which of those cells are not empty (each at least 1) pins some of them.
    assert Solver(known, lower=1).exactly_recovered(targets)


def test_no_recognition_figure_comes_from_fewer_than_three_organisations(generated):
    territory = generated.territory
    published_any = False
    for period in PERIODS[:6]:
        for sector in ["", *(s.value for s in Sector)]:
            exact = observatory(territory, parse_filters({"period": period, "sector": sector}, territory))
            published = publish(exact, public=True)
            for table in TABLES:
                cells = {cell.key: cell for cell in published.tables[table].cells}
                for group, cell in ((g, cells[g.key]) for g in exact.tables[table].groups):
                    if cell.value:
                        published_any = True
                        assert len(group.organisations) >= ORGANISATION_THRESHOLD, (period, sector, table)
                        assert group.learners_low >= THRESHOLD
                        assert abs(cell.value - group.credentials) <= MAX_PERTURBATION
                total = exact.tables[table].total
                if published.tables[table].total:
                    assert len(total.organisations) >= ORGANISATION_THRESHOLD
    assert published_any
    alone = publish(observatory(territory, parse_filters({"sector": "economic"}, territory)), public=True)
    assert all(c.value in (None, 0) for t in TABLES for c in alone.tables[t].cells)
    assert all(alone.tables[t].total in (None, 0) for t in TABLES)
    # The territory's own line (one contributor) is never published; coordinators see it exactly.
    everything = publish(observatory(territory, parse_filters({}, territory)), public=True)
    own = [c for c in everything.tables["endorsements_given_sectors"].cells if c.key == recognition.TERRITORY]
    assert own and own[0].value is None and own[0].reason == "organisations"
    exact = publish(observatory(territory, parse_filters({}, territory)), public=False)
    assert next(c.value for c in exact.tables["endorsements_given_sectors"].cells if c.key == recognition.TERRITORY)


def test_averaging_many_requests_of_a_recognition_figure_gives_nothing_new(generated):
    territory = generated.territory
    seen = set()
    for _ in range(4):
        queries.clear_cache()
        published = publish(observatory(territory, parse_filters({"period": "2025"}, territory)), public=True)
        seen.add(tuple((t, published.tables[t].total, tuple(c.value for c in published.tables[t].cells))
                       for t in TABLES))
    assert len(seen) == 1
    everything = publish(observatory(territory, parse_filters({}, territory)), public=True)
    assert all(everything.tables[t].total == published.tables[t].total for t in TABLES)


def test_a_new_endorsement_is_never_hidden_by_the_cache(generated):
    territory = generated.territory
    before = observatory(territory, parse_filters({}, territory)).tables["endorsements_received_sectors"].total
    organisations = [o.id for o in generated.organisations]
    events.endorsement_issued.send(None, endorsement_id=10_000, kind="profile",
                                   endorser_organisation_id=organisations[0], endorsed_organisation_id=organisations[1],
                                   territory_id=None)
    after = observatory(territory, parse_filters({}, territory)).tables["endorsements_received_sectors"].total
    assert after.credentials == before.credentials + 1


def test_what_the_territory_itself_does_is_never_hidden_by_the_cache(generated):
    """No organisation's revision follows the territory's own endorsements and pathways: the cache sees them."""
    territory = generated.territory
    before = observatory(territory, parse_filters({}, territory)).tables
    events.pathway_progressed.send(None, pathway_id=99, owner_organisation_id=None, territory_id=territory.id,
                                   holder_key="newcomer@example.org", completed=True)
    events.endorsement_issued.send(None, endorsement_id=10_001, kind="profile", endorser_organisation_id=None,
                                   endorsed_organisation_id=None, territory_id=territory.id)
    after = observatory(territory, parse_filters({}, territory)).tables
    for table in ("pathway_completions", "endorsements_given_sectors"):
        assert after[table].total.credentials == before[table].total.credentials + 1, table
