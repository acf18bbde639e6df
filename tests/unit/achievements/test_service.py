"""Achievement rules: who defines what, versions frozen once issued, archives, alignments, OB documents."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.achievements import images
from badgehub.achievements import service as achievements
from badgehub.achievements.errors import AchievementArchived, ImageRejected
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.audit.models import AuditEvent
from badgehub.credentials.documents import (
    Recipient,
    achievement_document,
    build_credential,
    issuer_profile_document,
)
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.verification.checks.structure import structure_problems
from badgehub.verification.schema import validate_credential
from tests import factories
from tests.unit.achievements.conftest import competency

FIELDS = achievements.AchievementFields(
    name="Réparer une crevaison", description="Sait réparer une chambre à air crevée.",
    criteria_md="- démonter la roue\n- trouver le trou\n- poser une rustine", tags="vélo, réparation",
    in_language="fr", valid_for_days=365, evidence_expected="Une photo de la roue remontée.")


def fields(**changes):
    return achievements.AchievementFields(**{**FIELDS.__dict__, **changes})


@pytest.fixture
def org(make_org, make_user):
    owner = make_user()
    organisation = make_org(owner=owner)
    organisation.test_owner = owner
    return organisation


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_issuer_creates_an_achievement_with_a_first_version_and_an_audit_event(org, member_with):
    issuer = member_with(org, org.test_owner, "issuer")
    achievement = achievements.create_achievement(org, issuer, FIELDS)
    version = achievement.current_version
    assert achievements.PUBLIC_ID_RE.fullmatch(achievement.public_id)
    assert (version.number, version.name, version.tags, version.valid_for_days, version.achievement_type) == (
        1, "Réparer une crevaison", ["vélo", "réparation"], 365, "Badge")
    assert (version.image_source, version.image_media_type, version.created_by_id) == ("generated", "image/png",
                                                                                       issuer.id)
    assert version.image_params["text"] == "Réparer une crevaison"
    assert version.locked_at is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "achievement.created")).one()
    assert (event.actor_id, event.organisation_id, event.subject_id) == (issuer.id, org.id, str(achievement.id))


def test_public_ids_are_short_unguessable_and_distinct(org):
    ids = {achievements.create_achievement(org, org.test_owner, fields(name=f"Badge {i}")).public_id
           for i in range(20)}
    assert len(ids) == 20
    assert all(achievements.PUBLIC_ID_RE.fullmatch(value) for value in ids)


def test_viewer_cannot_create_or_edit(org, member_with):
    viewer = member_with(org, org.test_owner, "viewer")
    with pytest.raises(Forbidden):
        achievements.create_achievement(org, viewer, FIELDS)
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    for attempt in (lambda: achievements.update_achievement(achievement, viewer, fields(name="Autre")),
                    lambda: achievements.archive_achievement(achievement, viewer),
                    lambda: achievements.unarchive_achievement(achievement, viewer)):
        with pytest.raises(Forbidden):
            attempt()
    assert achievements.get_for_organisation(org, viewer, achievement.public_id) is achievement
    assert achievements.list_for_organisation(org, viewer) == [achievement]


def test_staff_of_another_organisation_sees_nothing(org, make_org, make_user):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    other_owner = make_user()
    other = make_org("Médiathèque", owner=other_owner)
    with pytest.raises(NotFound):
        achievements.create_achievement(org, other_owner, FIELDS)
    with pytest.raises(NotFound):
        achievements.update_achievement(achievement, other_owner, fields(name="Pris"))
    with pytest.raises(NotFound):
        achievements.list_for_organisation(org, other_owner)
    with pytest.raises(NotFound):
        achievements.get_for_organisation(org, other_owner, achievement.public_id)
    # Through its own organisation, the other's achievement does not exist either.
    with pytest.raises(NotFound):
        achievements.get_for_organisation(other, other_owner, achievement.public_id)
    with pytest.raises(NotFound):
        achievements.archive_achievement(achievement, other_owner)


def test_suspended_organisation_cannot_create_edit_or_restore_but_can_archive(org, make_territory, join):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    join(org, make_territory(), org.test_owner, suspend=True)
    with pytest.raises(OrganisationSuspended):
        achievements.create_achievement(org, org.test_owner, fields(name="Nouveau"))
    with pytest.raises(OrganisationSuspended):
        achievements.update_achievement(achievement, org.test_owner, fields(name="Changé"))
    achievements.archive_achievement(achievement, org.test_owner)
    assert achievement.is_archived
    with pytest.raises(OrganisationSuspended):
        achievements.unarchive_achievement(achievement, org.test_owner)
    assert achievement.current_version.name == "Réparer une crevaison"


def test_editing_an_unlocked_version_changes_it_in_place(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    first = achievement.current_version
    version = achievements.update_achievement(achievement, org.test_owner, fields(description="Nouvelle description"))
    assert version is first
    assert (version.number, version.description) == (1, "Nouvelle description")
    assert db.session.scalar(select(func.count(AchievementVersion.id)).where(
        AchievementVersion.achievement_id == achievement.id)) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "achievement.updated")).one()
    assert event.details == {"version": 1, "new_version": False, "fields": ["description"]}


def test_editing_a_locked_version_makes_version_two_and_leaves_version_one_untouched(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    first = achievements.lock_version(achievement.current_version)
    before_document = achievement_document(achievements.achievement_definition(first, current_app.config))
    before_image = first.image
    version = achievements.update_achievement(
        achievement, org.test_owner, fields(name="Réparer une crevaison en autonomie", criteria_md="Seul·e."))
    assert (version.number, version.name, version.locked_at) == (2, "Réparer une crevaison en autonomie", None)
    assert achievement.current_version is version
    db.session.expire_all()
    old = achievements.version_of(achievement, 1)
    assert (old.name, old.criteria_md) == ("Réparer une crevaison", FIELDS.criteria_md)
    assert old.image == before_image
    assert achievement_document(achievements.achievement_definition(old, current_app.config)) == before_document
    # The renamed badge got its generated image drawn again, with the new name.
    assert version.image != before_image
    assert version.image_params["text"] == "Réparer une crevaison en autonomie"
    assert achievement_document(achievements.achievement_definition(version, current_app.config))["version"] == "2"


def test_editing_a_locked_version_keeps_an_uploaded_image_in_the_new_version(org):
    upload = achievements.UploadedImage(factories.png())
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS, upload)
    achievements.lock_version(achievement.current_version)
    version = achievements.update_achievement(achievement, org.test_owner, fields(name="Autre nom"))
    assert version.number == 2
    assert (version.image_source, version.image) == ("upload", images.read_upload(factories.png()).data)


def test_saving_the_same_values_changes_nothing_and_records_nothing(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    achievements.lock_version(achievement.current_version)
    version = achievements.update_achievement(achievement, org.test_owner, FIELDS)
    assert version.number == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "achievement.updated")) == 0


def test_lock_version_is_idempotent_and_keeps_the_first_time(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    first_time = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    achievements.lock_version(achievement.current_version, now=first_time)
    achievements.lock_version(achievement.current_version, now=first_time + dt.timedelta(days=3))
    assert achievement.current_version.locked_at == first_time


def test_archived_achievement_cannot_be_issued_or_edited_and_stays_public(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    assert achievements.require_issuable(achievement) is achievement.current_version
    achievements.archive_achievement(achievement, org.test_owner)
    with pytest.raises(AchievementArchived):
        achievements.require_issuable(achievement)
    with pytest.raises(AchievementArchived):
        achievements.update_achievement(achievement, org.test_owner, fields(name="Autre"))
    assert achievements.public_achievement(achievement.public_id) is achievement
    assert achievements.list_for_organisation(org, org.test_owner) == []
    assert achievements.list_for_organisation(org, org.test_owner, archived=True) == [achievement]
    achievements.unarchive_achievement(achievement, org.test_owner)
    assert achievements.require_issuable(achievement) is achievement.current_version
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("achievement.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["achievement.created", "achievement.archived", "achievement.unarchived"]


def test_list_is_by_name_and_filters_archived(org):
    names = ["Zèbre", "atelier", "Écoute"]
    made = {name: achievements.create_achievement(org, org.test_owner, fields(name=name)) for name in names}
    achievements.archive_achievement(made["Zèbre"], org.test_owner)
    assert [a.current_version.name for a in achievements.list_for_organisation(org, org.test_owner)] == [
        "atelier", "Écoute"]
    assert len(achievements.list_for_organisation(org, org.test_owner, archived=None)) == 3


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Bad\x00name"}, "name"),
    ({"description": ""}, "description"),
    ({"criteria_md": "", "criteria_url": ""}, "criteria_md"),
    ({"criteria_url": "javascript:alert(1)"}, "criteria_url"),
    ({"achievement_type": "Diplomette"}, "achievement_type"),
    ({"in_language": "klingon"}, "in_language"),
    ({"in_language": "xx"}, "in_language"),
    ({"valid_for_days": "0"}, "valid_for_days"),
    ({"valid_for_days": "one year"}, "valid_for_days"),
    ({"tags": ",".join(f"t{i}" for i in range(25))}, "tags"),
    ({"tags": "x" * 51}, "tags"),
    ({"competency_ids": [999_999]}, "competency_ids"),
])
def test_bad_fields_are_refused_on_their_field_and_nothing_is_saved(org, changes, field):
    with pytest.raises(ValidationError) as caught:
        achievements.create_achievement(org, org.test_owner, fields(**changes))
    assert field in caught.value.details["fields"]
    assert count(Achievement) == 0


def test_every_problem_is_reported_at_once_including_the_image(org):
    with pytest.raises(ValidationError) as caught:
        achievements.create_achievement(org, org.test_owner, fields(name="", description=""),
                                        achievements.UploadedImage(factories.PDF_RENAMED))
    assert set(caught.value.details["fields"]) == {"name", "description", "image"}


@pytest.mark.parametrize(("data", "reason"), [
    (factories.SVG_SCRIPT, "svg_forbidden_element"),
    (factories.SVG_EXTERNAL_ENTITY, "svg_dtd"),
    (factories.PDF_RENAMED, "not_png_or_svg"),
    (factories.truncated_png(), "unreadable"),
])
def test_hostile_upload_saves_nothing(org, data, reason):
    with pytest.raises(ImageRejected) as caught:
        achievements.create_achievement(org, org.test_owner, FIELDS, achievements.UploadedImage(data))
    assert caught.value.reason == reason
    assert count(Achievement) == 0 and count(AchievementVersion) == 0


def test_hostile_upload_on_edit_leaves_the_version_as_it_was(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS)
    before = achievement.current_version.image
    with pytest.raises(ImageRejected):
        achievements.update_achievement(achievement, org.test_owner, fields(name="Renommé"),
                                        achievements.UploadedImage(factories.SVG_ONLOAD))
    db.session.expire_all()
    assert (achievement.current_version.name, achievement.current_version.image) == ("Réparer une crevaison", before)


def test_uploaded_svg_is_stored_sanitised(org):
    achievement = achievements.create_achievement(org, org.test_owner, FIELDS,
                                                  achievements.UploadedImage(factories.SVG_OK))
    version = achievement.current_version
    assert (version.image_media_type, version.image_source, version.image_params) == ("image/svg+xml", "upload", None)
    assert b"inkscape" not in version.image


def test_text_typed_in_a_browser_is_normalised_for_documents(org):
    achievement = achievements.create_achievement(org, org.test_owner, fields(
        name="  Réparer   une\tcrevaison ", description="Ligne 1\r\nLigne 2\x0b", tags=["vélo", " Vélo ", ""]))
    version = achievement.current_version
    assert (version.name, version.description, version.tags) == ("Réparer une crevaison", "Ligne 1\nLigne 2", ["vélo"])


def test_alignments_come_from_the_territories_of_the_organisation_in_the_chosen_order(org, make_territory, join):
    territory = make_territory()
    elsewhere = make_territory("corbeil", competencies=(("AUT", "Autre", None),))
    join(org, territory, org.test_owner)
    offered = achievements.alignment_choices(org)
    assert [(t.slug, [c.code for c in cs]) for t, cs in offered] == [("evry", ["CIT", "CIT-1", "NUM", "NUM-2"])]
    chosen = [competency(territory, "NUM-2").id, competency(territory, "CIT-1").id]
    achievement = achievements.create_achievement(org, org.test_owner, fields(competency_ids=chosen))
    assert [c.code for c in achievement.current_version.competencies] == ["NUM-2", "CIT-1"]
    with pytest.raises(ValidationError) as caught:
        achievements.update_achievement(achievement, org.test_owner,
                                        fields(competency_ids=[competency(elsewhere, "AUT").id]))
    assert "competency_ids" in caught.value.details["fields"]


def test_an_organisation_in_no_territory_has_no_alignment_choices(org, make_territory):
    territory = make_territory()
    assert achievements.alignment_choices(org) == []
    with pytest.raises(ValidationError):
        achievements.create_achievement(org, org.test_owner,
                                        fields(competency_ids=[competency(territory, "CIT").id]))


def test_a_pending_member_may_align_to_the_territory(org, make_territory, join):
    territory = make_territory()
    join(org, territory, org.test_owner, approve=False)
    achievement = achievements.create_achievement(org, org.test_owner,
                                                  fields(competency_ids=[competency(territory, "CIT").id]))
    assert [c.code for c in achievement.current_version.competencies] == ["CIT"]


def test_an_archived_competency_already_aligned_may_stay(org, make_territory, join):
    territory = make_territory()
    join(org, territory, org.test_owner)
    archived = competency(territory, "CIT-1")
    achievement = achievements.create_achievement(org, org.test_owner, fields(competency_ids=[archived.id]))
    archived.archived_at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    db.session.flush()
    version = achievements.update_achievement(achievement, org.test_owner,
                                              fields(description="Autre", competency_ids=[archived.id]))
    assert [c.code for c in version.competencies] == ["CIT-1"]
    other = achievements.create_achievement(org, org.test_owner, fields(name="Autre"))
    with pytest.raises(ValidationError):
        achievements.update_achievement(other, org.test_owner, fields(name="Autre", competency_ids=[archived.id]))


def test_definition_is_the_ob_achievement_of_the_version(app, org, make_territory, join):
    territory = make_territory()
    join(org, territory, org.test_owner)
    achievement = achievements.create_achievement(org, org.test_owner, fields(
        criteria_url="https://atelier.example.org/criteres", competency_ids=[competency(territory, "NUM-2").id]))
    definition = achievements.achievement_definition(achievement.current_version, current_app.config)
    document = achievement_document(definition)
    base = app.config["BASE_URL"]
    assert document["id"] == f"{base}/achievements/{achievement.public_id}"
    assert document["type"] == ["Achievement"]
    assert document["criteria"] == {"id": "https://atelier.example.org/criteres", "narrative": FIELDS.criteria_md}
    assert document["image"] == {"id": f"{base}/achievements/{achievement.public_id}/v/1/image", "type": "Image"}
    assert (document["achievementType"], document["inLanguage"], document["tag"]) == (
        "Badge", "fr", ["vélo", "réparation"])
    assert document["alignment"] == [{
        "type": ["Alignment"], "targetName": "Protéger ses données", "targetUrl": f"{base}/competencies/evry/NUM-2",
        "targetCode": "NUM-2", "targetFramework": "Référentiel Evry", "targetType": "ceasn:Competency",
        "targetDescription": "Description de Protéger ses données"}]
    assert document["creator"]["id"] == f"{base}/issuers/{org.slug}"
    assert document["creator"]["name"] == org.name


def test_definition_goes_into_a_credential_that_the_official_schema_accepts(org, make_territory, join):
    territory = make_territory()
    join(org, territory, org.test_owner)
    achievement = achievements.create_achievement(org, org.test_owner, fields(
        competency_ids=[competency(territory, "CIT").id, competency(territory, "NUM-2").id]))
    version = achievements.lock_version(achievement.current_version)
    issuer = achievements.creator_profile(org, current_app.config)
    credential = build_credential(
        credential_id="urn:uuid:3f1e4a52-6f0e-4c8e-9a51-0d3f8a2c1b77", issuer=issuer,
        achievement=achievements.achievement_definition(version, current_app.config, creator=issuer),
        recipient=Recipient(email="lucas@example.net", salt="s4lt"), valid_from="2026-03-01T10:00:00Z")
    assert validate_credential(credential).outcome == "ok"
    assert structure_problems(credential, endorsement=False, vc_version="2.0") == []
    expected_id = achievements.achievement_url(achievement, current_app.config)
    assert credential["credentialSubject"]["achievement"]["id"] == expected_id
    assert issuer_profile_document(issuer)["id"] == credential["issuer"]["id"]
