"""The demo territory uses both kinds of themes, tags its badges, and shows a gap between demand and supply."""

from __future__ import annotations

from sqlalchemy import select

from badgehub.achievements.models import AchievementCompetency
from badgehub.catalogue.demand import demand_by_competency
from badgehub.catalogue.models import ThemeKind
from badgehub.catalogue.search import CatalogueQuery, search_catalogue
from badgehub.catalogue.themes import themes_of
from badgehub.demo import TERRITORY_SLUG
from badgehub.extensions import db
from badgehub.territory.service import get_territory_by_slug
from tests.factories import seeded_demo


def test_demo_territory_has_themes_tags_and_a_skills_gap(ctx, snapshot):
    snapshot(seeded_demo)
    territory = get_territory_by_slug(TERRITORY_SLUG)
    kinds = [theme.kind for theme in themes_of(territory)]
    assert kinds.count(ThemeKind.UNESCO) == 6 and kinds.count(ThemeKind.LOCAL) == 5
    for code in ("transition-ecologique", "citoyennete", "unesco-families-communities"):
        assert search_catalogue(territory, CatalogueQuery(theme=code)).total >= 2, code

    demand = demand_by_competency(territory)
    assert {item.competency.code: item.organisations for item in demand}["TEC.3"] == 2
    recognised = set(db.session.scalars(select(AchievementCompetency.competency_id)))
    gaps = [item.competency.code for item in demand if item.competency.id not in recognised]
    assert "ECO.3" in gaps
