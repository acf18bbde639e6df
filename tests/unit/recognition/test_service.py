"""Recognition requests through the service: asked, questioned, answered, accepted (a credential carrying the
evidence, verifying in our pipeline), declined; refused to others; self-declared badges accepted at once and read
as declared; the peer-recognition badge made once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import current_app

from badgehub import events
from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements.service import archive_achievement
from badgehub.credentials.values import SELF_DECLARED_TYPE
from badgehub.db import utcnow
from badgehub.endorsements.personal_issuers import ensure_personal_issuer
from badgehub.errors import ValidationError
from badgehub.issuing.models import CredentialSource
from badgehub.recognition import badges, queries
from badgehub.recognition import service as recognition
from badgehub.recognition.errors import (
    AlreadyRequested,
    EvidenceRejected,
    NotRequestable,
    RequestNotFound,
    TooManyRequests,
    WrongStatus,
)
from badgehub.recognition.models import EvidenceKind, RequestStatus
from badgehub.recognition.service import RequestInput, Upload
from badgehub.verification.pipeline import verify
from badgehub.verification.resolver import Resolver
from tests.factories import SVG_SCRIPT, World, png

ASK = RequestInput(text="J'ai réparé vingt vélos au café réparation.",
                   links=["https://velo.example.org/photos", "", "https://velo.example.org/photos"],
                   files=[Upload("atelier.png", png())])


@pytest.fixture
def signals() -> Any:
    seen: list[dict[str, Any]] = []

    def receive(sender: Any, **values: Any) -> None:
        seen.append(values)

    events.recognition_request_changed.connect(receive)
    yield seen
    events.recognition_request_changed.disconnect(receive)


def _submit(world: World, learner: User, data: RequestInput = ASK, **kwargs: Any) -> recognition.Outcome:
    return recognition.submit(learner, world.a, data, achievement=kwargs.pop("achievement", world.repair),
                              locale="fr", settings=current_app.config, **kwargs)


def test_a_request_waits_in_the_queue_and_tells_the_reviewers(world: World, learner: User, signals: list) -> None:
    outcome = _submit(world, learner)
    request = outcome.request
    assert request.status is RequestStatus.SUBMITTED and request.title == "Réparer une crevaison"
    assert [e.kind for e in request.evidence] == [EvidenceKind.LINK, EvidenceKind.FILE]
    assert request.evidence[1].filename == "atelier.png" and request.evidence[1].sha256
    assert sorted(n.to for n in outcome.notices) == ["issuer_a@example.org", "owner_a@example.org"]
    assert {n.kind for n in outcome.notices} == {"new"}
    assert queries.queue_of(world.a) == [request] and queries.queue_of(world.b) == []
    assert signals == [{"request_id": request.id, "organisation_id": world.a.id, "status": "submitted",
                        "self_declared": False}]


def test_a_described_learning_needs_a_title_and_a_description(world: World, learner: User) -> None:
    with pytest.raises(ValidationError) as caught:
        recognition.submit(learner, world.a, RequestInput(text="", links=["ftp://x"]), settings=current_app.config)
    assert set(caught.value.details["fields"]) == {"title", "text", "links"}
    made = recognition.submit(learner, world.a, RequestInput(text="J'ai tenu la caisse.", title="Bénévolat caisse"),
                              settings=current_app.config).request
    assert made.achievement_id is None and made.title == "Bénévolat caisse"


def test_hostile_files_are_refused_with_their_reason(world: World, learner: User) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        _submit(world, learner, RequestInput(text="Voir le dessin.", files=[Upload("x.svg", SVG_SCRIPT)]))
    assert caught.value.reason == "svg_forbidden_element"
    with pytest.raises(EvidenceRejected) as caught:
        _submit(world, learner, RequestInput(text="Beaucoup.", files=[Upload(f"{i}.png", png()) for i in range(9)]))
    assert caught.value.reason == "too_many_files"


def test_one_open_request_per_badge_and_a_cap_per_person(world: World, learner: User,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _submit(world, learner)
    with pytest.raises(AlreadyRequested):
        _submit(world, learner)
    monkeypatch.setattr(recognition, "MAX_OPEN_PER_PERSON", 2)
    _submit(world, learner, achievement=world.workshop)
    with pytest.raises(TooManyRequests):
        recognition.submit(learner, world.a, RequestInput(text="Encore.", title="Autre"), settings=current_app.config)


def test_an_archived_badge_or_another_organisation_s_cannot_be_asked(world: World, learner: User) -> None:
    with pytest.raises(NotRequestable):
        _submit(world, learner, achievement=world.reading)
    archive_achievement(world.workshop, world.owner_a)
    with pytest.raises(NotRequestable):
        _submit(world, learner, achievement=world.workshop)


def test_a_person_s_own_issuer_takes_no_requests(world: World, learner: User) -> None:
    # The web page of such an issuer answers 404; the rule lives here so that no other way in can skip it.
    own = ensure_personal_issuer(world.owner_a, display_name="Camille", config=current_app.config)
    with pytest.raises(NotRequestable, match="does not take requests"):
        recognition.submit(learner, own, RequestInput(title="Vingt vélos réparés", text="Au café réparation."),
                           locale="fr", settings=current_app.config)


def test_an_unconfirmed_address_cannot_ask(world: World) -> None:
    unconfirmed = create_user("new@example.net", name="Nouveau", verified=False)
    with pytest.raises(ValidationError):
        _submit(world, unconfirmed)


def test_accepting_awards_the_badge_with_the_evidence(world: World, learner: User, resolver: Resolver,
                                                     signals: list) -> None:
    request = _submit(world, learner).request
    outcome = recognition.accept(request, world.issuer_a, settings=current_app.config)
    credential = outcome.credential
    assert credential is not None and request.status is RequestStatus.ACCEPTED
    assert credential.source is CredentialSource.REQUEST and credential.recipient_email == "lea@example.net"
    document = json.loads(credential.document_json)
    [evidence] = document["evidence"]
    assert evidence["id"] == "https://velo.example.org/photos"
    assert "J'ai réparé vingt vélos" in evidence["narrative"] and request.evidence[1].sha256 in evidence["narrative"]
    assert "Atelier Vélo" in evidence["narrative"] and "demande de reconnaissance" in evidence["narrative"]
    assert verify(json.loads(credential.document_json), resolver, utcnow()).verified
    assert [s["status"] for s in signals] == ["submitted", "accepted"]
    with pytest.raises(WrongStatus):
        recognition.decline(request, world.owner_a, "Trop tard.", settings=current_app.config)


def test_a_described_learning_is_accepted_with_a_badge_the_reviewer_chooses(world: World, learner: User) -> None:
    request = recognition.submit(learner, world.a, RequestInput(text="J'ai animé.", title="Animation"),
                                 settings=current_app.config).request
    with pytest.raises(ValidationError):
        recognition.accept(request, world.owner_a, settings=current_app.config)
    with pytest.raises(ValidationError):
        recognition.accept(request, world.owner_a, achievement=world.reading, settings=current_app.config)
    outcome = recognition.accept(request, world.owner_a, achievement=world.workshop, settings=current_app.config)
    assert outcome.credential is not None and outcome.credential.achievement_id == world.workshop.id


def test_asking_for_more_then_answering_puts_it_back_in_the_queue(world: World, learner: User,
                                                                  signals: list) -> None:
    request = _submit(world, learner).request
    asked = recognition.ask_more(request, world.issuer_a, "Qui vous a vu faire ?", settings=current_app.config)
    assert request.status is RequestStatus.MORE_ASKED
    [notice] = asked.notices
    assert (notice.kind, notice.to, notice.locale, notice.text) == ("more_asked", "lea@example.net", "fr",
                                                                     "Qui vous a vu faire ?")
    with pytest.raises(WrongStatus):
        recognition.ask_more(request, world.issuer_a, "Encore ?", settings=current_app.config)
    with pytest.raises(ValidationError):
        recognition.answer(request, learner, RequestInput(text=""), settings=current_app.config)
    answered = recognition.answer(request, learner, RequestInput(text="Marc, le bénévole du samedi.",
                                                                 files=[Upload("marc.png", png())]),
                                  settings=current_app.config)
    assert request.status is RequestStatus.SUBMITTED and len(request.evidence) == 3
    assert {n.kind for n in answered.notices} == {"answered"}
    assert [s["status"] for s in signals] == ["submitted", "more_asked", "submitted"]


def test_declining_needs_a_reason_told_to_the_learner(world: World, learner: User) -> None:
    request = _submit(world, learner).request
    with pytest.raises(ValidationError):
        recognition.decline(request, world.owner_a, "  ", settings=current_app.config)
    outcome = recognition.decline(request, world.owner_a, "Il manque une séance.", settings=current_app.config)
    assert request.status is RequestStatus.DECLINED
    assert [(n.kind, n.text) for n in outcome.notices] == [("declined", "Il manque une séance.")]


def test_others_cannot_see_or_decide(world: World, learner: User) -> None:
    request = _submit(world, learner).request
    for outsider in (world.owner_b, world.viewer_a):
        with pytest.raises(RequestNotFound):
            recognition.accept(request, outsider, settings=current_app.config)
    with pytest.raises(RequestNotFound):
        queries.request_for_reviewer(world.a, world.owner_b, request.public_id)
    assert queries.request_for_reviewer(world.a, world.viewer_a, request.public_id) is request
    with pytest.raises(RequestNotFound):
        queries.request_for_learner(world.owner_b, request.public_id)
    with pytest.raises(RequestNotFound):
        queries.request_for_reviewer(world.b, world.owner_b, request.public_id)
    with pytest.raises(RequestNotFound):
        recognition.withdraw(request, world.owner_b)
    file = request.evidence[1]
    assert queries.evidence_for(learner, request.public_id, file.public_id) is file
    assert queries.evidence_for(world.issuer_a, request.public_id, file.public_id) is file


def test_a_self_declared_badge_is_accepted_at_once_and_says_so(world: World, learner: User, resolver: Resolver,
                                                              signals: list) -> None:
    badges.set_self_declared(world.workshop, world.owner_a, True)
    version = world.workshop.current_version
    assert version is not None and version.achievement_type == SELF_DECLARED_TYPE
    assert version.criteria_md.startswith("**Auto-déclaré**")
    outcome = _submit(world, learner, achievement=world.workshop)
    assert outcome.request.status is RequestStatus.ACCEPTED and outcome.request.self_declared
    assert outcome.notices == [] and outcome.credential is not None
    document = json.loads(outcome.credential.document_json)
    assert document["credentialSubject"]["achievement"]["achievementType"] == SELF_DECLARED_TYPE
    assert "sans évaluation" in document["evidence"][0]["narrative"]
    assert verify(document, resolver, utcnow()).verified
    assert [(s["status"], s["self_declared"]) for s in signals] == [("submitted", True), ("accepted", True)]
    badges.set_self_declared(world.workshop, world.owner_a, False)
    assert world.workshop.current_version.achievement_type == "Badge"
    assert not world.workshop.current_version.criteria_md.startswith("**Auto")


def test_the_peer_badge_is_made_once(world: World) -> None:
    made, created = badges.create_peer_badge(world.b, world.owner_b, "fr")
    assert created and made.current_version is not None
    assert made.current_version.name == "Reconnu par ses pairs" and badges.PEER_TAG in made.current_version.tags
    again, created_again = badges.create_peer_badge(world.b, world.owner_b, "en")
    assert again is made and not created_again
    english, _ = badges.create_peer_badge(world.a, world.owner_a, "en")
    assert english.current_version is not None and english.current_version.name == "Recognised by peers"


def test_erasing_the_learner_s_account_removes_their_requests_and_files(world: World, learner: User) -> None:
    from badgehub.extensions import db
    from badgehub.recognition.models import RecognitionRequest, RequestEvidence
    from badgehub.wallet.erasure import erase_account

    request = _submit(world, learner).request
    recognition.ask_more(request, world.owner_a, "Qui ?", settings=current_app.config)
    erase_account(learner, actor_id=None, config=current_app.config)
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(RecognitionRequest.id))) == 0
    assert db.session.scalar(db.select(db.func.count(RequestEvidence.id))) == 0
