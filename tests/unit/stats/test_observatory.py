"""The observatory's figures against a hand-built dataset, the privacy rules, and the exact pre-aggregates."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from flask import Flask, current_app

from badgehub import events
from badgehub.issuing import service as issuing
from badgehub.stats import queries, service
from badgehub.stats.errors import InvalidFilters
from badgehub.stats.privacy import MAX_PERTURBATION, publish
from badgehub.stats.queries import Filters, observatory, parse_filters
from tests.factories import seeded_demo
from tests.unit.stats.dataset import MONTH, Dataset, build_dataset, learner


@pytest.fixture
def data(ctx: Flask, snapshot: Any) -> Dataset:
    queries.clear_cache()
    return snapshot(build_dataset)  # built once per test process


def values(figures: Any, table: str) -> dict[str, int]:
    return {g.key: g.credentials for g in figures.tables[table].groups if g.credentials}


def published_values(published: Any, table: str) -> dict[str, int | None]:
    return {c.key: c.value for c in published.tables[table].cells}


def test_exact_figures_match_the_hand_built_dataset(data):
    figures = observatory(data.world.territory)
    assert figures.summary.credentials == 23
    assert figures.summary.learners == 12
    assert figures.summary.learners_several_organisations == 6
    assert figures.summary.learners_several_sectors == 6
    assert figures.summary.organisations == 3
    assert values(figures, "monthly") == {"2025-01": 6, "2025-02": 9, "2025-03": 8}
    assert values(figures, "sectors") == {"community": 11, "public_services": 7, "education": 5}
    assert values(figures, "organisation_types") == {"association": 11, "library": 7, "school": 5}
    assert values(figures, "learning_settings") == {"non_formal": 18, "formal": 5}
    assert values(figures, "areas") == {"centre": 9, "gare": 7, "none": 7}
    assert values(figures, "competencies") == {"REP": 8, "LIRE": 7, "ANIM": 3}
    assert values(figures, "domains") == {"MAN": 8, "SOC": 10}
    assert {g.label: g.credentials for g in figures.tables["themes"].groups} == {
        "Transition écologique": 8, "Citoyenneté": 7}
    [demand] = figures.tables["demand"].groups
    assert (demand.key, demand.extra["organisations"], demand.credentials) == ("ANIM", 1, 3)


def test_revoked_credentials_count_nowhere(data):
    figures = observatory(data.world.territory, Filters(start=202501, end=202501))
    assert figures.summary.credentials == 6  # l7's January badge was revoked
    assert figures.summary.learners == 6


def test_filters_select_months_sector_and_theme(data):
    territory = data.world.territory
    february = observatory(territory, parse_filters({"period": "2025-02"}, territory))
    assert february.summary.credentials == 9
    assert values(february, "monthly") == {"2025-02": 9}
    community = observatory(territory, parse_filters({"sector": "community"}, territory))
    assert values(community, "organisation_types") == {"association": 11}
    assert community.summary.learners == 9
    eco_code = next(g.key for g in observatory(territory).tables["themes"].groups if g.credentials == 8)
    eco = observatory(territory, parse_filters({"theme": eco_code}, territory))
    assert eco.summary.credentials == 8
    assert eco.summary.learners == 6  # counted live (a theme narrows to badges), the same rule as the sets
    assert values(eco, "monthly") == {"2025-01": 6, "2025-02": 2}


def test_periods_are_whole_months_quarters_and_years(data):
    territory = data.world.territory
    assert (parse_filters({"period": "2025"}, territory).start, parse_filters({"period": "2025"}, territory).end) == (
        202501, 202512)
    quarter = parse_filters({"period": "2025-q2"}, territory)
    assert (quarter.start, quarter.end, quarter.args()) == (202504, 202506, {"period": "2025-Q2"})
    month = parse_filters({"period": "2025-03"}, territory)
    assert (month.start, month.end) == (202503, 202503)
    assert parse_filters({}, territory) == Filters()
    assert queries.periods_between(202411, 202502) == {
        "years": ["2025", "2024"], "quarters": ["2025-Q1", "2024-Q4"],
        "months": ["2025-02", "2025-01", "2024-12", "2024-11"]}


@pytest.mark.parametrize(("args", "field"), [
    ({"period": "2025-13"}, "period"), ({"period": "janvier"}, "period"), ({"period": "2025-Q5"}, "period"),
    ({"from": "2025-01", "to": "2025-02"}, "period"), ({"to": "2025-02"}, "period"),
    ({"sector": "space"}, "sector"), ({"theme": "nope"}, "theme")])
def test_malformed_filters_are_refused_by_name(data, args, field):
    with pytest.raises(InvalidFilters) as error:
        parse_filters(args, data.world.territory)
    assert field in error.value.details["fields"]


def test_public_figures_withhold_lines_of_fewer_than_three_organisations(data):
    exact = observatory(data.world.territory)
    published = publish(exact, public=True)
    # Each competency, sector, type, month and area of the hand-built dataset comes from one or two organisations.
    for name in ("competencies", "sectors", "organisation_types", "monthly", "areas", "themes", "domains"):
        assert all(c.value is None and c.reason == "organisations" for c in published.tables[name].cells), name
    [demand] = published.tables["demand"].cells
    assert demand.value is None and demand.extra["gap"] is True and demand.extra["organisations"] == 1
    # The whole territory counts three organisations and twelve learners: its headline figures are published,
    # each within the bound of the perturbation of its exact value.
    summary = published.summary
    for name, truth in (("credentials", 23), ("learners", 12), ("learners_several_organisations", 6),
                        ("learners_several_sectors", 6)):
        assert abs(getattr(summary, name) - truth) <= MAX_PERTURBATION, name
    assert abs(summary.organisations - 3) <= MAX_PERTURBATION  # a count of organisations: perturbed too
    assert "organisations" not in published.tables


def test_the_count_of_organisations_that_issued_follows_the_same_rules(data):
    """Publicly, the count of organisations that issued is withheld with the selection's figures, and otherwise
    perturbed with the sum of the organisations' record keys; coordinators see it exact."""
    from badgehub.stats.ptable import perturbed

    territory = data.world.territory
    exact = observatory(territory)
    organisations = {o.id: o for o in (data.world.a, data.world.b, data.c)}
    keys = {o.id: service_record_key(o.id) for o in organisations.values()}
    assert exact.summary.keys["organisations"] == sum(keys.values())
    assert publish(exact, public=True).summary.organisations == perturbed(3, sum(keys.values()))
    assert publish(exact, public=False).summary.organisations == 3
    # One sector is one organisation here: neither its figures nor the count that would confirm it are shown.
    alone = publish(observatory(territory, parse_filters({"sector": "education"}, territory)), public=True)
    assert alone.summary.credentials is None and alone.summary.organisations is None


