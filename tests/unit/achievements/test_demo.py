"""The demo badges: realistic French badges for each demo organisation, aligned to the demo framework."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from badgehub.achievements import images
from badgehub.achievements.demo import DEMO_ACHIEVEMENTS, seed_demo_achievements
from badgehub.achievements.models import Achievement
from badgehub.competencies.demo import COMPETENCIES, seed_demo_framework
from badgehub.demo import ORGANISATIONS
from badgehub.extensions import db
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.territory.models import TerritoryCoordinator


def test_every_demo_organisation_has_two_to_four_badges_with_known_codes_and_readable_designs():
    known = {code for code, *_ in COMPETENCIES}
    assert set(DEMO_ACHIEVEMENTS) == {demo.slug for demo in ORGANISATIONS}
    for badges in DEMO_ACHIEVEMENTS.values():
        assert 2 <= len(badges) <= 4
        for badge in badges:
            assert set(badge.codes) <= known, badge.name
            images.check_design(badge.design)


def test_seeding_creates_aligned_badges_with_generated_images_once(make_user, make_territory, join):
    territory = make_territory("val-d-orge", competencies=())
    coordinator = db.session.scalars(select(TerritoryCoordinator).where(
        TerritoryCoordinator.territory_id == territory.id)).one().user
    competencies = seed_demo_framework(territory, coordinator)
    owner = make_user()
    organisation = create_organisation(owner, ProfileFields(name="Atelier Vélo Solidaire", type="association",
                                                            sector="community"), slug="atelier-velo-solidaire",
                                                            config=current_app.config)
    join(organisation, territory, owner)
    badges = seed_demo_achievements(organisation, owner, competencies)
    assert [b.current_version.name for b in badges] == [d.name for d in DEMO_ACHIEVEMENTS["atelier-velo-solidaire"]]
    volunteer = badges[2].current_version
    assert [c.code for c in volunteer.competencies] == ["TEC.1", "COO.3", "CIT.4"]
    assert (volunteer.achievement_type, volunteer.valid_for_days, volunteer.in_language) == (
        "CommunityService", 365, "fr")
    assert volunteer.image_source == "generated" and volunteer.image_params["text"] == "Mécanicien·ne bénévole"
    again = seed_demo_achievements(organisation, owner, competencies)
    assert [b.id for b in again] == [b.id for b in badges]
    assert db.session.scalar(select(func.count(Achievement.id))) == 3


def test_without_competencies_badges_are_made_without_alignments(make_user):
    owner = make_user()
    organisation = create_organisation(owner, ProfileFields(name="Menuiserie Durand", type="company",
                                                            sector="economic"), slug="menuiserie-durand",
                                                            config=current_app.config)
    badges = seed_demo_achievements(organisation, owner)
    assert len(badges) == 2
    assert all(b.current_version.competencies == [] for b in badges)


def test_an_organisation_outside_the_demo_gets_no_badge(make_org):
    organisation = make_org("Ailleurs")
    assert seed_demo_achievements(organisation, organisation.members[0].user) == []
