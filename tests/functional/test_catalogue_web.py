"""Catalogue, themes and skills-demand pages through the browser's eyes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, select

from badgehub.catalogue.demand import demand_of
from badgehub.catalogue.models import Theme
from badgehub.catalogue.themes import theme_ids_of
from badgehub.extensions import db
from tests.conftest import csrf_token_from, sign_in, token_of
from tests.factories import build_catalogue_world


def build_catalogue_ids() -> dict[str, Any]:
    return build_catalogue_world().ids()


@pytest.fixture
def ids(snapshot) -> dict[str, Any]:
    return snapshot(build_catalogue_ids)


def page(client, url: str, status: int = 200, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def listed(html: str) -> list[str]:
    return re.findall(r'<h3 class="card-title"><a href="/achievements/[^"]+">([^<]+)</a>', html)


# The public catalogue


def test_catalogue_page_lists_and_filters_without_javascript(client, ids):
    html = page(client, "/t/evry/badges")
    assert listed(html) == ["Club de lecture", "Démarches en ligne", "Fabriquer un tabouret", "Réparer une crevaison"]
    assert 'method="get"' in html and f'/achievements/{ids["repair"]}/image' in html
    assert listed(page(client, "/t/evry/badges?q=DEMARCHES")) == ["Démarches en ligne"]
    assert listed(page(client, "/t/evry/badges?theme=transition-ecologique&sector=community")) == [
        "Réparer une crevaison"]
    assert listed(page(client, "/t/evry/badges?domain=TEC&type=Course")) == ["Fabriquer un tabouret"]
    assert listed(page(client, "/t/evry/badges?area=gare&organisation=nobody")) == [
        "Club de lecture", "Démarches en ligne"]


def test_catalogue_empty_states(client, ids):
    html = page(client, "/t/evry/badges?q=astronomie")
    assert listed(html) == [] and "No badge matches this search" in html
    assert "offer no badge yet" in page(client, "/t/nantes/badges")


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=99999999999", "q=" + "é" * 5000,
                                   "competency=<script>", "type=x&type=y", "page=²"])
def test_catalogue_survives_malformed_queries(client, ids, query):
    html = page(client, f"/t/evry/badges?{query}")
    assert "<script>" not in html.split("<main", 1)[-1]


def test_a_nul_byte_in_a_filter_is_a_bad_request(client, ids):
    # Refused before any view (no text of ours holds a NUL, and PostgreSQL cannot compare one): our error page.
    response = client.get("/t/evry/badges?theme=%00")
    assert response.status_code == 400 and "Traceback" not in response.get_data(as_text=True)


def test_catalogue_paginates_with_links_keeping_the_filters(client, setup, ids):
    from badgehub.achievements import service as achievements
    from badgehub.organisations.service import get_organisation_by_slug
    from tests.factories import BADGE_PNG

    def more() -> None:
        organisation = get_organisation_by_slug(ids["a"])
        owner = organisation.members[0].user
        for number in range(25):
            achievements.create_achievement(organisation, owner, achievements.AchievementFields(
                name=f"Atelier vélo {number:02d}", description="Vélo.", criteria_md="Venir.", in_language="fr"),
                achievements.UploadedImage(BADGE_PNG))

    setup(more)
    first = page(client, "/t/evry/badges?q=velo")
    assert "Page 1 of 2" in first and len(listed(first)) == 20
    assert 'href="/t/evry/badges?q=velo&amp;page=2"' in first
    second = page(client, "/t/evry/badges?q=velo&page=2")
    assert listed(second)[-1] == "Réparer une crevaison" and len(listed(second)) == 6


def test_catalogue_page_queries_do_not_grow_with_results(client, setup, ids, app):
    from badgehub.achievements import service as achievements
    from badgehub.organisations.service import get_organisation_by_slug
    from tests.factories import BADGE_PNG

    def count_queries(url: str) -> int:
        statements: list[str] = []

        def remember(*args: Any) -> None:
            statements.append(args[2])

        with app.app_context():
            engine = db.engines[None]
        target = engine.engine if hasattr(engine, "engine") else engine
        event.listen(target, "before_cursor_execute", remember)
        try:
            page(client, url)
        finally:
            event.remove(target, "before_cursor_execute", remember)
        return len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))])

    few = count_queries("/t/evry/badges")

    def more() -> None:
        organisation = get_organisation_by_slug(ids["b"])
        owner = organisation.members[0].user
        for number in range(15):
            achievements.create_achievement(organisation, owner, achievements.AchievementFields(
                name=f"Lecture {number:02d}", description="Lire.", criteria_md="Lire.", in_language="fr",
                competency_ids=[ids["competency_ids"]["NUM.1"]]), achievements.UploadedImage(BADGE_PNG))

    setup(more)
    assert few > 5 and count_queries("/t/evry/badges") == few


def test_territory_page_offers_the_search_and_the_themes(client, ids):
    html = page(client, "/t/evry")
    assert 'action="/t/evry/badges"' in html and "Browse all 4 badges" in html
    assert 'href="/t/evry/badges?theme=transition-ecologique"' in html
    assert "Learning in families and communities" in html
    assert "Manage the themes" not in html
    sign_in(client, ids["coordinator"])
    assert "Manage the themes" in page(client, "/t/evry")


def test_pages_render_in_french_and_english(client, ids):
    for url in ("/t/evry", "/t/evry/badges", "/t/evry/badges?q=v%C3%A9lo&domain=TEC"):
        assert '<html lang="fr">' in page(client, url, **{"Accept-Language": "fr"})
        assert '<html lang="en">' in page(client, url, **{"Accept-Language": "en"})
    sign_in(client, ids["coordinator"])
    assert '<html lang="fr">' in page(client, "/coordinate/evry/themes", **{"Accept-Language": "fr"})
    sign_in(client, ids["owner_a"])
    assert '<html lang="fr">' in page(client, f"/organisations/{ids['a']}/demand", **{"Accept-Language": "fr"})


# Themes (coordinators)


def test_theme_page_is_for_the_territory_s_coordinators_only(client, ids):
    assert client.get("/coordinate/evry/themes").status_code == 302  # sign in first
    sign_in(client, ids["owner_a"])
    assert client.get("/coordinate/evry/themes").status_code == 403
    sign_in(client, ids["nantes_coordinator"])
    assert client.get("/coordinate/evry/themes").status_code == 403
    token = token_of(client, "/coordinate/nantes/themes")
    for url in ("/coordinate/evry/themes", "/coordinate/evry/themes/unesco",
                f"/coordinate/evry/themes/{ids['transition']}", f"/coordinate/evry/themes/{ids['transition']}/move",
                f"/coordinate/evry/themes/{ids['transition']}/delete"):
        response = client.post(url, data={"csrf_token": token, "name": "Pirate", "direction": "up"})
        assert response.status_code == 403, url
    # A theme of Évry through Nantes' address: not found.
    response = client.post(f"/coordinate/nantes/themes/{ids['transition']}/delete", data={"csrf_token": token})
    assert response.status_code == 404


def test_coordinator_adds_renames_moves_and_deletes_themes(client, ids, query):
    sign_in(client, ids["coordinator"])
    token = token_of(client, "/coordinate/evry/themes")
    response = client.post("/coordinate/evry/themes", data={"csrf_token": token, "name": "Citoyenneté",
                                                           "description": "Vie de la cité."})
    assert response.status_code == 302
    assert "Citoyenneté" in page(client, "/coordinate/evry/themes")
    duplicate = client.post("/coordinate/evry/themes", data={"csrf_token": token, "name": "CITOYENNETE"})
    assert duplicate.status_code == 409 and "already has a theme with this name" in duplicate.get_data(as_text=True)
    empty = client.post("/coordinate/evry/themes", data={"csrf_token": token, "name": "  "})
    assert empty.status_code == 400 and "Give the theme a name." in empty.get_data(as_text=True)
    prefix = f"t{ids['transition']}"
    renamed = client.post(f"/coordinate/evry/themes/{ids['transition']}", data={
        "csrf_token": token, f"{prefix}-name": "Écologie", f"{prefix}-description": ""})
    assert renamed.status_code == 302
    client.post(f"/coordinate/evry/themes/{ids['transition']}/move", data={"csrf_token": token, "direction": "down"})
    client.post(f"/coordinate/evry/themes/{ids['unesco']['unesco-quality']}/delete", data={"csrf_token": token})

    def codes() -> list[str]:
        territory_themes = db.session.scalars(select(Theme).join(Theme.territory).where(
            Theme.territory.has(slug="evry")).order_by(Theme.position, Theme.id))
        return [(t.code, t.name) for t in territory_themes]

    final = query(codes)
    assert ("unesco-quality", "Quality in learning") not in final
    assert final[-2:] == [("citoyennete", "Citoyenneté"), ("transition-ecologique", "Écologie")]
    again = client.post("/coordinate/evry/themes/unesco", data={"csrf_token": token})
    assert again.status_code == 302 and query(codes)[-1][0] == "unesco-quality"


def test_theme_forms_need_the_csrf_token(client, ids, query):
    sign_in(client, ids["coordinator"])
    response = client.post(f"/coordinate/evry/themes/{ids['transition']}/delete", data={})
    assert response.status_code in (302, 400)
    assert query(lambda: db.session.get(Theme, ids["transition"])) is not None


# Tagging achievements


def test_achievement_form_offers_the_territory_s_themes_and_refuses_others(client, ids, query):
    sign_in(client, ids["owner_a"])
    url = f"/organisations/{ids['a']}/achievements/{ids['repair']}/edit"
    html = page(client, url)
    assert f'name="theme_ids" value="{ids["transition"]}" checked' in html
    assert f'value="{ids["sea"]}"' not in html
    base = {"csrf_token": csrf_token_from(html), "name": "Réparer une crevaison",
            "description": "Sait réparer une chambre à air crevée.",
            "criteria_md": "- démonter la roue\n- trouver le trou\n- poser une rustine", "criteria_url": "",
            "achievement_type": "Badge", "tags": "vélo, réparation", "in_language": "fr", "valid_for_days": "",
            "evidence_expected": "", "image_mode": "keep", "submit": "1",
            "competency_ids": [ids["competency_ids"]["TEC.1.A"]]}
    refused = client.post(url, data={**base, "theme_ids": [ids["transition"], ids["sea"]]})
    assert refused.status_code == 400
    assert "Choose themes of your organisation&#39;s territories." in refused.get_data(as_text=True)
    bad = client.post(url, data={**base, "theme_ids": ["abc"]})
    assert bad.status_code == 400
    saved = client.post(url, data={**base, "theme_ids": [ids["unesco"]["unesco-quality"]]})
    assert saved.status_code == 302

    def tags() -> list[int]:
        from badgehub.achievements.service import public_achievement

        return theme_ids_of(public_achievement(ids["repair"]))

    assert query(tags) == [ids["unesco"]["unesco-quality"]]


# Skills demand


def test_demand_page_lets_owners_and_issuers_declare_and_withdraw(client, ids, query):
    url = f"/organisations/{ids['a']}/demand"
    sign_in(client, ids["owner_a"])
    html = page(client, url)
    assert "Skills we look for" in html and 'aria-current="page"' in html
    assert f'value="{ids["nantes_competency"]}"' not in html
    token = csrf_token_from(html)
    competency = ids["competency_ids"]["TEC.2"]
    response = client.post(url, data={"csrf_token": token, "competency_id": competency, "note": "Menuisiers"})
    assert response.status_code == 302
    assert "Menuisiers" in page(client, url)
    refused = client.post(url, data={"csrf_token": token, "competency_id": ids["nantes_competency"], "note": ""})
    assert refused.status_code == 400 and "Choose a competency of your territories" in refused.get_data(as_text=True)
    too_long = client.post(url, data={"csrf_token": token, "competency_id": competency, "note": "x" * 600})
    assert too_long.status_code == 400

    def notes() -> list[str]:
        from badgehub.organisations.service import get_organisation_by_slug

        return [d.note for d in demand_of(get_organisation_by_slug(ids["a"]))]

    assert query(notes) == ["Menuisiers"]
    withdrawn = client.post(f"{url}/{competency}/withdraw", data={"csrf_token": token})
    assert withdrawn.status_code == 302 and query(notes) == []


def test_demand_page_refuses_viewers_and_other_organisations(client, ids, query):
    url = f"/organisations/{ids['a']}/demand"
    sign_in(client, ids["viewer_a"])
    html = page(client, url)
    assert "owners and issuers can declare" in html
    token = token_of(client, "/account")
    competency = ids["competency_ids"]["TEC.2"]
    assert client.post(url, data={"csrf_token": token, "competency_id": competency}).status_code == 403
    sign_in(client, ids["owner_b"])
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": token, "competency_id": competency}).status_code == 404
    assert client.post(f"{url}/{competency}/withdraw", data={"csrf_token": token}).status_code == 404
    client.post(url, data={"csrf_token": token, "competency_id": competency})
    assert client.post(f"/organisations/{ids['b']}/demand/{competency}/withdraw",
                       data={"csrf_token": token_of(client, f"/organisations/{ids['b']}/demand")}).status_code == 404


def test_the_public_search_and_observatory_follow_their_rate_limit_setting(app, client, ids):
    app.config["RATELIMIT_PUBLIC_PAGES"] = "2 per minute"  # BADGEHUB_RATELIMIT_PUBLIC_PAGES
    for _ in range(2):
        page(client, "/t/evry/badges?q=velo")
    assert client.get("/t/evry/badges?q=velo").status_code == 429
    for _ in range(2):
        page(client, "/t/evry/observatory")
    assert client.get("/t/evry/observatory").status_code == 429
    # Another client address has its own budget.
    assert client.get("/t/evry/badges", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