def service_record_key(organisation_id: int) -> int:
    from badgehub.extensions import db
    from badgehub.stats.models import StatsOrganisation

    row = db.session.get(StatsOrganisation, organisation_id)
    assert row is not None
    return row.record_key


def test_the_same_figure_always_gets_the_same_noise(data):
    territory = data.world.territory
    first = publish(observatory(territory), public=True)
    queries.clear_cache()
    again = publish(observatory(territory, parse_filters({}, territory)), public=True)
    assert first.summary == again.summary
    # All the time there is and the year 2025 count the very same credentials: the same cell, the same noise.
    year = publish(observatory(territory, parse_filters({"period": "2025"}, territory)), public=True)
    assert year.summary.credentials == first.summary.credentials


def test_coordinators_get_exact_figures_and_the_per_organisation_table(data):
    published = publish(observatory(data.world.territory, detail=True), public=False)
    assert published_values(published, "competencies") == {"REP": 8, "LIRE": 7, "ANIM": 3}
    assert [c.hidden_publicly for c in published.tables["competencies"].cells] == [True, True, True]
    assert [c.reason for c in published.tables["competencies"].cells] == ["organisations"] * 3
    assert {c.label: c.value for c in published.tables["organisations"].cells} == {
        "Atelier Vélo": 11, "Bibliothèque": 7, "Collège Jean Moulin": 5}
    assert published.summary.non_formal_percent == 78


