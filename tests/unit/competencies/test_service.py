"""Competency service rules: who curates, codes, the tree, references, search, URLs and OB alignments."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.competencies.errors import CompetencyExists, CompetencyHasChildren, ParentArchived
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.competencies.service import (
    CompetencyFields,
    alignment_for,
    archive_competency,
    competencies_of,
    competency_url,
    create_competency,
    fields_of,
    framework_of,
    framework_tree,
    get_competency,
    parent_options,
    restore_competency,
    search_competencies,
    update_competency,
    update_framework,
)
from badgehub.credentials.documents import (
    AchievementDefinition,
    IssuerProfile,
    Recipient,
    build_credential,
)
from badgehub.errors import NotFound, ValidationError
from badgehub.extensions import db
from badgehub.territory.errors import NotCoordinator


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_coordinator_creates_a_competency_and_the_framework_comes_with_it(world):
    assert framework_of(world.evry) is None
    competency = create_competency(world.evry, world.coordinator, "CIT.1", CompetencyFields(
        name="  Prendre la parole  ", description="Line one\r\nline two",
        esco_uri="http://data.europa.eu/esco/skill/S1", rncp_code="rncp 34567",
        case_item_uri="https://case.example.org/uri/1", other_url="https://example.org/x"))
    framework = framework_of(world.evry)
    assert framework is not None and framework.name == "Évry ville apprenante"
    stored = db.session.scalars(select(Competency).where(Competency.framework_id == framework.id)).one()
    assert stored is competency
    assert (stored.code, stored.name, stored.description) == ("CIT.1", "Prendre la parole", "Line one\nline two")
    assert (stored.esco_uri, stored.rncp_code) == ("http://data.europa.eu/esco/skill/S1", "RNCP34567")
    assert [e.details["code"] for e in events("competency.created")] == ["CIT.1"]
    assert events("competency.created")[0].actor_id == world.coordinator.id
    assert len(events("competency_framework.created")) == 1


def test_platform_admin_curates_any_territory(world):
    competency = create_competency(world.lyon, world.admin, "A", CompetencyFields(name="A"))
    assert competency.framework.territory_id == world.lyon.id


@pytest.mark.parametrize("who", ["stranger", "lyon_coordinator"])
def test_only_the_territorys_coordinators_curate(world, add, who):
    actor = getattr(world, who)
    domain = add("CIT")
    with pytest.raises(NotCoordinator):
        create_competency(world.evry, actor, "X", CompetencyFields(name="X"))
    with pytest.raises(NotCoordinator):
        update_competency(domain, actor, CompetencyFields(name="Taken over"))
    with pytest.raises(NotCoordinator):
        archive_competency(domain, actor)
    with pytest.raises(NotCoordinator):
        update_framework(world.evry, actor, name="Mine")
    assert domain.name == "Competency CIT" and domain.archived_at is None


@pytest.mark.parametrize("code", ["", " ", ".hidden", "-dash", "a b", "é1", "a/b", "a" * 65, "x?y"])
def test_codes_are_letters_digits_dots_hyphens_underscores(world, code):
    with pytest.raises(ValidationError) as caught:
        create_competency(world.evry, world.coordinator, code, CompetencyFields(name="N"))
    assert caught.value.details["field"] == "code"


@pytest.mark.parametrize("code", ["A", "cit.1", "NUM-2_b", "9", "a" * 64])
def test_valid_codes_are_accepted(world, code):
    assert create_competency(world.evry, world.coordinator, code, CompetencyFields(name="N")).code == code


def test_codes_are_unique_in_a_framework_whatever_their_case_but_not_across_territories(world, add):
    add("CIT.1")
    for code in ("CIT.1", "cit.1"):
        with pytest.raises(CompetencyExists):
            add(code)
    assert create_competency(world.lyon, world.lyon_coordinator, "CIT.1", CompetencyFields(name="N")).code == "CIT.1"


@pytest.mark.parametrize(("field", "value"), [
    ("esco_uri", "https://esco.ec.europa.eu/en/classification/skill?uri=x"),
    ("esco_uri", "http://data.europa.eu/other/skill/1"),
    ("esco_uri", "ftp://data.europa.eu/esco/skill/1"),
    ("esco_uri", "http://data.europa.eu/esco/"),
    ("esco_uri", "http://data.europa.eu/esco/skill/a b"),
    ("rncp_code", "34567"), ("rncp_code", "RNCP"), ("rncp_code", "RNCP12A"), ("rncp_code", "RSX1"),
    ("rncp_code", "RNCP1234567"),
    ("case_item_uri", "case.example.org/1"), ("case_item_uri", "javascript:alert(1)"),
    ("other_url", "https://exa mple.org"), ("other_url", "mailto:a@example.org"),
    ("other_url", "https://example.org/" + "a" * 500),
    ("name", ""), ("name", "a" * 201), ("name", "two\nlines"), ("name", "bell\x07"),
    ("description", "nul\x00"), ("description", "x" * 5001),
])
def test_bad_values_are_refused_naming_the_field(world, field, value):
    values = {"name": "Name", field: value}
    with pytest.raises(ValidationError) as caught:
        create_competency(world.evry, world.coordinator, "C1", CompetencyFields(**values))
    assert caught.value.details["field"] == field
    assert db.session.scalar(select(Competency.id)) is None


def test_every_bad_field_is_reported_at_once(world):
    with pytest.raises(ValidationError) as caught:
        create_competency(world.evry, world.coordinator, "C1", CompetencyFields(
            name="", esco_uri="nope", rncp_code="12", other_url="x"))
    assert set(caught.value.details["errors"]) == {"name", "esco_uri", "rncp_code", "other_url"}


@pytest.mark.parametrize("value", ["http://data.europa.eu/esco/skill/0c5a1b1e-7f4b-4d3e-9f7e-1b2c3d4e5f60",
                                   "https://data.europa.eu/esco/skill/S1.2.1",
                                   "http://data.europa.eu/esco/isced-f/0613"])
def test_esco_uris_under_data_europa_eu_esco_are_accepted(world, value):
    assert create_competency(world.evry, world.coordinator, "C", CompetencyFields(
        name="N", esco_uri=value)).esco_uri == value


def test_rs_codes_are_accepted_and_normalised(world):
    assert create_competency(world.evry, world.coordinator, "C", CompetencyFields(
        name="N", rncp_code=" rs 5678 ")).rncp_code == "RS5678"


def test_parent_must_exist_in_the_same_framework(world, add):
    create_competency(world.lyon, world.lyon_coordinator, "LYON", CompetencyFields(name="Lyon domain"))
    with pytest.raises(ValidationError) as caught:
        add("X", parent_code="LYON")
    assert caught.value.details["field"] == "parent_code"


def test_moving_a_competency_under_its_own_descendant_is_refused_as_a_circle(world, add):
    domain = add("D")
    add("D.1", parent_code="D")
    add("D.1.1", parent_code="D.1")
    for target in ("D.1.1", "D.1", "D"):
        with pytest.raises(ValidationError) as caught:
            update_competency(domain, world.coordinator, CompetencyFields(name="D", parent_code=target))
        assert caught.value.details["field"] == "parent_code"
    assert domain.parent is None


def test_editing_changes_fields_but_never_the_code_and_records_what_changed(world, add):
    add("A")
    add("B")
    competency = add("A.1", parent_code="A")
    update_competency(competency, world.coordinator, CompetencyFields(
        name="Renamed", description="New", parent_code="B", rncp_code="RS1"))
    assert (competency.code, competency.name, competency.parent.code, competency.rncp_code) == (
        "A.1", "Renamed", "B", "RS1")
    assert events("competency.updated")[-1].details == {
        "code": "A.1", "changed": ["name", "description", "parent_code", "rncp_code"]}
    update_competency(competency, world.coordinator, fields_of(competency))
    assert len(events("competency.updated")) == 1


def test_archiving_keeps_the_competency_reachable_and_marks_it(world, add):
    competency = add("A")
    archive_competency(competency, world.coordinator)
    assert isinstance(competency.archived_at, dt.datetime)
    assert get_competency("evry", "A") is competency
    assert competencies_of(world.evry) == []
    assert competencies_of(world.evry, include_archived=True) == [competency]
    archive_competency(competency, world.coordinator)
    assert len(events("competency.archived")) == 1
    restore_competency(competency, world.coordinator)
    assert competency.archived_at is None
    assert len(events("competency.restored")) == 1


def test_a_domain_with_active_competencies_under_it_cannot_be_archived(world, add):
    domain = add("D")
    child = add("D.1", parent_code="D")
    with pytest.raises(CompetencyHasChildren):
        archive_competency(domain, world.coordinator)
    archive_competency(child, world.coordinator)
    archive_competency(domain, world.coordinator)
    with pytest.raises(ParentArchived):
        restore_competency(child, world.coordinator)
    with pytest.raises(ParentArchived):
        add("D.2", parent_code="D")


def test_get_competency_is_404_for_another_territory_or_an_unknown_code(world, add):
    add("A")
    with pytest.raises(NotFound):
        get_competency("lyon", "A")
    with pytest.raises(NotFound):
        get_competency("evry", "a")
    with pytest.raises(NotFound):
        get_competency("nowhere", "A")


def test_the_tree_lists_domains_with_their_competencies_in_natural_order(world, add):
    for code, parent in [("B", None), ("A", None), ("A.10", "A"), ("A.2", "A"), ("A.2.1", "A.2"), ("B.1", "B")]:
        add(code, parent_code=parent)
    tree = framework_tree(world.evry)
    assert [node.competency.code for node in tree] == ["A", "B"]
    assert [node.competency.code for node in tree[0].children] == ["A.2", "A.10"]
    assert [c.code for c in competencies_of(world.evry)] == ["A", "A.2", "A.2.1", "A.10", "B", "B.1"]
    options = [node.competency.code for node in parent_options(world.evry, get_competency("evry", "A.2"))]
    assert options == ["A", "A.10", "B", "B.1"]


def test_search_ignores_case_and_accents_and_looks_at_code_name_and_description(world, add):
    add("ECO", "Transition écologique")
    add("ECO.1", "Réduire ses déchets", description="Composter, TRIER", parent_code="ECO")
    add("NUM", "Numérique")
    assert [c.code for c in search_competencies(world.evry, "ECOLOGIQUE")] == ["ECO"]
    assert [c.code for c in search_competencies(world.evry, "dechets")] == ["ECO.1"]
    assert [c.code for c in search_competencies(world.evry, "trier compost")] == ["ECO.1"]
    assert [c.code for c in search_competencies(world.evry, "eco")] == ["ECO", "ECO.1"]
    assert [c.code for c in search_competencies(world.evry, "num")] == ["NUM"]
    assert search_competencies(world.evry, "velo") == []
    assert search_competencies(world.lyon, "eco") == []


def test_competency_url_is_built_from_base_url_slug_and_code(world, add):
    assert competency_url(add("CIT.1"), current_app.config) == "http://localhost/competencies/evry/CIT.1"


def test_framework_rename_is_audited_and_shown_in_alignments(world, add):
    competency = add("A", "Agir", description="Desc")
    update_framework(world.evry, world.coordinator, name="Référentiel d'Évry", description="Le nôtre")
    alignment = alignment_for(competency, current_app.config)
    assert (alignment.target_name, alignment.target_url, alignment.target_code, alignment.target_framework,
            alignment.target_type, alignment.target_description) == (
        "Agir", "http://localhost/competencies/evry/A", "A", "Référentiel d'Évry", "ceasn:Competency", "Desc")
    assert events("competency_framework.updated")[-1].details == {"changed": ["name", "description"]}
    with pytest.raises(ValidationError):
        update_framework(world.evry, world.coordinator, name=" ")
    assert db.session.scalars(select(CompetencyFramework)).one().name == "Référentiel d'Évry"


def test_alignment_is_accepted_by_the_credential_builder(world, add):
    competency = add("NUM.2", "Vérifier une information", description="Croiser les sources.")
    no_description = add("NUM.3", "Protéger ses données")
    assert alignment_for(no_description, current_app.config).target_description is None
    achievement = AchievementDefinition(
        id="http://localhost/achievements/1", name="Fact-checker", description="Checks facts.",
        criteria_narrative="Did it.",
        alignments=(alignment_for(competency, current_app.config), alignment_for(no_description, current_app.config)))
    credential = build_credential(
        credential_id="urn:uuid:2f4b2a4e-6a2b-4c41-9f0e-0c4a3a2d9d11",
        issuer=IssuerProfile(id="http://localhost/issuers/club", name="Club"), achievement=achievement,
        recipient=Recipient(email="ana@example.org", salt="s"), valid_from="2026-01-01T00:00:00Z")
    alignments = credential["credentialSubject"]["achievement"]["alignment"]
    assert alignments[0] == {
        "type": ["Alignment"], "targetName": "Vérifier une information",
        "targetUrl": "http://localhost/competencies/evry/NUM.2", "targetCode": "NUM.2",
        "targetFramework": "Évry ville apprenante", "targetType": "ceasn:Competency",
        "targetDescription": "Croiser les sources."}
    assert "targetDescription" not in alignments[1]
