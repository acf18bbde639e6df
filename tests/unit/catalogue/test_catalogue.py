"""The public catalogue: what is offered, every filter alone and combined, search, pagination."""

from __future__ import annotations

from typing import Any

import pytest

from badgehub.catalogue.search import MAX_PAGE, CatalogueQuery, catalogue_facets, offered_count, search_catalogue
from badgehub.territory.service import decide_membership
from tests.factories import CatalogueWorld


def names(cw: CatalogueWorld, **query: Any) -> list[str]:
    page = search_catalogue(cw.territory, CatalogueQuery(**query))
    return [entry.version.name for entry in page.entries]


def test_catalogue_lists_approved_members_non_archived_badges_by_name(cw):
    assert names(cw) == ["Club de lecture", "Démarches en ligne", "Fabriquer un tabouret", "Réparer une crevaison"]
    assert offered_count(cw.territory) == 4


def test_suspending_a_member_removes_its_badges_and_reinstating_brings_them_back(cw):
    membership = next(m for m in cw.base.b.memberships if m.territory_id == cw.territory.id)
    decide_membership(membership, "suspend", cw.base.coordinator, "Vérification")
    assert names(cw) == ["Fabriquer un tabouret", "Réparer une crevaison"]
    decide_membership(membership, "reinstate", cw.base.coordinator)
    assert "Démarches en ligne" in names(cw)
    membership_c = next(m for m in cw.c.memberships if m.territory_id == cw.territory.id)
    decide_membership(membership_c, "reinstate", cw.base.coordinator)
    assert "Réparer un moteur" in names(cw)


def test_another_territory_offers_none_of_these_badges(cw):
    assert search_catalogue(cw.base.other_territory, CatalogueQuery()).total == 0


def test_competency_filter_includes_everything_under_it(cw):
    assert names(cw, competency="TEC.1") == ["Réparer une crevaison"]  # aligned to TEC.1.A, under TEC.1
    assert names(cw, competency="TEC.1.A") == ["Réparer une crevaison"]
    assert names(cw, competency="NUM.1") == ["Démarches en ligne"]


def test_domain_filter_takes_the_whole_top_level_group(cw):
    assert names(cw, domain="TEC") == ["Fabriquer un tabouret", "Réparer une crevaison"]
    assert names(cw, domain="NUM") == ["Démarches en ligne"]


def test_domain_filter_ignores_a_competency_that_is_not_a_domain(cw):
    page = search_catalogue(cw.territory, CatalogueQuery(domain="TEC.1"))
    assert page.total == 4 and page.ignored == ["domain"] and page.query.domain == ""


def test_theme_filter(cw):
    assert names(cw, theme="transition-ecologique") == ["Réparer une crevaison"]
    assert names(cw, theme="unesco-workplace") == ["Fabriquer un tabouret"]
    assert names(cw, theme="unesco-quality") == []


def test_a_theme_of_another_territory_is_ignored_not_applied(cw):
    page = search_catalogue(cw.territory, CatalogueQuery(theme=cw.sea.code))
    assert page.ignored == ["theme"] and page.total == 4


def test_sector_organisation_area_and_type_filters(cw):
    assert names(cw, sector="public_services") == ["Club de lecture", "Démarches en ligne"]
    assert names(cw, sector="economic") == []  # C is suspended
    assert names(cw, organisation=cw.base.a.slug) == ["Fabriquer un tabouret", "Réparer une crevaison"]
    assert names(cw, area="gare") == ["Club de lecture", "Démarches en ligne"]
    assert names(cw, achievement_type="Course") == ["Fabriquer un tabouret"]


def test_filters_combine(cw):
    assert names(cw, sector="community", domain="TEC", theme="unesco-workplace") == ["Fabriquer un tabouret"]
    assert names(cw, area="centre", competency="NUM.1") == []
    assert names(cw, text="rustine", organisation=cw.base.a.slug, area="centre") == ["Réparer une crevaison"]


