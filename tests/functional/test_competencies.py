"""Competency pages: coordinators curate their own framework (and nobody else's); the public framework and
competency pages, in HTML and JSON-LD; CSV import and export through the browser's forms."""

from __future__ import annotations

import codecs
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from badgehub.accounts.service import create_user
from badgehub.audit.models import AuditEvent
from badgehub.competencies.models import Competency
from badgehub.competencies.service import CompetencyFields, archive_competency, create_competency
from badgehub.extensions import db
from badgehub.territory.service import add_coordinator, create_territory, get_territory_by_slug
from tests.conftest import csrf_token_from, sign_in, token_of
from tests.functional.test_organisations import Person
from tests.functional.test_territories import make_person


@dataclass(frozen=True)
class Frameworks:
    coordinator: Person
    lyon_coordinator: Person
    admin: Person


def _shared_frameworks() -> Frameworks:
    """Évry (a small framework: CIT > CIT.1, archived OLD, ECO) and Lyon (LY), each with its coordinator: a
    ``snapshot`` build, made once per test process."""
    evry = create_territory(name="Évry", slug="evry")
    lyon = create_territory(name="Lyon", slug="lyon")
    coordinator = create_user("coord@example.org", name="Sophie", verified=True)
    lyon_coordinator = create_user("lyon@example.org", verified=True)
    add_coordinator(territory_slug="evry", user=coordinator, actor_id=None)
    add_coordinator(territory_slug="lyon", user=lyon_coordinator, actor_id=None)
    create_competency(evry, coordinator, "CIT", CompetencyFields(name="Citoyenneté <active>"))
    create_competency(evry, coordinator, "CIT.1", CompetencyFields(
        name="Prendre la parole", description="En réunion publique.", parent_code="CIT",
        esco_uri="http://data.europa.eu/esco/skill/S1", rncp_code="RS5678",
        other_url="https://example.org/parole"))
    create_competency(evry, coordinator, "ECO", CompetencyFields(name="Transition écologique"))
    archive_competency(create_competency(evry, coordinator, "OLD", CompetencyFields(name="Ancienne")), coordinator)
    create_competency(lyon, lyon_coordinator, "LY", CompetencyFields(name="Lyonnaise"))
    admin = make_person("admin@example.org", is_admin=True)
    return Frameworks(Person(coordinator.id, coordinator.email, coordinator.get_id()),
                      Person(lyon_coordinator.id, lyon_coordinator.email, lyon_coordinator.get_id()), admin)


@pytest.fixture
def frameworks(snapshot: Any) -> Frameworks:
    return snapshot(_shared_frameworks)


def competency_row(query: Any, slug: str, code: str) -> Competency | None:
    def read() -> Competency | None:
        territory = get_territory_by_slug(slug)
        found = db.session.scalars(select(Competency).where(Competency.code == code)).all()
        return next((c for c in found if c.framework.territory_id == territory.id), None)

    return query(read)


def form(**overrides: str) -> dict[str, str]:
    data = {"code": "", "name": "", "description": "", "parent_code": "", "esco_uri": "", "rncp_code": "",
            "case_item_uri": "", "other_url": ""}
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------------------ public


def test_public_framework_lists_active_competencies_by_domain(client, frameworks):
    response = client.get("/competencies/evry")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Citoyenneté &lt;active&gt;" in html
    assert html.index("Citoyenneté") < html.index("Prendre la parole") < html.index("Transition écologique")
    assert "Ancienne" not in html and "Lyonnaise" not in html
    assert 'href="/competencies/evry/CIT.1"' in html


def test_public_search_ignores_case_and_accents(client, frameworks):
    html = client.get("/competencies/evry?q=ECOLOGIQUE").get_data(as_text=True)
    assert "Transition écologique" in html and "Prendre la parole" not in html
    html = client.get("/competencies/evry?q=reunion").get_data(as_text=True)
    assert "Prendre la parole" in html and "Transition écologique" not in html


