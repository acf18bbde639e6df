"""Pathways through the pages: an organisation defines, publishes and archives one; the public page lists the
steps and where to earn them; the learner's wallet shows progress and what to earn next; others' drafts are
"not found"; everything in English and in French."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app
from flask.testing import FlaskClient

from badgehub.accounts.service import create_user
from badgehub.issuing import service as issuing
from badgehub.pathways import service as pathways
from badgehub.pathways.service import GroupInput, PathwayFields
from tests.conftest import csrf_token_from, sign_in
from tests.factories import build_world

FR = {"Accept-Language": "fr"}


@pytest.fixture(autouse=True)
def jobs_inline(app: Any) -> None:
    """Publishing hands a job to the queue; here it runs inline, in the test's transaction."""
    app.config["JOB_BACKEND"] = "sync"


def _shared_world() -> dict[str, Any]:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    built = build_world()
    ids = built.ids()
    lea = create_user("lea@example.net", name="Léa", verified=True)
    ids.update(lea=lea.get_id(), coordinator=built.coordinator.get_id(), territory=built.territory.slug)
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def _as(client: FlaskClient, who: str) -> FlaskClient:
    fresh = client.application.test_client()
    sign_in(fresh, who)
    return fresh


def _form(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Parcours atelier", "description": "De la rustine à l'animation.", "in_language": "fr",
        "achievement": world["workshop"], "qualification_name": "CQP Technicien cycles",
        "qualification_uri": "https://www.francecompetences.fr/recherche/rncp/12345/", "job_profile": "",
        "groups-0-present": "1", "groups-0-title": "Les bases", "groups-0-min_count": "2",
        "groups-0-achievements": [world["repair"], world["reading"], ""],
        "groups-1-present": "1", "groups-1-title": "", "groups-1-min_count": "", "groups-1-achievements": ["", ""]}
    data.update(changes)
    return data


def _create(client: FlaskClient, world: dict[str, Any], **changes: Any) -> Any:
    page = f"/organisations/{world['a']}/pathways/new"
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(page, data={"csrf_token": token, **_form(world, **changes)})


def _only_pathway(query: Any, slug: str) -> str:
    def read() -> str:
        from badgehub.organisations.service import get_organisation_by_slug

        (pathway,) = pathways.pathways_of(get_organisation_by_slug(slug))
        return pathway.public_id

    return query(read)