def test_a_total_is_a_figure_of_its_own(data):
    published = publish(observatory(data.world.territory), public=True)
    from badgehub.stats.exports import RECOGNITION

    for table in published.tables.values():
        if table.partition and table.name not in RECOGNITION:  # recognition tables count other units
            assert table.total == published.summary.credentials  # not the sum of the lines (all withheld here)
        elif table.partition:
            assert table.total is None  # nothing recognised: withheld like a small figure, zero or not


def test_pre_aggregates_equal_a_live_recount_after_issuing_and_revoking(data):
    assert service.stored() == service.recount()
    world = data.world
    again = issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=learner(1),
                                     recipient_name="", actor_id=None, source="cli", area_id=world.area("gare").id,
                                     now=MONTH[2], config=current_app.config)
    assert service.stored() == service.recount()
    issuing.revoke_credential(again, note="Twice.", actor_id=None, config=current_app.config)
    assert service.stored() == service.recount()
    issuing.revoke_credential(data.credentials[0], note="Mistake.", actor_id=None, config=current_app.config)
    assert service.stored() == service.recount()
    service.rebuild()
    assert service.stored() == service.recount()


def test_the_headline_cell_keys_are_the_sums_of_the_learners_record_keys(data):
    """Learners' record keys are read from packed blocks kept as learners are counted: a newcomer's key is there
    at once, and the cell key of the distinct learners is the sum of their own record keys."""
    from sqlalchemy import select

    from badgehub.extensions import db
    from badgehub.issuing.models import IssuedCredential
    from badgehub.stats.models import StatsLearner

    world = data.world
    for number in (40, 41, 42):
        issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=learner(number),
                                 recipient_name="", actor_id=None, source="cli", area_id=None, now=MONTH[3],
                                 config=current_app.config)
    assert service.stored() == service.recount()  # the blocks hold every learner's key, and only theirs
    summary = observatory(world.territory).summary
    members = {world.a.id, world.b.id, data.c.id}
    holders = set(db.session.scalars(select(IssuedCredential.recipient_email_key).where(
        IssuedCredential.revoked_at.is_(None), IssuedCredential.organisation_id.in_(members))))
    keys = dict(db.session.execute(select(StatsLearner.key_hash, StatsLearner.record_key)).tuples().all())
    assert summary.learners == len(holders) == 15
    assert summary.keys["learners"] == sum(keys[service.key_hash(holder)] for holder in holders)


def test_learners_counted_on_the_sets_equal_a_live_count(data):
    """Distinct learners of any organisations, months and badge versions, as the observatory counts them (unions
    of the learner sets per month, or per version when the question is narrowed to some badges), equal a
    COUNT(DISTINCT) on the live credentials."""
    from itertools import combinations

    from sqlalchemy import func, select

    from badgehub.extensions import db
    from badgehub.issuing.models import IssuedCredential
    from badgehub.stats.learners import LearnerCounter, Scope, _where
    from badgehub.stats.service import learner_key

    world = data.world
    issuing.revoke_credential(data.credentials[0], note="Mistake.", actor_id=None, config=current_app.config)
    organisations = [world.a.id, world.b.id, data.c.id]
    versions = sorted(set(db.session.scalars(select(IssuedCredential.achievement_version_id))))
    checked = 0
    for start, end in ((None, None), (202501, 202501), (202502, 202503), (202503, 202503)):
        counter = LearnerCounter({}, {}, Scope(frozenset(organisations), start, end))
        for size in (1, 2, 3):
            for chosen in combinations(organisations, size):
                for narrowed in (None, *({v} for v in versions), set(versions[:2]), set(versions[1:])):
                    scope = Scope(frozenset(chosen), start, end, None if narrowed is None else frozenset(narrowed))
                    live = db.session.scalar(select(func.count(func.distinct(learner_key()))).where(*_where(scope)))
                    assert counter.learners(scope) == live, scope
                    checked += 1
    assert checked > 100


