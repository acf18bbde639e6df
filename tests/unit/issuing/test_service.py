"""Issuing rules: what is signed, how it verifies, revocation, expiry, idempotency, refusals, atomicity."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.achievements import service as achievements
from badgehub.achievements.errors import AchievementArchived
from badgehub.audit.models import AuditEvent
from badgehub.credentials.baking import extract_from_png, extract_from_svg
from badgehub.credentials.documents import identity_hash
from badgehub.credentials.errors import JwtError
from badgehub.credentials.status_list import decode_status_list, get_bit
from badgehub.credentials.vc_jwt import decode_vc_jwt
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing import signing
from badgehub.issuing.errors import (
    AlreadyRevoked,
    CredentialNotFound,
    IdempotencyConflict,
    IssuingFailed,
    WrongOrganisation,
)
from badgehub.issuing.models import IssuedCredential, StatusList
from badgehub.issuing.notify import baked_image
from badgehub.issuing.status_lists import signed_status_list
from badgehub.keys.errors import NoActiveKey
from badgehub.keys.identity import did_web_of
from badgehub.keys.service import active_key, declare_compromised, rotate_keys
from badgehub.organisations.errors import OrganisationSuspended
from badgehub.territory.service import decide_membership, memberships_of
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus
from badgehub.verification.schema import validate_credential
from tests.conftest import SHARED, TEST_KEK
from tests.unit.issuing.conftest import days_ago

OWN_CHECKS = ("proof", "issuer_key", "status")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def statuses(report) -> dict[str, CheckStatus]:
    return {check.id: check.status for check in report.checks}


def assert_verified_offline(report) -> None:
    found = statuses(report)
    assert report.verified, [(c.id, c.status, c.code) for c in report.checks]
    assert all(found[name] is CheckStatus.PASSED for name in OWN_CHECKS), found


def test_issued_credential_verifies_offline_as_json_jwt_and_baked_png(issue, resolver):
    credential = issue()
    now = dt.datetime.now(dt.UTC)
    for data in (credential.document_json, credential.vc_jwt, baked_image(credential, "png").data,
                 baked_image(credential, "svg").data):
        report = verify(data, resolver, now, known_recipient="Lea@Example.net")
        assert_verified_offline(report)
        assert report.check("recipient").status is CheckStatus.PASSED


def test_baked_images_carry_the_stored_json_byte_for_byte(issue):
    credential = issue()
    assert extract_from_png(baked_image(credential, "png").data).payload == credential.document_json
    assert extract_from_svg(baked_image(credential, "svg").data).payload == credential.document_json


def test_document_validates_against_the_official_schema(issue):
    document = json.loads(issue(evidence_url="https://velo.example.org/photo", narrative="Deux roues réparées.",
                                result="Niveau 2", activity_start=dt.date(2025, 3, 1),
                                activity_end=dt.date(2025, 3, 2)).document_json)
    assert validate_credential(document).outcome == "ok"
    shared_schema = SHARED / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json"
    if not shared_schema.is_file():
        pytest.skip(f"the shared official schema is absent ({shared_schema})")
    assert validate_credential(document, path=Path(shared_schema)).outcome == "ok"


def test_document_says_who_what_to_whom_and_where_its_status_is(issue, world, ctx):
    credential = issue(evidence_url="https://velo.example.org/photo", narrative="Deux roues réparées.",
                       result="Niveau 2", activity_start=dt.date(2025, 3, 1), area_id=world.area("centre").id)
    document = json.loads(credential.document_json)
    issuer_id = did_web_of("http://localhost", world.a.slug)
    assert document["id"] == credential.credential_id and document["id"].startswith("urn:uuid:")
    assert document["issuer"]["id"] == issuer_id and document["issuer"]["name"] == "Atelier Vélo"
    assert document["proof"][0]["verificationMethod"].startswith(issuer_id + "#key-")
    assert document["validFrom"] == document["awardedDate"] == credential.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "validUntil" not in document
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["id"] == f"http://localhost/achievements/{world.repair.public_id}"
    assert (achievement["name"], achievement["version"]) == ("Réparer une crevaison", "1")
    assert achievement["creator"]["id"] == issuer_id
    identifier = subject["identifier"][0]
    assert len(identifier["salt"]) == 32
    assert identifier["identityHash"] == identity_hash("lea@example.net", identifier["salt"])
    assert "lea" not in credential.document_json and "Léa" not in credential.document_json
    assert subject["activityStartDate"] == "2025-03-01T00:00:00Z"
    assert subject["result"] == [{"type": ["Result"], "value": "Niveau 2"}]
    assert document["evidence"] == [{"id": "https://velo.example.org/photo", "type": ["Evidence"],
                                     "narrative": "Deux roues réparées."}]
    status = document["credentialStatus"]
    list_url = f"http://localhost/issuers/{world.a.slug}/status/1"
    assert status == {"id": f"{list_url}#{credential.status_index}", "type": "BitstringStatusListEntry",
                      "statusPurpose": "revocation", "statusListIndex": str(credential.status_index),
                      "statusListCredential": list_url}
    token = decode_vc_jwt(credential.vc_jwt)
    assert token.header["kid"].startswith(issuer_id + "#key-") and token.header["alg"] == "RS256"
    assert token.payload["proof"] == document["proof"]
    assert (credential.recipient_email, credential.recipient_name, credential.area.code) == (
        "lea@example.net", "Léa Martin", "centre")


def test_each_credential_gets_its_own_salt_id_and_random_status_index(issue):
    credentials = [issue() for _ in range(12)]
    salts = {json.loads(c.document_json)["credentialSubject"]["identifier"][0]["salt"] for c in credentials}
    assert len(salts) == 12
    assert len({c.public_id for c in credentials}) == len({c.credential_id for c in credentials}) == 12
    assert all(issuing.PUBLIC_ID_RE.fullmatch(c.public_id) for c in credentials)
    indexes = [c.status_index for c in credentials]
    assert len(set(indexes)) == 12
    assert max(indexes) > 1000, "indexes are drawn at random, not in order"
    assert db.session.scalar(select(StatusList.allocated)) == 12


def test_holder_did_becomes_the_subject_and_the_jwt_sub(issue, resolver):
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    credential = issue(holder_did=did)
    assert json.loads(credential.document_json)["credentialSubject"]["id"] == did
    assert decode_vc_jwt(credential.vc_jwt).payload["sub"] == did
    assert_verified_offline(verify(credential.vc_jwt, resolver, dt.datetime.now(dt.UTC)))


def test_issuing_locks_the_version_and_an_edit_makes_a_new_one(issue, world):
    credential = issue()
    assert credential.achievement_version.is_locked
    version = achievements.update_achievement(world.repair, world.owner_a, achievements.AchievementFields(
        **{**achievements.AchievementFields(name="x", description="y").__dict__,
           "name": "Réparer une crevaison vite", "description": "Sait réparer vite.", "criteria_md": "Vite.",
           "in_language": "fr"}))
    assert version.number == 2
    assert json.loads(credential.document_json)["credentialSubject"]["achievement"]["name"] == "Réparer une crevaison"
    second = issue()
    assert json.loads(second.document_json)["credentialSubject"]["achievement"]["version"] == "2"


def test_revocation_sets_the_bit_resigns_the_list_and_the_pipeline_says_revoked(issue, resolver, world):
    credential = issue()
    other = issue(email="sam@example.net")
    before = signed_status_list(credential.status_list, config=current_app.config)
    issuing.revoke_credential(credential, note="Badge donné par erreur", actor_id=world.owner_a.id,
                              config=current_app.config)
    after = signed_status_list(credential.status_list, config=current_app.config)
    assert after.etag != before.etag
    bits = decode_status_list(json.loads(after.text)["credentialSubject"]["encodedList"])
    assert get_bit(bits, credential.status_index) and not get_bit(bits, other.status_index)
    now = dt.datetime.now(dt.UTC)
    for data in (credential.document_json, credential.vc_jwt):
        report = verify(data, resolver, now)
        assert not report.verified and report.revoked is True
        assert report.check("status").code == "revoked"
        assert report.check("proof").status is CheckStatus.PASSED
    assert_verified_offline(verify(other.document_json, resolver, now))
    assert (credential.revocation_reason, credential.revocation_note, credential.revoked_by_id) == (
        "other", "Badge donné par erreur", world.owner_a.id)


def test_revocation_needs_a_reason_from_the_list_and_happens_once(issue, world):
    credential = issue()
    with pytest.raises(ValidationError):
        issuing.revoke_credential(credential, reason="Erreur", actor_id=None, config=current_app.config)
    with pytest.raises(ValidationError):
        issuing.revoke_credential(credential, reason="error", note="x" * 501, actor_id=None, config=current_app.config)
    assert credential.revoked_at is None
    issuing.revoke_credential(credential, reason="fraud", note="  ", actor_id=None, config=current_app.config)
    assert credential.revocation_note is None  # an empty note is no note
    version = credential.status_list.version
    with pytest.raises(AlreadyRevoked):
        issuing.revoke_credential(credential, note="Encore", actor_id=None, config=current_app.config)
    assert (credential.revocation_reason, credential.status_list.version) == ("fraud", version)


def test_a_suspended_organisation_may_still_revoke(issue, world):
    credential = issue()
    membership = memberships_of(world.a)[0]
    decide_membership(membership, "suspend", world.coordinator, "Badges sans preuves")
    issuing.revoke_credential(credential, note="Retiré", actor_id=world.owner_a.id, config=current_app.config)
    assert credential.is_revoked


def test_a_credential_past_its_validity_is_expired(issue, world, resolver):
    credential = issue(world.workshop, now=days_ago(60))
    assert credential.valid_until == credential.issued_at + dt.timedelta(days=30)
    assert json.loads(credential.document_json)["validUntil"] == credential.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert decode_vc_jwt(credential.vc_jwt).payload["exp"] == int(credential.valid_until.timestamp())
    for data in (credential.document_json, credential.vc_jwt):
        report = verify(data, resolver, dt.datetime.now(dt.UTC))
        assert report.expired is True and not report.verified
        assert report.check("validity").status is CheckStatus.FAILED
        assert all(report.check(name).status is CheckStatus.PASSED for name in OWN_CHECKS)
    fresh = issue(world.workshop)
    assert_verified_offline(verify(fresh.document_json, resolver, dt.datetime.now(dt.UTC)))


def test_the_same_idempotency_key_issues_once(issue, world):
    first = issue(idempotency_key="workshop-2025-03-01:lea")
    again = issue(idempotency_key="workshop-2025-03-01:lea", email=" LEA@example.net ")
    assert again.id == first.id
    assert count(IssuedCredential) == 1
    with pytest.raises(IdempotencyConflict):
        issue(world.workshop, idempotency_key="workshop-2025-03-01:lea")
    with pytest.raises(IdempotencyConflict):
        issue(idempotency_key="workshop-2025-03-01:lea", email="sam@example.net")
    other_organisation = issue(world.reading, idempotency_key="workshop-2025-03-01:lea",
                               actor_id=world.owner_b.id)
    assert other_organisation.id != first.id


def test_an_archived_achievement_cannot_be_issued(issue, world):
    achievements.archive_achievement(world.repair, world.owner_a)
    with pytest.raises(AchievementArchived):
        issue()
    assert count(IssuedCredential) == 0


def test_a_suspended_organisation_cannot_issue(issue, world):
    decide_membership(memberships_of(world.a)[0], "suspend", world.coordinator, "Badges sans preuves")
    with pytest.raises(OrganisationSuspended):
        issue()
    assert count(IssuedCredential) == 0


def test_an_organisation_cannot_issue_another_ones_achievement(world):
    with pytest.raises(WrongOrganisation):
        issuing.issue_credential(organisation=world.a, achievement=world.reading, recipient_email="lea@example.net",
                                 recipient_name="", actor_id=world.owner_a.id, source="single",
                                 config=current_app.config)
    assert count(IssuedCredential) == 0


@pytest.mark.parametrize(("options", "field"), [
    ({"email": "not-an-address"}, "recipient_email"),
    ({"email": ""}, "recipient_email"),
    ({"recipient_name": "x" * 201}, "recipient_name"),
    ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
    ({"evidence_url": "ftp://example.org/file"}, "evidence_url"),
    ({"activity_start": dt.date.today() + dt.timedelta(days=3)}, "activity_start"),
    ({"activity_end": dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)}, "activity_end"),
    ({"activity_start": dt.date(2025, 3, 2), "activity_end": dt.date(2025, 3, 1)}, "activity_end"),
    ({"activity_start": dt.datetime(2025, 3, 1, 10, 0)}, "activity_start"),
    ({"narrative": "x" * 5001}, "narrative"),
    ({"result": "x" * 501}, "result"),
    ({"holder_did": "https://example.org/me"}, "holder_did"),
])
def test_bad_award_values_are_refused_field_by_field(issue, options, field):
    with pytest.raises(ValidationError) as raised:
        issue(**options)
    assert field in raised.value.details["fields"]
    assert count(IssuedCredential) == 0 and count(StatusList) == 0


def test_the_area_must_belong_to_a_territory_of_the_organisation(issue, world):
    with pytest.raises(ValidationError) as raised:
        issue(area_id=world.area("port").id)
    assert "area_id" in raised.value.details["fields"]
    assert issue(area_id=world.area("gare").id).area.code == "gare"


def test_today_is_not_the_future_anywhere_on_earth(issue):
    credential = issue(activity_start=dt.date.today(), activity_end=dt.date.today())
    assert credential.activity_start.date() == dt.date.today()


def test_a_failure_while_signing_leaves_no_credential_no_index_and_no_lock(issue, world, monkeypatch):
    issue()
    status_list = db.session.scalar(select(StatusList))
    bits_before = status_list.bits

    def broken_signer(*args, **kwargs):
        raise JwtError("the signing device is unplugged")

    monkeypatch.setattr(signing, "sign_vc_jwt", broken_signer)
    with pytest.raises(IssuingFailed):
        issue(world.workshop, email="sam@example.net")
    # The caller goes on and commits the rest of its work (a batch would): nothing of the failed award remains.
    db.session.commit()
    assert count(IssuedCredential) == 1
    assert db.session.scalar(select(StatusList.allocated)) == 1
    assert db.session.scalar(select(StatusList.bits)) == bits_before
    assert not world.workshop.current_version.is_locked
    issued_events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "credential.issued")).all()
    assert len(issued_events) == 1


def test_a_failure_on_the_first_award_leaves_no_status_list(issue, monkeypatch):
    monkeypatch.setattr(signing, "sign_data_integrity", lambda *a, **k: (_ for _ in ()).throw(JwtError("boom")))
    with pytest.raises(IssuingFailed):
        issue()
    db.session.commit()
    assert count(StatusList) == 0 and count(IssuedCredential) == 0


def test_a_full_list_is_left_and_the_next_one_opens(issue, world):
    first = issue()
    first.status_list.allocated = first.status_list.size
    second = issue()
    assert (first.status_list.number, second.status_list.number) == (1, 2)
    document = json.loads(second.document_json)
    assert document["credentialStatus"]["statusListCredential"].endswith(f"/issuers/{world.a.slug}/status/2")


def test_lists_are_numbered_per_organisation(issue, world):
    a = issue()
    b = issue(world.reading, actor_id=world.owner_b.id)
    assert (a.status_list.number, b.status_list.number) == (1, 1)
    assert a.status_list_id != b.status_list_id


def test_issuing_and_revoking_leave_audit_events_without_personal_data(issue, world):
    credential = issue()
    issuing.revoke_credential(credential, note="Erreur de nom", actor_id=world.owner_a.id, config=current_app.config)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("credential.%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.organisation_id) for e in events] == [
        ("credential.issued", world.issuer_a.id, world.a.id), ("credential.revoked", world.owner_a.id, world.a.id)]
    assert events[0].details["public_id"] == credential.public_id
    text = json.dumps([e.details for e in events])
    assert "example.net" not in text and "Léa" not in text and "Erreur" not in text


def test_credentials_of_finds_by_email_name_badge_and_state(issue, world):
    lea = issue(recipient_name="Léa Martin")
    sam = issue(world.workshop, email="sam@example.net", recipient_name="Sam Durand")
    old = issue(world.workshop, email="old@example.net", recipient_name="Ancien", now=days_ago(60))
    issuing.revoke_credential(sam, note="Erreur", actor_id=None, config=current_app.config)
    issue(world.reading, email="lea@example.net", actor_id=world.owner_b.id)

    def ids(**filters):
        return [c.public_id for c in issuing.credentials_of(world.a, **filters).items]

    assert ids() == [sam.public_id, lea.public_id, old.public_id]
    assert ids(search="LEA@") == [lea.public_id]
    assert ids(search="durand") == [sam.public_id]
    assert ids(search="%") == []
    assert ids(achievement_id=world.workshop.id) == [sam.public_id, old.public_id]
    assert ids(state="revoked") == [sam.public_id]
    assert ids(state="expired") == [old.public_id]
    assert ids(state="active") == [lea.public_id]
    assert issuing.credentials_of(world.a, limit=1).total == 3
    with pytest.raises(ValidationError):
        issuing.credentials_of(world.a, state="lost")


def test_credentials_are_found_by_public_id_only_within_their_organisation(issue, world):
    credential = issue()
    assert issuing.get_credential(credential.public_id) is credential
    assert issuing.get_credential_for(world.a, credential.public_id) is credential
    for bad in ("", "zzzzzzzzzzzz", credential.public_id.upper(), credential.public_id + "a", "../etc/passwd"):
        with pytest.raises(CredentialNotFound):
            issuing.get_credential(bad)
    with pytest.raises(CredentialNotFound):
        issuing.get_credential_for(world.b, credential.public_id)


def test_a_signer_serves_a_whole_batch_but_only_its_organisation(issue, world):
    signer = issuing.signer_for(world.a, current_app.config)
    first = issue(signer=signer)
    second = issue(email="sam@example.net", signer=signer)
    assert first.vc_jwt != second.vc_jwt
    with pytest.raises(ValueError, match="another organisation"):
        issue(world.reading, signer=signer, actor_id=world.owner_b.id)


def test_a_rotated_or_compromised_key_is_never_used_again(issue, world, resolver):
    first = issue()  # the decrypted keys are now kept in the process
    [new_ed25519, new_rsa] = rotate_keys(world.a, bytes.fromhex(TEST_KEK), None)
    second = issue(email="sam@example.net")
    assert json.loads(second.document_json)["proof"][0]["verificationMethod"].endswith("#" + new_ed25519.key_id)
    assert decode_vc_jwt(second.vc_jwt).header["kid"].endswith("#" + new_rsa.key_id)
    assert json.loads(first.document_json)["proof"][0]["verificationMethod"] != json.loads(
        second.document_json)["proof"][0]["verificationMethod"]
    declare_compromised(active_key(world.a, new_ed25519.algorithm), dt.datetime.now(dt.UTC), None,
                        "Ordinateur volé")
    with pytest.raises(NoActiveKey):
        issue(email="tom@example.net")
    assert count(IssuedCredential) == 2


def test_the_slug_is_frozen_once_the_organisation_has_issued(world, issue):
    from badgehub.organisations.service import profile_fields_of, slug_is_frozen, update_profile

    organisation = world.a
    assert not slug_is_frozen(organisation)
    update_profile(organisation, world.owner_a, profile_fields_of(organisation), slug="atelier-velo-evry")
    credential = issue()
    assert slug_is_frozen(organisation)
    with pytest.raises(ValidationError) as refused:
        update_profile(organisation, world.owner_a, profile_fields_of(organisation), slug="another-address")
    assert refused.value.details == {"field": "slug"}
    assert organisation.slug == "atelier-velo-evry"
    assert f"did:web:localhost:issuers:{organisation.slug}" in credential.document_json
    # The rest of the profile can still change, and the same slug given again is no change.
    fields = replace(profile_fields_of(organisation), description="Ateliers du samedi")
    update_profile(organisation, world.owner_a, fields, slug=organisation.slug)
    assert organisation.description == "Ateliers du samedi"


def test_an_award_asked_again_after_its_recipient_erased_their_account_is_the_same_award(world, issue):
    from badgehub.wallet.erasure import blank_issued_recipients

    first = issue(email="Lea@Example.net", idempotency_key="row-7")
    assert blank_issued_recipients({"lea@example.net"}) == 1
    assert first.recipient_email == "" and first.recipient_email_key.startswith("erased:")
    count = db.session.scalar(select(func.count()).select_from(IssuedCredential))
    # The same award (the salted hash in the signed document still matches the address): no second credential.
    assert issue(email=" lea@example.NET ", idempotency_key="row-7") is first
    assert db.session.scalar(select(func.count()).select_from(IssuedCredential)) == count
    # Another person with the same key is still a conflict.
    with pytest.raises(IdempotencyConflict):
        issue(email="sam@example.net", idempotency_key="row-7")