def test_an_owner_defines_publishes_and_archives_a_pathway(client: FlaskClient, world: dict[str, Any],
                                                           query: Any) -> None:
    owner = _as(client, world["owner_a"])
    overview = owner.get(f"/organisations/{world['a']}").get_data(as_text=True)
    assert f"/organisations/{world['a']}/pathways" in overview
    answer = _create(owner, world)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    public_id = _only_pathway(query, world["a"])
    listing = owner.get(f"/organisations/{world['a']}/pathways").get_data(as_text=True)
    assert "Parcours atelier" in listing and "draft" in listing
    assert client.get(f"/pathways/{public_id}").status_code == 404  # a draft, for anyone outside
    token = csrf_token_from(listing)
    owner.post(f"/organisations/{world['a']}/pathways/{public_id}/status",
               data={"csrf_token": token, "status": "published"})
    page = client.get(f"/pathways/{public_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Réparer une crevaison" in html and "Club de lecture" in html and "Bibliothèque" in html
    assert "At least 2 badges" not in html and "Every badge of the group" in html
    assert "CQP Technicien cycles" in html and "Animer un atelier" in html
    french = client.get(f"/pathways/{public_id}", headers=FR).get_data(as_text=True)
    assert "Étapes, et où les obtenir" in french and "Chaque badge du groupe" in french
    badge_page = client.get(f"/achievements/{world['reading']}").get_data(as_text=True)
    assert "A step of these pathways" in badge_page and f"/pathways/{public_id}" in badge_page
    assert "Une étape de ces parcours" in client.get(f"/achievements/{world['reading']}", headers=FR).get_data(
        as_text=True)
    territory_list = client.get(f"/t/{world['territory']}/pathways").get_data(as_text=True)
    assert f"/pathways/{public_id}" in territory_list
    assert f"/t/{world['territory']}/pathways" in client.get(f"/t/{world['territory']}").get_data(as_text=True)
    owner.post(f"/organisations/{world['a']}/pathways/{public_id}/status",
               data={"csrf_token": token, "status": "archived"})
    assert client.get(f"/pathways/{public_id}").status_code == 404
    assert owner.get(f"/organisations/{world['a']}/pathways/{public_id}/edit").status_code == 409


def test_a_wrong_definition_is_shown_on_the_form_not_a_500(client: FlaskClient, world: dict[str, Any]) -> None:
    owner = _as(client, world["owner_a"])
    answer = _create(owner, world, name="", **{"groups-0-min_count": "9"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and "Give a number between 1 and 2" in html
    answer = _create(owner, world, **{"groups-0-achievements": ["zzzzzzzzzz"], "groups-0-title": "X"})
    assert answer.status_code == 400 and "There is no badge" in answer.get_data(as_text=True)
    answer = _create(owner, world, **{"groups-0-achievements": [""], "groups-0-title": ""})
    assert answer.status_code == 400 and "Add at least one group of badges." in answer.get_data(as_text=True)


def test_other_organisations_get_not_found_and_viewers_cannot_define(client: FlaskClient, world: dict[str, Any],
                                                                     query: Any) -> None:
    owner = _as(client, world["owner_a"])
    _create(owner, world)
    public_id = _only_pathway(query, world["a"])
    other = _as(client, world["owner_b"])
    for url in (f"/organisations/{world['a']}/pathways", f"/organisations/{world['a']}/pathways/new",
                f"/organisations/{world['a']}/pathways/{public_id}/edit", f"/pathways/{public_id}"):
        assert other.get(url).status_code == 404, url
    assert other.get(f"/organisations/{world['b']}/pathways/{public_id}/edit").status_code == 404
    viewer = _as(client, world["viewer_a"])
    assert viewer.get(f"/organisations/{world['a']}/pathways").status_code == 200
    assert viewer.get(f"/pathways/{public_id}").status_code == 200  # its staff see the draft
    assert viewer.get(f"/organisations/{world['a']}/pathways/new").status_code == 404


def test_a_coordinator_defines_the_territory_s_pathways_with_its_own_identity(
        client: FlaskClient, world: dict[str, Any]) -> None:
    coordinator = _as(client, world["coordinator"])
    page = f"/coordinate/{world['territory']}/pathways"
    assert page in coordinator.get(f"/coordinate/{world['territory']}").get_data(as_text=True)
    token = csrf_token_from(coordinator.get(page).get_data(as_text=True))
    answer = coordinator.post(page, data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/pathways")
    assert coordinator.get(answer.headers["Location"]).status_code == 200
    assert coordinator.get(page).status_code == 302
    assert _as(client, world["owner_a"]).get(page).status_code in (403, 404)


def test_the_wallet_shows_progress_and_what_to_earn_next(client: FlaskClient, world: dict[str, Any],
                                                         setup: Any) -> None:
    def build() -> str:
        from badgehub.achievements.service import public_achievement
        from badgehub.organisations.service import get_organisation_by_slug

        organisation = get_organisation_by_slug(world["a"])
        owner = organisation_owner(organisation)
        pathway = pathways.create_pathway(organisation, owner, PathwayFields(
            name="Parcours atelier", in_language="fr", achievement=world["workshop"],
            groups=(GroupInput(ordered=True, achievements=(world["repair"], world["reading"])),)))
        pathways.set_status(pathway, owner, "published")
        repair = public_achievement(world["repair"])
        issuing.issue_credential(organisation=organisation, achievement=repair, recipient_email="lea@example.net",
                                 recipient_name="Léa", actor_id=None, source="single", config=current_app.config)
        return pathway.public_id

    public_id = setup(build)
    lea = _as(client, world["lea"])
    html = lea.get("/wallet").get_data(as_text=True)
    assert "My pathways" in html and f"/pathways/{public_id}" in html and "1 of 2 badges" in html
    assert f"/achievements/{world['reading']}" in html and "Bibliothèque" in html
    french = lea.get("/wallet", headers=FR).get_data(as_text=True)
    assert "Mes parcours" in french and "1 sur 2 badges" in french
    page = lea.get(f"/pathways/{public_id}").get_data(as_text=True)
    assert "You have 1 of the 2 badges" in page
    assert "My pathways" not in _as(client, world["owner_b"]).get("/wallet").get_data(as_text=True)


def organisation_owner(organisation: Any) -> Any:
    from badgehub.organisations.service import members_of

    return next(m.user for m in members_of(organisation) if m.role.value == "owner")


def test_publishing_awards_the_badge_to_those_who_completed_the_pathway_already(
        client: FlaskClient, world: dict[str, Any], setup: Any, query: Any) -> None:

    def build() -> str:
        from badgehub.achievements.service import public_achievement
        from badgehub.organisations.service import get_organisation_by_slug

        organisation = get_organisation_by_slug(world["a"])
        for badge in (world["repair"], world["reading"]):
            achievement = public_achievement(badge)
            issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                     recipient_email="lea@example.net", recipient_name="Léa", actor_id=None,
                                     source="single", config=current_app.config)
        pathway = pathways.create_pathway(organisation, organisation_owner(organisation), PathwayFields(
            name="Parcours atelier", in_language="fr", achievement=world["workshop"],
            groups=(GroupInput(achievements=(world["repair"], world["reading"])),)))
        return pathway.public_id

    public_id = setup(build)
    owner = _as(client, world["owner_a"])
    token = csrf_token_from(owner.get(f"/organisations/{world['a']}/pathways").get_data(as_text=True))
    owner.post(f"/organisations/{world['a']}/pathways/{public_id}/status",
               data={"csrf_token": token, "status": "published"})
    owner.post(f"/organisations/{world['a']}/pathways/{public_id}/status",  # published again: nothing more
               data={"csrf_token": token, "status": "published"})

    def awarded() -> list[str]:
        from sqlalchemy import select

        from badgehub.achievements.service import public_achievement
        from badgehub.extensions import db
        from badgehub.issuing.models import IssuedCredential

        workshop = public_achievement(world["workshop"])
        return [c.recipient_email for c in db.session.scalars(
            select(IssuedCredential).where(IssuedCredential.achievement_id == workshop.id))]

    assert query(awarded) == ["lea@example.net"]
    assert "Completed" in _as(client, world["lea"]).get("/wallet").get_data(as_text=True)


def test_a_badge_the_suspended_owner_cannot_award_is_owed_shown_and_awarded_again(
        client: FlaskClient, world: dict[str, Any], setup: Any, query: Any) -> None:

    def membership(decision: str) -> None:
        from badgehub.accounts.service import get_user_by_email
        from badgehub.organisations.service import get_organisation_by_slug
        from badgehub.territory.service import decide_membership, memberships_of

        organisation = get_organisation_by_slug(world["a"])
        decide_membership(memberships_of(organisation)[0], decision, get_user_by_email("coord@example.org"),
                          "Vérification")

    def build() -> str:
        from badgehub.organisations.service import get_organisation_by_slug

        organisation = get_organisation_by_slug(world["a"])
        pathway = pathways.create_pathway(organisation, organisation_owner(organisation), PathwayFields(
            name="Parcours lecture", in_language="fr", achievement=world["workshop"],
            groups=(GroupInput(achievements=(world["reading"],)),)))
        pathways.set_status(pathway, organisation_owner(organisation), "published")
        return pathway.public_id

    def award_reading() -> str:
        from badgehub.achievements.service import public_achievement

        achievement = public_achievement(world["reading"])
        return issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                        recipient_email="lea@example.net", recipient_name="Léa", actor_id=None,
                                        source="single", config=current_app.config).public_id

    def state() -> tuple[list[str], list[Any]]:
        from sqlalchemy import select

        from badgehub.achievements.service import public_achievement
        from badgehub.audit.models import AuditEvent
        from badgehub.extensions import db
        from badgehub.issuing.models import IssuedCredential

        workshop = public_achievement(world["workshop"])
        return ([c.recipient_email for c in db.session.scalars(
                    select(IssuedCredential).where(IssuedCredential.achievement_id == workshop.id))],
                [e.details["error"] for e in db.session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "pathway.award_failed"))])

    public_id = setup(build)
    setup(lambda: membership("suspend"))
    assert setup(award_reading)  # the learner's step lands although the pathway's badge cannot be signed
    assert query(state) == ([], ["organisation_suspended"])
    owner = _as(client, world["owner_a"])
    page = owner.get(f"/organisations/{world['a']}/pathways").get_data(as_text=True)
    assert "1 learner completed this pathway but its badge could not be awarded" in page
    french = owner.get(f"/organisations/{world['a']}/pathways", headers={"Accept-Language": "fr"})
    assert "Décerner de nouveau son badge" in french.get_data(as_text=True)
    assert "Completed" in _as(client, world["lea"]).get("/wallet").get_data(as_text=True)
    setup(lambda: membership("reinstate"))
    token = csrf_token_from(page)
    owner.post(f"/organisations/{world['a']}/pathways/{public_id}/status",
               data={"csrf_token": token, "status": "published"})
    assert query(state) == (["lea@example.net"], ["organisation_suspended"])
    assert "could not be awarded" not in owner.get(f"/organisations/{world['a']}/pathways").get_data(as_text=True)


def test_the_owner_is_told_when_the_pathway_s_badge_is_archived(client: FlaskClient, world: dict[str, Any],
                                                                 setup: Any) -> None:
    def build() -> None:
        from badgehub.achievements.service import archive_achievement, public_achievement
        from badgehub.organisations.service import get_organisation_by_slug

        organisation = get_organisation_by_slug(world["a"])
        owner = organisation_owner(organisation)
        pathway = pathways.create_pathway(organisation, owner, PathwayFields(
            name="Parcours lecture", in_language="fr", achievement=world["workshop"],
            groups=(GroupInput(achievements=(world["reading"],)),)))
        pathways.set_status(pathway, owner, "published")
        archive_achievement(public_achievement(world["workshop"]), owner)

    setup(build)
    owner = _as(client, world["owner_a"])
    assert "completing the pathway no longer awards it" in owner.get(
        f"/organisations/{world['a']}/pathways").get_data(as_text=True)
    assert "terminer le parcours ne le décerne plus" in owner.get(
        f"/organisations/{world['a']}/pathways", headers={"Accept-Language": "fr"}).get_data(as_text=True)