def test_public_pages_of_unknown_territories_and_codes_are_404(client, frameworks):
    assert client.get("/competencies/nowhere").status_code == 404
    assert client.get("/competencies/evry/NOPE").status_code == 404
    assert client.get("/competencies/lyon/CIT").status_code == 404
    assert client.get("/competencies/evry/cit").status_code == 404


def test_competency_page_in_html_shows_its_place_and_references(client, frameworks):
    response = client.get("/competencies/evry/CIT.1", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "Prendre la parole" in html and "En réunion publique." in html
    assert 'href="/competencies/evry/CIT"' in html
    assert "http://data.europa.eu/esco/skill/S1" in html
    assert "https://www.francecompetences.fr/recherche/rs/5678/" in html
    assert "http://localhost/competencies/evry/CIT.1" in html
    assert '<script type="application/ld+json">' in html


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json",
                                    "application/ld+json, text/html;q=0.5"])
def test_competency_page_in_json_ld_when_asked(client, frameworks, accept):
    response = client.get("/competencies/evry/CIT.1", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept.split(",")[0]
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    document = response.get_json(force=True)
    assert document["@context"][0] == "https://schema.org"
    assert {key: document[key] for key in ("@type", "@id", "url", "termCode", "name", "description", "broader",
                                           "sameAs", "identifier", "deprecated", "inDefinedTermSet")} == {
        "@type": "DefinedTerm", "@id": "http://localhost/competencies/evry/CIT.1",
        "url": "http://localhost/competencies/evry/CIT.1", "termCode": "CIT.1", "name": "Prendre la parole",
        "description": "En réunion publique.", "broader": "http://localhost/competencies/evry/CIT",
        "sameAs": ["http://data.europa.eu/esco/skill/S1", "https://example.org/parole"],
        "identifier": [{"@type": "PropertyValue", "propertyID": "RS", "value": "RS5678"}], "deprecated": False,
        "inDefinedTermSet": {"@type": "DefinedTermSet", "@id": "http://localhost/competencies/evry", "name": "Évry"}}


def test_json_ld_has_an_etag_and_answers_304_when_unchanged(client, frameworks):
    first = client.get("/competencies/evry/CIT", headers={"Accept": "application/ld+json"})
    etag = first.headers["ETag"]
    again = client.get("/competencies/evry/CIT", headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_archived_competencies_still_answer_marked_archived(client, frameworks):
    html = client.get("/competencies/evry/OLD").get_data(as_text=True)
    assert "Ancienne" in html and "was archived on" in html
    document = client.get("/competencies/evry/OLD", headers={"Accept": "application/ld+json"}).get_json(force=True)
    assert document["deprecated"] is True
    assert "broader" not in document and "sameAs" not in document


# ------------------------------------------------------------------------------------------------ curating


def test_coordinator_creates_edits_archives_and_restores(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    page = client.get("/coordinate/evry/competencies")
    assert page.status_code == 200
    assert "Ancienne" in page.get_data(as_text=True)  # archived ones are listed for coordinators
    token = token_of(client, "/coordinate/evry/competencies/new?parent=ECO")
    response = client.post("/coordinate/evry/competencies/new", data={**form(
        code="ECO.1", name="Réduire ses déchets", parent_code="ECO", rncp_code="rncp 1234"), "csrf_token": token})
    assert response.status_code == 302
    created = competency_row(query, "evry", "ECO.1")
    assert created is not None and created.rncp_code == "RNCP1234"
    edit_page = client.get("/coordinate/evry/competencies/ECO.1/edit").get_data(as_text=True)
    assert 'value="Réduire ses déchets"' in edit_page
    response = client.post("/coordinate/evry/competencies/ECO.1/edit", data={**form(
        name="Trier ses déchets", parent_code="CIT"), "csrf_token": token})
    assert response.status_code == 302
    edited = competency_row(query, "evry", "ECO.1")
    assert (edited.name, edited.rncp_code) == ("Trier ses déchets", None)
    assert query(lambda: db.session.get(Competency, edited.id).parent.code) == "CIT"
    assert client.post("/coordinate/evry/competencies/ECO.1/archive", data={"csrf_token": token}).status_code == 302
    assert competency_row(query, "evry", "ECO.1").archived_at is not None
    assert client.post("/coordinate/evry/competencies/ECO.1/restore", data={"csrf_token": token}).status_code == 302
    assert competency_row(query, "evry", "ECO.1").archived_at is None
    actions = query(lambda: [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "competency", AuditEvent.actor_id ==
                                 frameworks.coordinator.id).order_by(AuditEvent.id))])
    assert actions[-4:] == ["competency.created", "competency.updated", "competency.archived",
                            "competency.restored"]


def test_form_errors_are_shown_next_to_their_fields_and_nothing_is_saved(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies/new")
    response = client.post("/coordinate/evry/competencies/new", data={**form(
        code="NEW", name="", esco_uri="https://example.org/skill", rncp_code="12"), "csrf_token": token})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give the competency a name." in html
    assert "Give an ESCO URI" in html
    assert "Give an RNCP or RS code" in html
    assert competency_row(query, "evry", "NEW") is None


def test_a_taken_code_is_refused_with_409(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies/new")
    response = client.post("/coordinate/evry/competencies/new", data={**form(code="cit", name="Again"),
                                                                      "csrf_token": token})
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)


def test_archiving_a_domain_with_active_competencies_is_refused_with_a_message(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    response = client.post("/coordinate/evry/competencies/CIT/archive", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Archive the competencies under this one first." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert competency_row(query, "evry", "CIT").archived_at is None


def test_moving_a_domain_under_its_own_child_is_refused(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies/CIT/edit")
    response = client.post("/coordinate/evry/competencies/CIT/edit", data={**form(
        name="Citoyenneté", parent_code="CIT.1"), "csrf_token": token})
    assert response.status_code == 400
    assert "would make a circle" in response.get_data(as_text=True)
    assert query(lambda: db.session.scalars(select(Competency).where(Competency.code == "CIT")).one().parent_id) \
        is None


def test_curating_without_csrf_token_is_refused(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    assert client.post("/coordinate/evry/competencies/new", data=form(code="X", name="X")).status_code == 400
    assert client.post("/coordinate/evry/competencies/ECO/archive").status_code == 400
    assert competency_row(query, "evry", "X") is None
    assert competency_row(query, "evry", "ECO").archived_at is None


def test_framework_is_renamed(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    response = client.post("/coordinate/evry/competencies/framework", data={
        "name": "Référentiel d'Évry", "description": "Le nôtre", "csrf_token": token})
    assert response.status_code == 302
    document = client.get("/competencies/evry/CIT", headers={"Accept": "application/json"}).get_json()
    assert document["inDefinedTermSet"]["name"] == "Référentiel d'Évry"
    response = client.post("/coordinate/evry/competencies/framework", data={"name": " ", "csrf_token": token})
    assert response.status_code == 400
    assert "Give the framework a name." in response.get_data(as_text=True)


def test_platform_admin_curates_any_framework(client, frameworks, query):
    sign_in(client, frameworks.admin.session_id)
    token = token_of(client, "/coordinate/lyon/competencies")
    response = client.post("/coordinate/lyon/competencies/new", data={**form(code="LY.1", name="Admin's",
                                                                             parent_code="LY"), "csrf_token": token})
    assert response.status_code == 302
    assert competency_row(query, "lyon", "LY.1") is not None


def _attempts(slug: str, code: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", f"/coordinate/{slug}/competencies", {}),
        ("get", f"/coordinate/{slug}/competencies/new", {}),
        ("post", f"/coordinate/{slug}/competencies/new", form(code="HACK", name="Hack")),
        ("get", f"/coordinate/{slug}/competencies/{code}/edit", {}),
        ("post", f"/coordinate/{slug}/competencies/{code}/edit", form(name="Hacked")),
        ("post", f"/coordinate/{slug}/competencies/{code}/archive", {}),
        ("post", f"/coordinate/{slug}/competencies/{code}/restore", {}),
        ("post", f"/coordinate/{slug}/competencies/framework", {"name": "Hacked"}),
        ("post", f"/coordinate/{slug}/competencies/import", {"file": (io.BytesIO(b"code,name\nHACK,x\n"), "a.csv")}),
        ("get", f"/coordinate/{slug}/competencies/export.csv", {}),
    ]


@pytest.mark.parametrize("who", ["lyon_coordinator", "stranger"])
def test_others_cannot_touch_a_framework(client, frameworks, setup, query, who):
    person = frameworks.lyon_coordinator if who == "lyon_coordinator" else setup(
        lambda: make_person("stranger@example.org"))
    sign_in(client, person.session_id)
    token = token_of(client, "/organisations")
    for method, url, data in _attempts("evry", "CIT"):
        response = getattr(client, method)(url, data={**data, "csrf_token": token} if method == "post" else None)
        assert response.status_code == 403, (method, url, response.status_code)
    assert competency_row(query, "evry", "HACK") is None
    assert competency_row(query, "evry", "CIT").name == "Citoyenneté <active>"
    assert competency_row(query, "evry", "OLD").archived_at is not None


def test_a_coordinator_cannot_reach_another_territorys_competency_through_their_own(client, frameworks, query):
    sign_in(client, frameworks.lyon_coordinator.session_id)
    token = token_of(client, "/coordinate/lyon/competencies")
    assert client.get("/coordinate/lyon/competencies/CIT/edit").status_code == 404
    assert client.post("/coordinate/lyon/competencies/CIT/archive", data={"csrf_token": token}).status_code == 404
    response = client.post("/coordinate/lyon/competencies/new", data={**form(code="LY.2", name="x", parent_code="CIT"),
                                                                      "csrf_token": token})
    assert response.status_code == 400
    assert competency_row(query, "lyon", "LY.2") is None


def test_signed_out_visitors_are_sent_to_sign_in(client, frameworks):
    for method, url, _ in _attempts("evry", "CIT"):
        response = getattr(client, method)(url)
        assert response.status_code in (302, 400), (method, url)
        if method == "get":
            assert response.headers["Location"].startswith("/sign-in?next=")


def test_unknown_territory_or_code_is_404_for_a_coordinator(client, frameworks):
    sign_in(client, frameworks.coordinator.session_id)
    assert client.get("/coordinate/nowhere/competencies").status_code == 404
    assert client.get("/coordinate/evry/competencies/NOPE/edit").status_code == 404


# ------------------------------------------------------------------------------------------------ CSV


def upload(client: Any, data: bytes, token: str, filename: str = "framework.csv") -> Any:
    return client.post("/coordinate/evry/competencies/import",
                       data={"file": (io.BytesIO(data), filename), "csrf_token": token},
                       content_type="multipart/form-data")


def test_export_downloads_a_csv_file(client, frameworks):
    sign_in(client, frameworks.coordinator.session_id)
    response = client.get("/coordinate/evry/competencies/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="competencies-evry.csv"'
    data = response.get_data()
    assert data.startswith(codecs.BOM_UTF8)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "code,name,description,parent_code,esco_uri,rncp_code,case_item_uri,other_url"
    assert [line.split(",")[0] for line in lines[1:]] == ["CIT", "CIT.1", "ECO"]
    semicolons = client.get("/coordinate/evry/competencies/export.csv?separator=semicolon").get_data()
    assert semicolons.decode("utf-8-sig").splitlines()[0].startswith("code;name;")


def test_import_through_the_page_then_export_gives_the_same_file(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    text = ("code;name;description;parent_code\r\n"
            "NUM.1;Démarches en ligne;=cmd;NUM\r\n"
            "NUM;Numérique;;\r\n")
    response = upload(client, text.encode("cp1252"), token)
    assert response.status_code == 302
    assert "Import done: 2 created, 0 updated, 0 restored, 0 unchanged." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert competency_row(query, "evry", "NUM.1").description == "=cmd"
    exported = client.get("/coordinate/evry/competencies/export.csv").get_data()
    assert b"'=cmd" in exported
    response = upload(client, exported, token)
    assert response.status_code == 302
    assert "Import done: 0 created, 0 updated, 0 restored, 5 unchanged." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert client.get("/coordinate/evry/competencies/export.csv").get_data() == exported


def test_import_with_bad_rows_lists_them_by_line_and_imports_nothing(client, frameworks, query):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    data = (b"code,name,parent_code,esco_uri\n"
            b"GOOD,Good,,\n"
            b",No code,,\n"
            b"GOOD,Twice,,\n"
            b"KID,Kid,NOBODY,\n"
            b"X,X,,http://example.org/esco\n")
    response = upload(client, data, token)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "nothing has changed" in html
    for line in ("Line 3 (code)", "Line 4 (code)", "Line 5 (parent_code)", "Line 6 (esco_uri)"):
        assert line in html
    assert competency_row(query, "evry", "GOOD") is None


@pytest.mark.parametrize(("data", "expected"), [
    (os.urandom(10_000_000), "larger than 2 MB"),
    (b"\x00\x01\x02binary" * 100, "not a CSV text file"),
    (b"PK\x03\x04" + os.urandom(2000), "spreadsheet workbook"),
    ("nom;libellé\nA;B\n".encode("cp1252"), "The first line must name the columns"),
])
def test_garbage_uploads_get_a_clear_error_not_a_crash(client, frameworks, query, data, expected):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    response = upload(client, data, token)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_import_without_a_file_asks_for_one(client, frameworks):
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    response = client.post("/coordinate/evry/competencies/import", data={"csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_manage_page_search_finds_archived_ones_too(client, frameworks):
    sign_in(client, frameworks.coordinator.session_id)
    html = client.get("/coordinate/evry/competencies?q=ancienne").get_data(as_text=True)
    assert "Ancienne" in html and "Restore" in html
    assert csrf_token_from(html)


def test_json_document_of_a_competency_is_valid_json_ld_for_pyld(client, frameworks):
    from pyld import jsonld

    document = client.get("/competencies/evry/CIT.1", headers={"Accept": "application/ld+json"}).get_json(force=True)
    # Expanded with schema.org's terms given inline: no network, the context URL is replaced by a local one.
    local = {**document, "@context": [{"@vocab": "https://schema.org/"}, document["@context"][1]]}
    expanded = jsonld.expand(json.loads(json.dumps(local)))
    node = expanded[0]
    assert node["@id"] == "http://localhost/competencies/evry/CIT.1"
    assert node["http://www.w3.org/2004/02/skos/core#broader"] == [{"@id": "http://localhost/competencies/evry/CIT"}]
    assert node["http://www.w3.org/2002/07/owl#deprecated"][0]["@value"] is False


def test_framework_url_answers_json_ld_with_its_active_competencies(client, frameworks):
    response = client.get("/competencies/evry", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert "Accept" in response.headers["Vary"] and response.headers["ETag"]
    document = response.get_json(force=True)
    assert (document["@type"], document["@id"], document["name"]) == (
        "DefinedTermSet", "http://localhost/competencies/evry", "Évry")
    assert [(t["termCode"], t.get("broader")) for t in document["hasDefinedTerm"]] == [
        ("CIT", None), ("CIT.1", "http://localhost/competencies/evry/CIT"), ("ECO", None)]
    # The framework's URL is the one every competency names as its set.
    competency = client.get("/competencies/evry/CIT", headers={"Accept": "application/json"}).get_json()
    assert competency["inDefinedTermSet"]["@id"] == document["@id"]


def test_unknown_competency_asked_as_json_gets_a_json_404(client, frameworks):
    response = client.get("/competencies/evry/NOPE", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_what_the_file_says_is_escaped_in_the_messages_about_it(client, frameworks, query):
    # Column names and codes come from the uploaded file: quoted in the messages, never taken as HTML.
    sign_in(client, frameworks.coordinator.session_id)
    token = token_of(client, "/coordinate/evry/competencies")
    data = (b"code,name,<img src=x onerror=alert(1)>\n"
            b"<b>GOOD</b>,Good,\n"
            b"<b>GOOD</b>,Twice,\n")
    response = upload(client, data, token)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<img src=x" not in html and "<b>GOOD</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
