"""Endorsements made through the service: signed, verifiable by our pipeline, withdrawn through the status list,
shown or declined by the endorsed party, and refused to anyone who may not sign for the endorser."""

from __future__ import annotations

import json

import pytest
from flask import Flask, current_app

from badgehub.db import utcnow
from badgehub.endorsements import service as endorsements
from badgehub.endorsements.errors import (
    AlreadyEndorsed,
    AlreadyWithdrawn,
    CannotEndorse,
    EndorsementNotFound,
    InvitationNotFound,
    SelfEndorsement,
    TooManyInvitations,
)
from badgehub.endorsements.models import Display
from badgehub.endorsements.territory_issuers import (
    acts_for,
    endorsing_organisations,
    ensure_territory_issuer,
    territory_issuer_of,
)
from badgehub.errors import ValidationError
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.keys.identity import issuer_id_of
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus
from badgehub.verification.resolver import Resolver
from tests.factories import World


def _checks(report: object) -> dict[str, CheckStatus]:
    return {check.id: check.status for check in report.checks}  # type: ignore[attr-defined]


def test_endorsement_of_an_achievement_is_signed_and_verifies(world: World, resolver: Resolver) -> None:
    made = endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="Un atelier sérieux.",
                                            evidence_url="https://biblio.example.org/visite", config=current_app.config)
    document = json.loads(made.document_json)
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["credentialSubject"]["id"].endswith(f"/achievements/{world.repair.public_id}")
    assert "Un atelier sérieux." in document["credentialSubject"]["endorsementComment"]
    assert "https://biblio.example.org/visite" in document["credentialSubject"]["endorsementComment"]
    assert document["issuer"]["id"] == issuer_id_of(world.b, {"BASE_URL": "http://localhost"})
    assert document["credentialStatus"]["statusListIndex"] == str(made.status_index)
    report = verify(document, resolver, utcnow())
    assert report.verified, [c.code for c in report.failed]
    assert _checks(report)["proof"] is CheckStatus.PASSED
    assert _checks(report)["status"] is CheckStatus.PASSED
    jwt_report = verify(made.vc_jwt, resolver, utcnow())
    assert jwt_report.verified, [c.code for c in jwt_report.failed]


def test_a_tampered_endorsement_fails_its_proof(world: World, resolver: Resolver) -> None:
    made = endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="Un atelier sérieux.",
                                            config=current_app.config)
    document = json.loads(made.document_json)
    document["credentialSubject"]["endorsementComment"] = "Le meilleur atelier du monde."
    report = verify(document, resolver, utcnow())
    assert not report.verified
    assert _checks(report)["proof"] is CheckStatus.FAILED


def test_withdrawing_sets_the_status_bit(world: World, resolver: Resolver) -> None:
    made = endorsements.endorse_organisation(world.b, world.owner_b, world.a, comment="Partenaire fiable.",
                                             config=current_app.config)
    assert made.subject_uri == issuer_id_of(world.a, {"BASE_URL": "http://localhost"})
    endorsements.withdraw(made, world.owner_b, config=current_app.config)
    report = verify(json.loads(made.document_json), resolver, utcnow())
    assert _checks(report)["status"] is CheckStatus.FAILED
    with pytest.raises(AlreadyWithdrawn):
        endorsements.withdraw(made, world.owner_b, config=current_app.config)
    assert endorsements.public_endorsements(organisation=world.a) == []


def test_issuing_never_reuses_an_endorsement_index(world: World) -> None:
    made = endorsements.endorse_achievement(world.a, world.owner_a, world.reading, comment="Lu et approuvé.",
                                            config=current_app.config)
    credential = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                          recipient_email="x@example.net", recipient_name="X",
                                          actor_id=world.owner_a.id, source="single", config=current_app.config)
    assert credential.status_list_id == made.status_list_id
    assert credential.status_index != made.status_index
    from badgehub.issuing.status_lists import _TakenIndexes

    assert made.status_index in _TakenIndexes(made.status_list)


def test_only_owners_and_issuers_endorse_and_never_themselves(world: World) -> None:
    with pytest.raises(CannotEndorse):
        endorsements.endorse_achievement(world.a, world.viewer_a, world.reading, comment="Oui.",
                                         config=current_app.config)
    with pytest.raises(CannotEndorse):
        endorsements.endorse_achievement(world.a, world.owner_b, world.reading, comment="Oui.",
                                         config=current_app.config)
    with pytest.raises(SelfEndorsement):
        endorsements.endorse_achievement(world.a, world.issuer_a, world.repair, comment="Oui.",
                                         config=current_app.config)
    endorsements.endorse_achievement(world.a, world.issuer_a, world.reading, comment="Oui.", config=current_app.config)
    with pytest.raises(AlreadyEndorsed):
        endorsements.endorse_achievement(world.a, world.owner_a, world.reading, comment="Encore.",
                                         config=current_app.config)