@pytest.mark.parametrize(("text", "expected"), [
    ("ECOLOGIQUE", ["Fabriquer un tabouret"]),              # description "écologique", any case, no accent
    ("démarches", ["Démarches en ligne"]),                 # name
    ("DEMARCHES", ["Démarches en ligne"]),
    ("Rustine", ["Réparer une crevaison"]),                # criteria
    ("reparation", ["Réparer une crevaison"]),             # keyword "réparation"
    ("vélo réparation", ["Réparer une crevaison"]),        # every word must match
    ("vélo cuisine", []),
    ("   ", ["Club de lecture", "Démarches en ligne", "Fabriquer un tabouret", "Réparer une crevaison"]),
])
def test_search_ignores_case_and_accents(cw, text, expected):
    assert names(cw, text=text) == expected


def test_unknown_filter_values_are_dropped(cw):
    page = search_catalogue(cw.territory, CatalogueQuery(competency="NOPE", organisation="nobody", area="moon",
                                                         sector="space"))
    assert page.total == 4
    assert sorted(page.ignored) == ["area", "competency", "organisation", "sector"]
    assert not page.query.filtered


def test_pagination_and_a_page_past_the_end(cw):
    first = search_catalogue(cw.territory, CatalogueQuery(), per_page=3)
    assert (first.total, first.pages, len(first.entries)) == (4, 2, 3)
    last = search_catalogue(cw.territory, CatalogueQuery(page=99), per_page=3)
    assert last.page == 2 and [e.version.name for e in last.entries] == ["Réparer une crevaison"]


def test_entries_carry_issuer_competencies_and_themes(cw):
    [entry] = search_catalogue(cw.territory, CatalogueQuery(text="crevaison")).entries
    assert entry.organisation.id == cw.base.a.id
    assert [c.code for c in entry.competencies] == ["TEC.1.A"]
    assert [t.code for t in entry.themes] == ["transition-ecologique"]


def test_facets_offer_the_territory_s_choices(cw):
    facets = catalogue_facets(cw.territory)
    assert [c.code for c in facets.domains] == ["NUM", "TEC"]
    assert [t.code for t in facets.themes][-1] == "transition-ecologique" and len(facets.themes) == 7
    assert {o.slug for o in facets.organisations} == {cw.base.a.slug, cw.base.b.slug}
    assert facets.types == ["Badge", "Course"]
    assert [a.code for a in facets.areas] == ["centre", "gare"]


def test_query_string_is_read_leniently():
    query = CatalogueQuery.from_args({"q": "  vélo " + "x" * 500, "page": "-3", "type": "Course"})
    assert query.text.startswith("vélo") and len(query.text) == 200 and query.page == 1
    assert CatalogueQuery.from_args({"page": "99999999999"}).page == MAX_PAGE
    assert CatalogueQuery.from_args({"page": "²"}).page == 1
    assert CatalogueQuery.from_args({"page": "7"}).args(page=8) == {"page": 8}
    assert CatalogueQuery(text="a", theme="t").args() == {"q": "a", "theme": "t"}


def test_archived_badge_is_not_offered(cw):
    assert "Animer un atelier" not in names(cw, text="atelier")


def test_search_follows_edits_of_a_badge(cw):
    from badgehub.achievements import service as achievements

    version = cw.online.current_version
    achievements.update_achievement(cw.online, cw.base.owner_b, achievements.AchievementFields(
        name="Démarches en ligne", description="Impôts et CAF sur Internet.", criteria_md="Une déclaration.",
        in_language="fr", competency_ids=[cw.competencies["NUM.1"].id]))
    assert cw.online.current_version is version  # never awarded: edited in place
    assert names(cw, text="impots") == ["Démarches en ligne"]
    assert names(cw, text="administratives") == []


def test_search_reads_versions_written_without_the_orm(cw):
    from sqlalchemy import delete

    from badgehub.catalogue.models import CatalogueText
    from badgehub.extensions import db

    db.session.execute(delete(CatalogueText))
    assert names(cw) == ["Club de lecture", "Démarches en ligne", "Fabriquer un tabouret", "Réparer une crevaison"]
    last = search_catalogue(cw.territory, CatalogueQuery(page=2), per_page=3)
    assert (last.total, [e.version.name for e in last.entries]) == (4, ["Réparer une crevaison"])
    assert names(cw, text="RUSTINE") == ["Réparer une crevaison"]
    assert names(cw, text="rustine tabouret") == []


@pytest.mark.parametrize("text", ["%", "_", "\\", "%%", "r_parer"])
def test_search_wildcards_are_plain_characters(cw, text):
    assert names(cw, text=text) == []