def test_credentials_counted_together_give_what_counting_them_one_by_one_gives(data):
    from badgehub.errors import ValidationError
    from badgehub.wallet.erasure import blank_issued_recipients

    world = data.world
    gare, centre = world.area("gare").id, world.area("centre").id
    # An erased learner (as the account erasure does it) gets one more badge below.
    blank_issued_recipients({learner(2)})
    service.forget_learners({learner(2)})
    awards = [  # repeats within the block, learners already counted this month, two areas, two months, a refusal
        (learner(1), gare, MONTH[2]), (learner(1), gare, MONTH[2]), (learner(1), centre, MONTH[2]),
        ("new.person@example.org", None, MONTH[2]), ("new.person@example.org", None, MONTH[3]),
        (learner(3), centre, MONTH[1]), ("not an address", None, MONTH[1]), (learner(2), None, MONTH[1]),
    ]
    with events.issued_together():
        for email, area_id, moment in awards:
            with contextlib.suppress(ValidationError):
                issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=email,
                                         recipient_name="", actor_id=None, source="csv", area_id=area_id, now=moment,
                                         config=current_app.config)
        assert service.stored() != service.recount()  # nothing counted before the block ends
    assert service.stored() == service.recount()


def test_nothing_is_counted_when_the_block_fails(data):
    world = data.world
    before = service.stored()
    with pytest.raises(RuntimeError), events.issued_together():
        issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=learner(1),
                                 recipient_name="", actor_id=None, source="csv", now=MONTH[2],
                                 config=current_app.config)
        raise RuntimeError("the chunk fails")
    assert service.stored() == before


def test_learner_counts_of_a_cell_follow_repeat_awards(data):
    world = data.world
    before = observatory(world.territory, Filters(start=202502, end=202502))
    issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=f" {learner(1).upper()}",
                             recipient_name="", actor_id=None, source="cli", now=MONTH[2], config=current_app.config)
    after = observatory(world.territory, Filters(start=202502, end=202502))
    assert after.summary.credentials == before.summary.credentials + 1
    assert after.summary.learners == before.summary.learners  # the same person (e-mail matched trimmed, any case)


def test_an_organisation_leaving_the_territory_takes_its_figures_out(data):
    from sqlalchemy import select

    from badgehub.extensions import db
    from badgehub.territory.models import TerritoryMembership
    from badgehub.territory.service import decide_membership, get_membership_in

    world = data.world
    membership = db.session.scalar(select(TerritoryMembership).where(
        TerritoryMembership.organisation_id == data.c.id, TerritoryMembership.territory_id == world.territory.id))
    decide_membership(get_membership_in(world.territory, membership.id), "suspend", world.coordinator, "Audit.")
    figures = observatory(world.territory)
    assert figures.summary.credentials == 18
    assert values(figures, "learning_settings") == {"non_formal": 18}
    assert publish(figures, public=False).summary.non_formal_percent == 100
    assert publish(figures, public=True).summary.credentials is None  # two organisations left: nothing public


def test_another_territory_counts_none_of_these_credentials(data):
    figures = observatory(data.world.other_territory)
    assert figures.summary.credentials == 0 and figures.summary.learners == 0
    assert all(not t.groups or all(g.credentials == 0 for g in t.groups) for t in figures.tables.values())


def test_pre_aggregates_equal_a_live_recount_for_the_demo(ctx, snapshot):
    snapshot(seeded_demo)
    stored, recounted = service.stored(), service.recount()
    assert stored == recounted and stored[0]