def test_a_comment_is_required_and_evidence_is_a_web_address(world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="  ",
                                         evidence_url="javascript:alert(1)", config=current_app.config)
    assert set(caught.value.details["fields"]) == {"comment", "evidence_url"}


def test_the_endorsed_organisation_declines_and_shows_again(world: World) -> None:
    made = endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="Bien.",
                                            config=current_app.config)
    assert endorsements.public_endorsements(achievement=world.repair) == [made]
    with pytest.raises(EndorsementNotFound):
        endorsements.set_display(made, world.viewer_a, shown=False)
    with pytest.raises(EndorsementNotFound):
        endorsements.set_display(made, world.owner_b, shown=False)
    endorsements.set_display(made, world.issuer_a, shown=False)
    assert made.display is Display.DECLINED
    assert endorsements.public_endorsements(achievement=world.repair) == []
    endorsements.set_display(made, world.owner_a, shown=True)
    assert endorsements.documents_of(endorsements.public_endorsements(achievement=world.repair)) == (
        json.loads(made.document_json),)


def test_a_learner_invites_and_chooses(world: World, credential: IssuedCredential, ctx: Flask) -> None:
    from badgehub.accounts.service import create_user

    lea = create_user("lea@example.net", name="Léa", verified=True)
    invitation, token = endorsements.invite(credential, lea, message="Vous m'avez vue animer l'atelier.")
    assert endorsements.invitation_by_token(token).id == invitation.id
    made = endorsements.endorse_by_invitation(token, world.b, world.owner_b, comment="Elle a animé trois ateliers.",
                                              config=current_app.config)
    assert made.display is Display.PENDING
    assert made.subject_uri == credential.credential_id
    assert endorsements.public_endorsements(credential=credential) == []
    with pytest.raises(EndorsementNotFound):
        endorsements.set_display(made, world.owner_a, shown=True)  # the issuer does not choose for the learner
    endorsements.set_display(made, lea, shown=True)
    assert endorsements.public_endorsements(credential=credential) == [made]
    with pytest.raises(SelfEndorsement):
        endorsements.endorse_by_invitation(token, world.a, world.owner_a, comment="Nous aussi.",
                                           config=current_app.config)
    endorsements.close_invitation(credential, invitation.id)
    with pytest.raises(InvitationNotFound):
        endorsements.invitation_by_token(token)


def test_invitations_are_limited_per_day(world: World, credential: IssuedCredential) -> None:
    from badgehub.accounts.service import create_user

    lea = create_user("lea@example.net", name="Léa", verified=True)
    for _ in range(endorsements.MAX_INVITATIONS_PER_DAY):
        endorsements.invite(credential, lea)
    with pytest.raises(TooManyInvitations):
        endorsements.invite(credential, lea)


def test_the_territory_endorses_through_its_own_issuer(world: World, resolver: Resolver) -> None:
    assert territory_issuer_of(world.territory) is None
    issuer = ensure_territory_issuer(world.territory, world.coordinator, config=current_app.config)
    assert ensure_territory_issuer(world.territory, world.coordinator, config=current_app.config) is issuer
    assert territory_issuer_of(world.territory) is issuer
    assert acts_for(issuer, world.coordinator)
    assert not acts_for(issuer, world.owner_a)
    assert issuer in endorsing_organisations(world.coordinator)
    made = endorsements.endorse_organisation(issuer, world.coordinator, world.a, comment="Membre exemplaire.",
                                             config=current_app.config)
    document = json.loads(made.document_json)
    assert document["issuer"]["id"].endswith(f":issuers:{issuer.slug}")
    assert verify(document, resolver, utcnow()).verified


def test_the_observatory_counts_each_endorsement_made(world: World) -> None:
    from sqlalchemy import select

    from badgehub.extensions import db
    from badgehub.stats.models import StatsRecognitionUnit

    made = endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="Un atelier sérieux.",
                                            config=current_app.config)
    counted = db.session.scalars(select(StatsRecognitionUnit).where(StatsRecognitionUnit.kind == "endorsement"))
    assert [(u.unit, u.other_id, u.organisation_id, u.territory_id, u.detail) for u in counted] == [
        (str(made.id), world.b.id, world.a.id, 0, "achievement")]
    issuer = ensure_territory_issuer(world.territory, world.coordinator, config=current_app.config)
    by_territory = endorsements.endorse_organisation(issuer, world.coordinator, world.a, comment="Un acteur clé.",
                                                     config=current_app.config)
    unit = db.session.get(StatsRecognitionUnit, ("endorsement", str(by_territory.id)))
    assert unit is not None and (unit.other_id, unit.territory_id) == (0, world.territory.id)
