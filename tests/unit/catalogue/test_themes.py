"""Territory themes: who may change them, the UNESCO preset, local codes, order, tagging achievements."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from badgehub.catalogue.models import Theme, ThemeKind, achievement_themes
from badgehub.catalogue.themes import (
    UNESCO_THEMES,
    add_unesco_themes,
    create_theme,
    delete_theme,
    get_theme_in,
    move_theme,
    set_achievement_themes,
    theme_choices,
    theme_ids_of,
    theme_name,
    themes_of,
    update_theme,
)
from badgehub.errors import Conflict, Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.territory.errors import NotCoordinator


def test_only_coordinators_of_the_territory_change_its_themes(cw):
    evry, nantes = cw.territory, cw.base.other_territory
    for outsider in (cw.nantes_coordinator, cw.base.owner_a, cw.base.issuer_a):
        with pytest.raises(NotCoordinator):
            create_theme(evry, outsider, "Numérique")
        with pytest.raises(NotCoordinator):
            update_theme(cw.transition, outsider, "Autre nom")
        with pytest.raises(NotCoordinator):
            move_theme(cw.transition, outsider, -1)
        with pytest.raises(NotCoordinator):
            delete_theme(cw.transition, outsider)
        with pytest.raises(NotCoordinator):
            add_unesco_themes(evry, outsider)
    with pytest.raises(NotCoordinator):
        create_theme(nantes, cw.base.coordinator, "Ports")
    assert [t.code for t in themes_of(nantes)] == [cw.sea.code]


def test_a_theme_is_found_only_in_its_own_territory(cw):
    assert get_theme_in(cw.territory, cw.transition.id) is cw.transition
    with pytest.raises(NotFound):
        get_theme_in(cw.base.other_territory, cw.transition.id)


def test_unesco_preset_adds_the_six_building_blocks_once(cw):
    unesco = [t for t in themes_of(cw.territory) if t.kind == ThemeKind.UNESCO]
    assert [t.code for t in unesco] == [preset.code for preset in UNESCO_THEMES]
    assert theme_name(unesco[1]) == "Learning in families and communities"
    assert add_unesco_themes(cw.territory, cw.base.coordinator) == []
    delete_theme(unesco[0], cw.base.coordinator)
    [again] = add_unesco_themes(cw.territory, cw.base.coordinator)
    assert again.code == "unesco-inclusive-learning" and themes_of(cw.territory)[-1] is again


def test_unesco_theme_keeps_its_name_but_takes_a_description(cw):
    theme = cw.unesco["unesco-quality"]
    update_theme(theme, cw.base.coordinator, "Qualité à notre façon", "Notre lecture de la qualité.")
    assert theme.name == "Quality in learning" and theme.description == "Notre lecture de la qualité."


def test_local_theme_code_comes_from_its_first_name_and_survives_renaming(cw):
    assert cw.transition.code == "transition-ecologique" and cw.transition.kind == ThemeKind.LOCAL
    update_theme(cw.transition, cw.base.coordinator, "  Écologie   au quotidien ", "")
    assert (cw.transition.name, cw.transition.code) == ("Écologie au quotidien", "transition-ecologique")
    other = create_theme(cw.territory, cw.base.coordinator, "Transition Écologique !")
    assert other.code == "transition-ecologique-2"


@pytest.mark.parametrize(("name", "error"), [
    ("", ValidationError), ("x" * 201, ValidationError), ("bad\x07name", ValidationError),
    ("TRANSITION ECOLOGIQUE", Conflict), ("learning in families and communities", Conflict),
])
def test_theme_names_are_checked(cw, name, error):
    with pytest.raises(error) as raised:
        create_theme(cw.territory, cw.base.coordinator, name)
    assert "name" in raised.value.details["fields"]


def test_moving_a_theme_swaps_it_with_its_neighbour(cw):
    before = [t.id for t in themes_of(cw.territory)]
    move_theme(cw.transition, cw.base.coordinator, -1)
    after = [t.id for t in themes_of(cw.territory)]
    assert after == [*before[:-2], before[-1], before[-2]]
    first = themes_of(cw.territory)[0]
    move_theme(first, cw.base.coordinator, -1)  # already first: nothing moves
    assert [t.id for t in themes_of(cw.territory)] == after
    with pytest.raises(ValidationError):
        move_theme(first, cw.base.coordinator, 3)


def test_deleting_a_theme_removes_its_tags(cw):
    delete_theme(cw.transition, cw.base.coordinator)
    assert theme_ids_of(cw.base.repair) == []
    assert db.session.scalar(select(Theme).where(Theme.code == "transition-ecologique")) is None


def test_achievements_take_themes_of_their_organisation_s_territories_only(cw):
    with pytest.raises(ValidationError) as raised:
        set_achievement_themes(cw.base.repair, [cw.transition.id, cw.sea.id], cw.base.owner_a)
    assert "theme_ids" in raised.value.details["fields"]
    with pytest.raises(ValidationError):
        set_achievement_themes(cw.base.repair, ["abc"], cw.base.owner_a)
    with pytest.raises(ValidationError):
        set_achievement_themes(cw.base.repair, [999999], cw.base.owner_a)
    assert theme_ids_of(cw.base.repair) == [cw.transition.id]
    assert [territory.id for territory, _ in theme_choices(cw.base.a.id)] == [cw.territory.id]


def test_pending_members_may_tag_too(cw):
    assert set_achievement_themes(cw.pending_badge, [cw.transition.id], cw.owner_d) == [cw.transition.id]


def test_only_issuing_staff_of_the_organisation_tag(cw):
    with pytest.raises(Forbidden):
        set_achievement_themes(cw.base.repair, [], cw.base.viewer_a)
    with pytest.raises(NotFound):
        set_achievement_themes(cw.base.repair, [], cw.base.owner_b)
    with pytest.raises(NotFound):
        set_achievement_themes(cw.base.repair, [], cw.base.coordinator)
    assert set_achievement_themes(cw.base.repair, [], cw.base.issuer_a) == []


def test_tagging_makes_no_new_version(cw):
    version_id = cw.stool.current_version_id
    ids = [cw.transition.id, cw.unesco["unesco-quality"].id, cw.transition.id]
    assert set_achievement_themes(cw.stool, ids, cw.base.owner_a) == sorted(set(ids))
    assert cw.stool.current_version_id == version_id and len(cw.stool.versions) == 1
    rows = db.session.execute(select(achievement_themes).where(
        achievement_themes.c.achievement_id == cw.stool.id)).all()
    assert len(rows) == 2