def test_cli_checks_and_rebuilds_the_pre_aggregates(data, runner):
    from sqlalchemy import update

    from badgehub.extensions import db
    from badgehub.stats.models import StatsCell

    assert runner.invoke(args=["observatory", "check"]).exit_code == 0
    db.session.execute(update(StatsCell).values(credentials=StatsCell.credentials + 1))
    db.session.commit()
    assert runner.invoke(args=["observatory", "check"]).exit_code == 1
    rebuilt = runner.invoke(args=["observatory", "rebuild"])
    assert rebuilt.exit_code == 0 and "rebuilt" in rebuilt.output
    assert runner.invoke(args=["observatory", "check"]).exit_code == 0


def test_tagging_a_badge_with_a_theme_shows_at_once(data):
    from badgehub.catalogue.themes import set_achievement_themes, themes_of

    world = data.world
    before = observatory(world.territory)
    assert "Transition écologique" not in {g.label for g in before.tables["themes"].groups if g.credentials == 10}
    eco = next(t for t in themes_of(world.territory) if t.name == "Transition écologique")
    set_achievement_themes(world.workshop, [eco.id], world.owner_a)
    after = observatory(world.territory)
    assert {g.label: g.credentials for g in after.tables["themes"].groups}["Transition écologique"] == 11


def test_an_erased_person_counts_as_one_learner_however_many_badges(data):
    from badgehub.wallet.erasure import blank_issued_recipients

    world = data.world
    april = dt.datetime(2025, 4, 2, 9, tzinfo=dt.UTC)
    for _ in range(5):
        issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email="p@example.org",
                                 recipient_name="", actor_id=None, source="cli", now=april, config=current_app.config)
    blank_issued_recipients({"p@example.org"})
    figures = observatory(world.territory, Filters(start=202504, end=202504))
    assert figures.summary.credentials == 5 and figures.summary.learners == 1
    assert publish(figures, public=True).tables["competencies"].cells[0].value is None
    assert service.stored() == service.recount()


def test_empty_months_are_published_as_true_zeros(data):
    territory = data.world.territory
    published = publish(observatory(territory, parse_filters({"period": "2024-Q4"}, territory)), public=True)
    assert [(c.key, c.value) for c in published.tables["monthly"].cells] == [
        ("2024-10", 0), ("2024-11", 0), ("2024-12", 0)]
    nothing = publish(observatory(territory, parse_filters({"period": "2020"}, territory)), public=True)
    assert nothing.summary.credentials == 0 and nothing.summary.learners == 0


def test_the_demo_observatory_has_public_figures_and_hidden_lines(ctx, snapshot):
    from badgehub.demo import TERRITORY_SLUG
    from badgehub.stats.demo import seed_demo_observatory
    from badgehub.territory.service import get_territory_by_slug

    snapshot(seeded_demo)
    assert seed_demo_observatory(TERRITORY_SLUG, ctx.config) == 0  # seeded once, by the demo itself
    published = publish(observatory(get_territory_by_slug(TERRITORY_SLUG)), public=True)
    assert published.summary.credentials and published.summary.learners
    cells = [c for t in published.tables.values() for c in t.cells]
    assert any(c.value for c in cells) and any(c.suppressed for c in cells)


def test_forgetting_erased_learners_keeps_the_counts_and_drops_their_hash(data):
    from sqlalchemy import select

    from badgehub.extensions import db
    from badgehub.stats.models import StatsLearner

    before = observatory(data.world.territory).summary
    assert service.forget_learners({learner(1), "nobody@example.org"}) == 1
    hashes = set(db.session.scalars(select(StatsLearner.key_hash)))
    assert service.key_hash(learner(1)) not in hashes and service.key_hash(learner(2)) in hashes
    queries.clear_cache()
    assert observatory(data.world.territory).summary == before
