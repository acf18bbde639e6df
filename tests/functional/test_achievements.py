"""Achievement management pages through the browser's eyes: create, edit, versions, archive, who may do what."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements import service as achievements
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.credentials.baking import extract_from_png
from badgehub.credentials.documents import achievement_document
from badgehub.extensions import db
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member
from badgehub.territory.service import (
    add_coordinator,
    create_territory,
    decide_membership,
    get_territory_by_slug,
    request_membership,
)
from tests import factories
from tests.conftest import csrf_token_from, sign_in, token_of


@dataclass(frozen=True)
class World:
    """Organisation A (owner, issuer, viewer) in territory Évry with a framework; B (owner) with one badge."""

    a: str
    b: str
    owner_a: str
    issuer_a: str
    viewer_a: str
    owner_b: str
    badge_b: str
    competency_ids: dict[str, int]
    user_ids: dict[str, int]


FORM = {"name": "Réparer une crevaison", "description": "Sait réparer une chambre à air.",
        "criteria_md": "- démonter la roue\n- poser une rustine", "criteria_url": "", "achievement_type": "Badge",
        "tags": "vélo, réparation", "in_language": "fr", "valid_for_days": "", "evidence_expected": "",
        "image_mode": "generate", "shape": "circle", "background": "#1d4ed8", "foreground": "#ffffff",
        "pictogram": "star", "submit": "1"}


def form(**changes: Any) -> dict[str, Any]:
    return {**FORM, **changes}


def _shared_world() -> World:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    create_territory(name="Évry", slug="evry", areas=[("centre", "Centre")])
    coordinator = create_user("coord@example.org", verified=True)
    add_coordinator(territory_slug="evry", user=coordinator, actor_id=None)
    users = {name: create_user(f"{name}@example.org", name=name.title(), verified=True)
             for name in ("owner_a", "issuer_a", "viewer_a", "owner_b")}
    org_a = create_organisation(users["owner_a"], ProfileFields(name="Atelier Vélo", type="association",
                                                                sector="community"), config=current_app.config)
    org_b = create_organisation(users["owner_b"], ProfileFields(name="Bibliothèque", type="library",
                                                                sector="public_services"),
                                                                config=current_app.config)
    add_member(org_a, users["owner_a"], users["issuer_a"], "issuer")
    add_member(org_a, users["owner_a"], users["viewer_a"], "viewer")
    evry = get_territory_by_slug("evry")
    membership = request_membership(org_a, evry, users["owner_a"], "Bonjour")
    decide_membership(membership, "approve", coordinator)
    framework = CompetencyFramework(territory_id=evry.id, name="Référentiel d'Évry")
    db.session.add(framework)
    db.session.flush()
    ids = {}
    for code, name in (("CIT", "Citoyenneté"), ("NUM-2", "Protéger ses données")):
        competency = Competency(framework_id=framework.id, code=code, name=name)
        db.session.add(competency)
        db.session.flush()
        ids[code] = competency.id
    badge_b = achievements.create_achievement(org_b, users["owner_b"], achievements.AchievementFields(
        name="Club de lecture", description="A participé au club.", criteria_md="Venir trois fois."))
    return World(a=org_a.slug, b=org_b.slug, badge_b=badge_b.public_id, competency_ids=ids,
                 user_ids={name: user.id for name, user in users.items()},
                 **{name: user.get_id() for name, user in users.items()})


@pytest.fixture
def world(snapshot: Any) -> World:
    return snapshot(_shared_world)


def badge_count(query: Any) -> int:
    return query(lambda: db.session.scalar(select(func.count(Achievement.id))))


def version_rows(query: Any, public_id: str) -> list[tuple[int, str]]:
    return query(lambda: db.session.execute(
        select(AchievementVersion.number, AchievementVersion.name)
        .join(Achievement, AchievementVersion.achievement_id == Achievement.id)
        .where(Achievement.public_id == public_id).order_by(AchievementVersion.number)).tuples().all())


def create_badge(client: FlaskClient, world: World, **changes: Any) -> Any:
    token = token_of(client, f"/organisations/{world.a}/achievements/new")
    return client.post(f"/organisations/{world.a}/achievements/new", data={**form(**changes), "csrf_token": token},
                       content_type="multipart/form-data")


def created_id(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].split("/achievements/")[1].split("/")[0]


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get(f"/organisations/{world.a}/achievements")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_issuer_creates_a_badge_aligned_to_the_territory_framework(client, world, query):
    sign_in(client, world.issuer_a)
    page = client.get(f"/organisations/{world.a}/achievements/new").get_data(as_text=True)
    assert "Protéger ses données" in page and "Référentiel" not in page.split("<h3")[0]
    response = create_badge(client, world, competency_ids=[world.competency_ids["NUM-2"], world.competency_ids["CIT"]],
                            valid_for_days="365")
    public_id = created_id(response)
    version = query(lambda: achievements.public_achievement(public_id).current_version)
    assert (version.name, version.valid_for_days, version.tags, version.created_by_id) == (
        "Réparer une crevaison", 365, ["vélo", "réparation"], world.user_ids["issuer_a"])
    codes = query(lambda: [c.code for c in achievements.public_achievement(public_id).current_version.competencies])
    assert codes == ["NUM-2", "CIT"]
    assert query(lambda: achievements.public_achievement(public_id).organisation.slug) == world.a
    edit_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The badge “Réparer une crevaison” is created." in edit_page
    listing = client.get(f"/organisations/{world.a}/achievements").get_data(as_text=True)
    assert "Réparer une crevaison" in listing


def test_organisation_in_no_territory_is_offered_no_competency(client, world):
    sign_in(client, world.owner_b)
    page = client.get(f"/organisations/{world.b}/achievements/new").get_data(as_text=True)
    assert "no competency framework yet" in page
    assert 'name="competency_ids"' not in page


def test_preview_draws_the_image_and_saves_nothing(client, world, query):
    sign_in(client, world.issuer_a)
    token = token_of(client, f"/organisations/{world.a}/achievements/new")
    data = {**form(), "csrf_token": token, "preview": "1"}
    del data["submit"]
    response = client.post(f"/organisations/{world.a}/achievements/new", data=data)
    assert response.status_code == 200
    assert 'src="data:image/png;base64,' in response.get_data(as_text=True)
    assert badge_count(query) == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": "  "}, "This field is required."),
    ({"criteria_md": ""}, "Say what someone must do to earn this badge"),
    ({"foreground": "#2050e0"}, "These two colours are too close"),
    ({"background": "navy"}, "Give a colour as # followed by six hexadecimal digits"),
    ({"valid_for_days": "-3"}, "Give a whole number of days"),
    ({"competency_ids": ["999999"]}, "Choose competencies from the frameworks"),
    ({"achievement_type": "Diplomette"}, "Not a valid choice"),
])
def test_bad_input_gives_a_clear_message_and_saves_nothing(client, world, query, changes, message):
    sign_in(client, world.issuer_a)
    response = create_badge(client, world, **changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html or "error" in html
    assert badge_count(query) == 1


@pytest.mark.parametrize(("data", "filename", "message"), [
    (factories.bomb_png(), "bomb.png", "The image is too large: at most 4096 × 4096 pixels."),
    (factories.SVG_SCRIPT, "badge.svg", "This SVG contains &lt;script&gt;"),
    (factories.SVG_EXTERNAL_ENTITY, "badge.svg", "This SVG declares a DTD or entities"),
    (factories.SVG_DTD, "badge.svg", "This SVG declares a DTD or entities"),
    (factories.PDF_RENAMED, "badge.png", "This file is not a PNG or SVG image, whatever its name says."),
    (factories.truncated_png(), "badge.png", "This PNG file is damaged or incomplete."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024), "big.png", "The image is larger than 2 MB."),
])
def test_hostile_uploads_are_refused_with_a_clear_message_and_nothing_saved(client, world, query, data, filename,
                                                                           message):
    sign_in(client, world.issuer_a)
    response = create_badge(client, world, image_mode="upload", image_file=(io.BytesIO(data), filename))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert badge_count(query) == 1


def test_a_fifty_megabyte_upload_is_stopped_at_the_door(client, world, query):
    sign_in(client, world.issuer_a)
    response = create_badge(client, world, image_mode="upload",
                            image_file=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * (50 * 1024 * 1024)), "huge.png"))
    assert response.status_code == 413
    assert "What you sent is too large." in response.get_data(as_text=True)
    assert badge_count(query) == 1


def test_uploaded_png_loses_a_baked_credential(client, world):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world, image_mode="upload",
                                        image_file=(io.BytesIO(factories.baked_png()), "baked.png")))
    stored = client.get(f"/achievements/{public_id}/image")
    assert stored.headers["Content-Type"] == "image/png"
    assert extract_from_png(stored.data) is None


def edit_url(world: World, public_id: str) -> str:
    return f"/organisations/{world.a}/achievements/{public_id}/edit"


def save(client: FlaskClient, world: World, public_id: str, **changes: Any) -> Any:
    token = token_of(client, edit_url(world, public_id))
    return client.post(edit_url(world, public_id), data={**form(image_mode="keep", **changes), "csrf_token": token},
                       content_type="multipart/form-data")


def test_edit_page_shows_the_current_values(client, world):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world, competency_ids=[world.competency_ids["CIT"]],
                                        tags="vélo, atelier"))
    page = client.get(edit_url(world, public_id)).get_data(as_text=True)
    assert 'value="Réparer une crevaison"' in page
    assert 'value="vélo, atelier"' in page
    assert f'value="{world.competency_ids["CIT"]}" checked' in page
    assert 'value="keep" checked' in page or 'checked id="image_mode-0"' in page or 'value="keep"' in page


def test_editing_before_any_award_changes_the_version_in_place(client, world, query):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world))
    response = save(client, world, public_id, description="Nouvelle description.")
    assert response.status_code == 302
    assert version_rows(query, public_id) == [(1, "Réparer une crevaison")]
    assert "The badge is saved." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert query(lambda: achievements.public_achievement(public_id).current_version.description) == (
        "Nouvelle description.")


def test_editing_after_an_award_makes_version_two_and_keeps_version_one(client, world, query, setup):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world))
    setup(lambda: achievements.lock_version(achievements.public_achievement(public_id).current_version))
    image_v1 = client.get(f"/achievements/{public_id}/v/1/image").data
    document_v1 = query(lambda: achievements.achievement_definition(
        achievements.version_of(achievements.public_achievement(public_id), 1), current_app.config))
    page = client.get(edit_url(world, public_id)).get_data(as_text=True)
    assert "saving creates version 2" in page
    response = save(client, world, public_id, name="Réparer une crevaison seul·e")
    assert response.status_code == 302
    assert "Saved as version 2." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert version_rows(query, public_id) == [(1, "Réparer une crevaison"), (2, "Réparer une crevaison seul·e")]
    assert client.get(f"/achievements/{public_id}/v/1/image").data == image_v1
    assert client.get(f"/achievements/{public_id}/v/2/image").data != image_v1
    assert query(lambda: achievements.achievement_definition(
        achievements.version_of(achievements.public_achievement(public_id), 1), current_app.config)) == document_v1
    current = client.get(f"/achievements/{public_id}", headers={"Accept": "application/ld+json"}).get_json()
    assert (current["name"], current["version"]) == ("Réparer une crevaison seul·e", "2")


def test_archive_then_restore(client, world, query):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world))
    token = token_of(client, edit_url(world, public_id))
    response = client.post(f"/organisations/{world.a}/achievements/{public_id}/archive", data={"csrf_token": token})
    assert response.status_code == 302
    assert query(lambda: achievements.public_achievement(public_id).is_archived)
    active = client.get(f"/organisations/{world.a}/achievements").get_data(as_text=True)
    archived = client.get(f"/organisations/{world.a}/achievements?show=archived").get_data(as_text=True)
    assert "Réparer une crevaison" not in active and "Réparer une crevaison" in archived
    edit_page = client.get(edit_url(world, public_id)).get_data(as_text=True)
    assert "This badge is archived." in edit_page and 'name="name"' not in edit_page
    assert save(client, world, public_id, name="Pendant l'archivage").status_code == 409
    public = client.get(f"/achievements/{public_id}")
    assert public.status_code == 200
    assert "This badge is no longer awarded." in public.get_data(as_text=True)
    token = token_of(client, edit_url(world, public_id))
    client.post(f"/organisations/{world.a}/achievements/{public_id}/unarchive", data={"csrf_token": token})
    assert not query(lambda: achievements.public_achievement(public_id).is_archived)


def test_posting_without_csrf_token_is_refused(client, world, query):
    sign_in(client, world.issuer_a)
    response = client.post(f"/organisations/{world.a}/achievements/new", data=form())
    assert response.status_code == 400
    assert badge_count(query) == 1


def test_viewer_reads_the_list_but_cannot_create_edit_or_archive(client, world, query, setup):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world))
    sign_in(client, world.viewer_a)
    listing = client.get(f"/organisations/{world.a}/achievements")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Réparer une crevaison" in html and "Create a badge" not in html and "/edit" not in html
    token = csrf_token_from(html)
    attempts = [
        client.get(f"/organisations/{world.a}/achievements/new"),
        client.post(f"/organisations/{world.a}/achievements/new", data={**form(), "csrf_token": token}),
        client.get(edit_url(world, public_id)),
        client.post(edit_url(world, public_id), data={**form(name="Vu"), "csrf_token": token}),
        client.post(f"/organisations/{world.a}/achievements/{public_id}/archive", data={"csrf_token": token}),
        client.post(f"/organisations/{world.a}/achievements/{public_id}/unarchive", data={"csrf_token": token}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert version_rows(query, public_id) == [(1, "Réparer une crevaison")]
    assert not query(lambda: achievements.public_achievement(public_id).is_archived)


def management_requests(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    a, b, badge = world.a, world.b, world.badge_b
    return [
        ("GET", f"/organisations/{b}/achievements", {}),
        ("GET", f"/organisations/{b}/achievements?show=archived", {}),
        ("GET", f"/organisations/{b}/achievements/new", {}),
        ("POST", f"/organisations/{b}/achievements/new", form(name="Intrus")),
        ("GET", f"/organisations/{b}/achievements/{badge}/edit", {}),
        ("POST", f"/organisations/{b}/achievements/{badge}/edit", form(name="Pris")),
        ("POST", f"/organisations/{b}/achievements/{badge}/archive", {}),
        ("POST", f"/organisations/{b}/achievements/{badge}/unarchive", {}),
        # B's badge through A's own pages does not exist either.
        ("GET", f"/organisations/{a}/achievements/{badge}/edit", {}),
        ("POST", f"/organisations/{a}/achievements/{badge}/edit", form(name="Pris")),
        ("POST", f"/organisations/{a}/achievements/{badge}/archive", {}),
        ("POST", f"/organisations/{a}/achievements/{badge}/unarchive", {}),
        ("GET", f"/organisations/{a}/achievements/zzzzzzzzzz/edit", {}),
        ("GET", f"/organisations/{a}/achievements/not-an-id!/edit", {}),
    ]


@pytest.mark.parametrize("who", ["owner_a", "issuer_a", "viewer_a"])
def test_staff_of_another_organisation_find_nothing_on_any_management_url(client, world, query, who):
    sign_in(client, getattr(world, who))
    token = token_of(client, f"/organisations/{world.a}/achievements")
    statuses, expected = [], []
    for method, url, data in management_requests(world):
        response = client.open(url, method=method, data={**data, "csrf_token": token} if method == "POST" else None)
        statuses.append((method, url, response.status_code))
        # A viewer of A is told that its role is too low on A's editing pages before anything is looked up.
        expected.append((method, url, 403 if who == "viewer_a" and f"/{world.a}/" in url else 404))
    assert statuses == expected
    assert version_rows(query, world.badge_b) == [(1, "Club de lecture")]
    assert not query(lambda: achievements.public_achievement(world.badge_b).is_archived)


def test_suspended_organisation_reads_but_cannot_create_or_edit(client, world, query, setup):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world))

    def suspend() -> None:
        from badgehub.organisations.service import get_organisation_by_slug
        from badgehub.territory.service import memberships_of

        membership = memberships_of(get_organisation_by_slug(world.a))[0]
        coordinator = db.session.scalars(select(User).where(User.email == "coord@example.org")).one()
        decide_membership(membership, "suspend", coordinator, "Badges sans preuves")

    setup(suspend)
    listing = client.get(f"/organisations/{world.a}/achievements").get_data(as_text=True)
    assert "This organisation is suspended." in listing and "Create a badge" not in listing
    new_page = client.get(f"/organisations/{world.a}/achievements/new").get_data(as_text=True)
    assert 'name="name"' not in new_page
    token = csrf_token_from(listing)
    created = client.post(f"/organisations/{world.a}/achievements/new", data={**form(), "csrf_token": token})
    edited = client.post(edit_url(world, public_id), data={**form(name="Changé"), "csrf_token": token})
    assert (created.status_code, edited.status_code) == (403, 403)
    assert "is suspended" in edited.get_data(as_text=True)
    assert badge_count(query) == 2
    assert version_rows(query, public_id) == [(1, "Réparer une crevaison")]


HOSTILE_CRITERIA = ("Venir **trois fois**.\n\n<script>alert('x')</script>\n\n[piège](javascript:alert(1)) "
                    "![pixel](https://tracker.example.net/p.png) [guide](https://atelier.example.org/guide)")


@pytest.fixture
def published(client: FlaskClient, world: World) -> str:
    """A badge of A aligned to CIT and NUM-2, created through the page; returns its public id."""
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world, criteria_md=HOSTILE_CRITERIA, valid_for_days="365",
                                        evidence_expected="Une photo <b>de la roue</b>.",
                                        competency_ids=[world.competency_ids["CIT"], world.competency_ids["NUM-2"]]))
    client.get("/", follow_redirects=True)  # a page view, so the flash message is consumed
    return public_id


def test_public_page_shows_what_the_badge_means(client, world, published):
    client.get("/", follow_redirects=True)
    response = client.get(f"/achievements/{published}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Accept" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<h1 id=\"achievement-title\">Réparer une crevaison</h1>" in html
    assert "Sait réparer une chambre à air." in html
    assert "<strong>trois fois</strong>" in html
    assert f'href="/issuers/{world.a}"' in html
    assert 'href="http://localhost/competencies/evry/CIT"' in html and "Protéger ses données" in html
    assert "Valid for 365 days after it is awarded." in html
    assert "Une photo &lt;b&gt;de la roue&lt;/b&gt;." in html
    assert f'src="/achievements/{published}/v/1/image"' in html
    assert "French" in html or "français" in html


def test_criteria_markdown_is_rendered_inert_on_the_public_page(client, published):
    html = client.get(f"/achievements/{published}").get_data(as_text=True)
    criteria = html.split('class="ach-criteria">')[1].split("</div>")[0]
    assert "<script" not in criteria and "&lt;script&gt;alert(" in criteria
    assert "[piège](javascript:alert(1))" in criteria and 'href="javascript' not in criteria
    assert "<img" not in criteria
    assert 'src="https://tracker.example.net' not in html
    assert '<a href="https://atelier.example.org/guide" rel="nofollow noopener noreferrer">guide</a>' in html


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json",
                                    "application/ld+json;q=1, text/html;q=0.5"])
def test_public_url_answers_json_ld_when_asked(app, client, published, query, accept):
    response = client.get(f"/achievements/{published}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == ("application/json" if accept == "application/json" else "application/ld+json")
    assert "Accept" in response.headers["Vary"]
    document = response.get_json(force=True)
    expected = query(lambda: achievement_document(achievements.achievement_definition(
        achievements.public_achievement(published).current_version, current_app.config)))
    assert document == expected
    assert document["id"] == f"http://localhost/achievements/{published}"
    assert [a["targetCode"] for a in document["alignment"]] == ["CIT", "NUM-2"]
    assert document["criteria"]["narrative"] == HOSTILE_CRITERIA


def test_json_ld_carries_a_strong_etag_and_answers_304(client, published):
    first = client.get(f"/achievements/{published}", headers={"Accept": "application/ld+json"})
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"/achievements/{published}", headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert again.status_code == 304


def test_browsers_get_html_from_the_same_url(client, published):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get(f"/achievements/{published}", headers={"Accept": accept}).mimetype == "text/html"
    assert client.get(f"/achievements/{published}", headers={"Accept": "*/*"}).mimetype == "text/html"


def test_image_endpoint_serves_the_current_image_with_validators(client, published):
    response = client.get(f"/achievements/{published}/image")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, no-cache"
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.sha256(response.data).hexdigest()}"'
    assert client.get(f"/achievements/{published}/image", headers={"If-None-Match": etag}).status_code == 304


def test_image_of_an_awarded_version_is_cached_for_good(client, published, setup):
    assert client.get(f"/achievements/{published}/v/1/image").headers["Cache-Control"] == "public, no-cache"
    setup(lambda: achievements.lock_version(achievements.public_achievement(published).current_version))
    response = client.get(f"/achievements/{published}/v/1/image")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_svg_image_is_served_under_a_policy_that_runs_and_fetches_nothing(client, world):
    sign_in(client, world.issuer_a)
    public_id = created_id(create_badge(client, world, image_mode="upload",
                                        image_file=(io.BytesIO(factories.SVG_OK), "badge.svg")))
    for url in (f"/achievements/{public_id}/image", f"/achievements/{public_id}/v/1/image"):
        response = client.get(url)
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<svg" in response.data and b"inkscape" not in response.data


@pytest.mark.parametrize("url", ["/achievements/zzzzzzzzzz", "/achievements/NOT-AN-ID",
                                 "/achievements/zzzzzzzzzz/image", "/achievements/{id}/v/2/image",
                                 "/achievements/{id}/v/0/image"])
def test_unknown_achievements_and_versions_are_404(client, published, url):
    assert client.get(url.format(id=published)).status_code == 404
