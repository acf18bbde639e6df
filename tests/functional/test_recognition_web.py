"""Recognition requests through the pages: a learner asks for a badge with a link and a file, the organisation's
reviewers are told in their language, ask for more, the learner answers, the organisation accepts and the badge
reaches the wallet, or declines with a reason; others' requests and files are 404; hostile files, forged forms and
floods are refused; a self-declared badge is received at once and its page says "declared, not assessed"."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
from flask.testing import FlaskClient

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.achievements.service import archive_achievement, public_achievement
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import active_key, declare_compromised, rotate_keys
from badgehub.organisations.service import get_organisation_by_slug
from badgehub.outbox.models import OutboxMessage
from badgehub.recognition import badges
from badgehub.recognition.models import RecognitionRequest, RequestStatus
from badgehub.territory.service import decide_membership, memberships_of
from tests.conftest import TEST_KEK, csrf_token_from, sign_in
from tests.factories import SVG_SCRIPT, World, build_world, png


def _shared_world() -> dict[str, Any]:
    """The world these tests share: a ``snapshot`` build, made once per test process."""
    built: World = build_world()
    ids = built.ids()
    lea = create_user("lea@example.net", name="Léa", verified=True)
    lea.locale = "fr"
    sam = create_user("sam@example.net", name="Sam", verified=True)
    sam.locale = "en"
    built.owner_a.locale = "fr"
    built.issuer_a.locale = "en"
    ids.update(lea=lea.get_id(), sam=sam.get_id(), coordinator=built.coordinator.get_id(),
               territory=built.territory.slug)
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(_shared_world)


def _as(client: FlaskClient, who: str) -> FlaskClient:
    fresh = client.application.test_client()
    sign_in(fresh, who)
    return fresh


def _ask(client: FlaskClient, badge: str, *, text: str = "J'ai réparé vingt vélos au café réparation.",
         files: list[tuple[bytes, str]] | None = None, links: str = "https://velo.example.org/photos",
         **kwargs: Any) -> Any:
    page = f"/achievements/{badge}/request"
    token = csrf_token_from(client.get(page, **kwargs).get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "text": text, "links": links,
                            "files": [(BytesIO(content), name) for content, name in (files or [])]}
    return client.post(page, data=data, content_type="multipart/form-data", **kwargs)


def _request(query: Any) -> RecognitionRequest:
    def read() -> RecognitionRequest:
        found = db.session.scalars(db.select(RecognitionRequest).order_by(RecognitionRequest.id.desc())).first()
        assert found is not None
        _ = (found.evidence, found.issued_credential)
        return found
    return query(read)


def _post(client: FlaskClient, page: str, to: str, data: dict[str, Any]) -> Any:
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(to, data={"csrf_token": token, **data})


def _texts(messages: list[Any]) -> dict[str, str]:
    return {str(m["To"]): m.get_body(preferencelist=("plain",)).get_content() for m in messages}


def test_a_learner_asks_with_a_file_and_the_organisation_accepts(client: FlaskClient, world: dict[str, Any],
                                                                 outbox: Any, query: Any) -> None:
    assert f"/achievements/{world['repair']}/request" in client.get(f"/achievements/{world['repair']}").get_data(
        as_text=True)
    learner = _as(client, world["lea"])
    answer = _ask(learner, world["repair"], files=[(png(), "atelier.png")])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    made = _request(query)
    assert made.status is RequestStatus.SUBMITTED and [e.kind.value for e in made.evidence] == ["link", "file"]
    mails = {str(m["To"]): m for m in outbox()}
    assert set(mails) == {"owner_a@example.org", "issuer_a@example.org"}
    assert "Nouvelle demande de reconnaissance" in str(mails["owner_a@example.org"]["Subject"])
    assert "New recognition request" in str(mails["issuer_a@example.org"]["Subject"])
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    assert review in _texts(outbox())["owner_a@example.org"]

    reviewer = _as(client, world["owner_a"])
    queue = reviewer.get(f"/organisations/{world['a']}/requests").get_data(as_text=True)
    assert made.public_id in queue and "Réparer une crevaison" in queue
    page = reviewer.get(review).get_data(as_text=True)
    file_link = re.search(rf'/recognition/{made.public_id}/evidence/[a-z2-7]+', page).group(0)
    download = reviewer.get(file_link)
    assert download.status_code == 200 and download.mimetype == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in download.headers[
        "Content-Security-Policy"]
    before = len(outbox())
    assert _post(reviewer, review, f"{review}/accept", {}).status_code == 302
    accepted = _request(query)
    assert accepted.status is RequestStatus.ACCEPTED and accepted.issued_credential is not None
    [award] = outbox()[before:]
    assert str(award["To"]) == "lea@example.net"
    wallet = learner.get("/wallet").get_data(as_text=True)
    assert accepted.issued_credential.public_id in wallet
    document = learner.get(f"/c/{accepted.issued_credential.public_id}.json")
    assert "atelier.png" in document.get_data(as_text=True)


def test_asking_for_more_then_declining_writes_to_the_learner_in_their_language(
        client: FlaskClient, world: dict[str, Any], outbox: Any, query: Any) -> None:
    learner = _as(client, world["sam"])
    assert _ask(learner, world["repair"], links="").status_code == 302
    made = _request(query)
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    reviewer = _as(client, world["issuer_a"])
    before = len(outbox())
    assert _post(reviewer, review, f"{review}/ask", {"question": "Who saw you repair them?"}).status_code == 302
    [question] = outbox()[before:]
    assert str(question["To"]) == "sam@example.net" and "asks for more" in str(question["Subject"])
    assert "Who saw you repair them?" in _texts([question])["sam@example.net"]
    detail = f"/recognition/{made.public_id}"
    answer = learner.post(detail, data={"csrf_token": csrf_token_from(learner.get(detail).get_data(as_text=True)),
                                        "text": "Marc, the Saturday volunteer.",
                                        "files": [(BytesIO(png()), "marc.png")]},
                          content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert _request(query).status is RequestStatus.SUBMITTED
    answered = {str(m["To"]): str(m["Subject"]) for m in outbox()[before + 1:]}
    assert "Un apprenant a répondu" in answered["owner_a@example.org"]
    before = len(outbox())
    assert _post(reviewer, review, f"{review}/decline", {"reason": ""}).status_code == 400
    assert _post(reviewer, review, f"{review}/decline", {"reason": "One session is missing."}).status_code == 302
    [refusal] = outbox()[before:]
    assert "did not accept it" in _texts([refusal])["sam@example.net"]
    assert _request(query).status is RequestStatus.DECLINED


def test_a_french_learner_is_asked_in_french(client: FlaskClient, world: dict[str, Any], outbox: Any,
                                            query: Any) -> None:
    assert _ask(_as(client, world["lea"]), world["repair"]).status_code == 302
    made = _request(query)
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    before = len(outbox())
    assert _post(_as(client, world["issuer_a"]), review, f"{review}/ask", {"question": "Qui ?"}).status_code == 302
    [question] = outbox()[before:]
    assert "demande plus de précisions" in str(question["Subject"])
    assert "Répondez" in _texts([question])["lea@example.net"]


def test_others_requests_and_files_are_404(client: FlaskClient, world: dict[str, Any], query: Any) -> None:
    learner = _as(client, world["lea"])
    assert _ask(learner, world["repair"], files=[(png(), "atelier.png")]).status_code == 302
    made = _request(query)
    file_id = next(e.public_id for e in made.evidence if e.kind.value == "file")
    evidence = f"/recognition/{made.public_id}/evidence/{file_id}"
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    assert learner.get(evidence).status_code == 200
    for outsider in ("owner_b", "sam"):
        other = _as(client, world[outsider])
        assert other.get(evidence).status_code == 404, outsider
        assert other.get(review).status_code == 404, outsider
        assert other.get(f"/recognition/{made.public_id}").status_code == 404, outsider
        assert other.get(f"/organisations/{world['a']}/requests").status_code == 404, outsider
    stranger = _as(client, world["owner_b"])
    assert stranger.get(f"/organisations/{world['b']}/requests/{made.public_id}").status_code == 404
    token = csrf_token_from(stranger.get(f"/organisations/{world['b']}/requests").get_data(as_text=True))
    assert stranger.post(f"{review}/accept", data={"csrf_token": token}).status_code == 404
    viewer = _as(client, world["viewer_a"])  # staff who read everything and change nothing
    assert viewer.get(evidence).status_code == 200 and viewer.get(review).status_code == 200
    assert "Accept and award the badge" not in viewer.get(review).get_data(as_text=True)
    token = csrf_token_from(viewer.get(f"/organisations/{world['a']}/requests").get_data(as_text=True))
    assert viewer.post(f"{review}/accept", data={"csrf_token": token}).status_code == 404
    assert client.application.test_client().get(evidence).status_code == 302  # to the sign-in page
    assert _request(query).status is RequestStatus.SUBMITTED


@pytest.mark.parametrize(("name", "content", "words"), [
    ("dessin.svg", SVG_SCRIPT, "not allowed"),
    ("photo.png", png() + b"PK\x05\x06" + b"\0" * 18, "another kind of file"),
    ("notes.docx", b"PK\x03\x04 not a pdf", "not a PNG, JPEG, SVG or PDF"),
    ("huge.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "larger than 5 MB"),
])
def test_hostile_files_are_refused_with_a_clear_message(client: FlaskClient, world: dict[str, Any], query: Any,
                                                        name: str, content: bytes, words: str) -> None:
    answer = _ask(_as(client, world["sam"]), world["repair"], files=[(content, name)])
    assert answer.status_code == 400
    assert words in answer.get_data(as_text=True)
    assert query(lambda: db.session.scalar(db.select(db.func.count(RecognitionRequest.id)))) == 0


def test_a_forged_form_changes_nothing(client: FlaskClient, world: dict[str, Any], query: Any) -> None:
    learner = _as(client, world["lea"])
    answer = learner.post(f"/achievements/{world['repair']}/request", data={"text": "Sans jeton."})
    assert answer.status_code == 400
    assert query(lambda: db.session.scalar(db.select(db.func.count(RecognitionRequest.id)))) == 0


def test_sending_is_rate_limited_per_person(client: FlaskClient, world: dict[str, Any]) -> None:
    client.application.config["RATELIMIT_RECOGNITION"] = "2 per hour"
    learner = _as(client, world["sam"])
    assert _ask(learner, world["repair"], text="").status_code == 400
    assert _ask(learner, world["workshop"]).status_code == 302
    answer = _ask(learner, world["reading"])
    assert answer.status_code == 429
    assert "many requests in a short time" in answer.get_data(as_text=True)


def test_sending_is_rate_limited_per_organisation(client: FlaskClient, world: dict[str, Any]) -> None:
    client.application.config["RATELIMIT_RECOGNITION_ORGANISATION"] = "1 per hour"
    assert _ask(_as(client, world["sam"]), world["repair"]).status_code == 302
    answer = _ask(_as(client, world["lea"]), world["workshop"], headers={"Accept-Language": "fr"})
    assert answer.status_code == 429
    assert "Atelier Vélo" in answer.get_data(as_text=True)


def test_a_self_declared_badge_is_received_at_once_and_reads_as_declared(
        client: FlaskClient, world: dict[str, Any], query: Any, outbox: Any) -> None:
    owner = _as(client, world["owner_a"])
    queue = f"/organisations/{world['a']}/requests"
    assert _post(owner, queue, f"/organisations/{world['a']}/recognition/self-declared/{world['workshop']}",
                 {"declared": "1"}).status_code == 302
    assert "Declare this badge" in client.get(f"/achievements/{world['workshop']}").get_data(as_text=True)
    before = len(outbox())
    assert _ask(_as(client, world["sam"]), world["workshop"]).status_code == 302
    made = _request(query)
    assert made.status is RequestStatus.ACCEPTED and made.self_declared
    [award] = outbox()[before:]
    assert str(award["To"]) == "sam@example.net"
    page = client.get(f"/c/{made.issued_credential.public_id}").get_data(as_text=True)
    assert "Declared, not assessed." in page
    french = client.get(f"/c/{made.issued_credential.public_id}", headers={"Accept-Language": "fr"})
    assert "Déclaré, non évalué." in french.get_data(as_text=True)
    verdict = client.post("/api/v1/verify", json={"credential": client.get(
        f"/c/{made.issued_credential.public_id}.json").get_json()})
    assert verdict.get_json()["self_declared"] is True


def test_the_peer_badge_is_made_in_one_click(client: FlaskClient, world: dict[str, Any], query: Any) -> None:
    owner = _as(client, world["owner_b"])
    queue = f"/organisations/{world['b']}/requests"
    answer = _post(owner, queue, f"/organisations/{world['b']}/recognition/peer-badge", {})
    assert answer.status_code == 302
    page = owner.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Recognised by peers" in page and "Request this badge" in page


def test_a_coordinator_makes_the_territory_s_peer_badge(client: FlaskClient, world: dict[str, Any]) -> None:
    coordinator = _as(client, world["coordinator"])
    page = f"/coordinate/{world['territory']}"
    answer = _post(coordinator, page, f"/coordinate/{world['territory']}/peer-badge", {})
    assert answer.status_code == 302
    assert "Reconnu par ses pairs" in coordinator.get(answer.headers["Location"], headers={
        "Accept-Language": "fr"}).get_data(as_text=True) or "Recognised by peers" in coordinator.get(
        answer.headers["Location"]).get_data(as_text=True)
    assert _post(_as(client, world["owner_b"]), f"/organisations/{world['b']}/requests",
                 f"/coordinate/{world['territory']}/peer-badge", {}).status_code in (403, 404)
    assert badges.PEER_TAG


def test_a_described_learning_is_awarded_the_badge_the_reviewer_chooses(
        client: FlaskClient, world: dict[str, Any], query: Any) -> None:
    learner = _as(client, world["lea"])
    assert f"/issuers/{world['a']}/request" in client.get(f"/issuers/{world['a']}").get_data(as_text=True)
    page = f"/issuers/{world['a']}/request"
    answer = learner.post(page, data={"csrf_token": csrf_token_from(learner.get(page).get_data(as_text=True)),
                                      "title": "Caisse du café réparation", "text": "Un an de caisse."},
                          content_type="multipart/form-data")
    assert answer.status_code == 302
    made = _request(query)
    assert made.achievement_id is None
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    reviewer = _as(client, world["owner_a"])
    assert _post(reviewer, review, f"{review}/accept", {"achievement": world["reading"]}).status_code == 400
    assert _post(reviewer, review, f"{review}/accept", {"achievement": world["workshop"]}).status_code == 302
    assert _request(query).issued_credential is not None


def test_a_learner_adds_evidence_while_the_request_waits(client: FlaskClient, world: dict[str, Any], outbox: Any,
                                                         query: Any) -> None:
    learner = _as(client, world["lea"])
    assert _ask(learner, world["repair"], links="").status_code == 302
    made = _request(query)
    detail = f"/recognition/{made.public_id}"
    before = len(outbox())
    answer = learner.post(detail, data={"csrf_token": csrf_token_from(learner.get(detail).get_data(as_text=True)),
                                        "links": "https://velo.example.org/video"},
                          content_type="multipart/form-data")
    assert answer.status_code == 302
    after = _request(query)
    assert after.status is RequestStatus.SUBMITTED and [e.url for e in after.evidence] == [
        "https://velo.example.org/video"]
    assert len(outbox()) == before


def test_coordinators_reach_the_territory_s_queue(client: FlaskClient, world: dict[str, Any]) -> None:
    coordinator = _as(client, world["coordinator"])
    queue = f"/coordinate/{world['territory']}/requests"
    assert coordinator.get(f"/coordinate/{world['territory']}").get_data(as_text=True).count(queue) == 1
    assert coordinator.get(queue).headers["Location"].endswith(f"/coordinate/{world['territory']}#peer-title")
    assert _post(coordinator, f"/coordinate/{world['territory']}", f"/coordinate/{world['territory']}/peer-badge",
                 {}).status_code == 302
    issuer_queue = coordinator.get(queue).headers["Location"]
    assert coordinator.get(issuer_queue).status_code == 200
    assert _as(client, world["owner_a"]).get(queue).status_code in (403, 404)


def test_a_post_larger_than_the_server_takes_is_refused_with_a_message(client: FlaskClient,
                                                                      world: dict[str, Any]) -> None:
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    half = b"%PDF-1.4\n" + b"0" * (limit // 2)
    answer = _ask(_as(client, world["sam"]), world["repair"], files=[(half, "a.pdf"), (half, "b.pdf")])
    assert answer.status_code == 413
    assert "too large" in answer.get_data(as_text=True)


def _compromise_key(slug: str) -> None:
    key = active_key(get_organisation_by_slug(slug), KeyAlgorithm.ED25519)
    declare_compromised(key, utcnow(), None, "Laptop stolen")


def test_a_self_declared_badge_waits_in_the_queue_while_the_organisation_cannot_sign(
        client: FlaskClient, world: dict[str, Any], query: Any, outbox: Any, setup: Any) -> None:
    owner = _as(client, world["owner_a"])
    queue = f"/organisations/{world['a']}/requests"
    assert _post(owner, queue, f"/organisations/{world['a']}/recognition/self-declared/{world['workshop']}",
                 {"declared": "1"}).status_code == 302
    setup(lambda: _compromise_key(world["a"]))
    before = len(outbox())
    answer = _ask(_as(client, world["sam"]), world["workshop"], files=[(png(), "atelier.png")])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    held = _request(query)
    assert held.status is RequestStatus.SUBMITTED and held.self_declared and held.issued_credential is None
    assert [e.kind.value for e in held.evidence] == ["link", "file"]
    assert {str(m["To"]) for m in outbox()[before:]} == {"owner_a@example.org", "issuer_a@example.org"}

    review = f"/organisations/{world['a']}/requests/{held.public_id}"
    refused = _post(owner, review, f"{review}/accept", {})
    assert refused.status_code == 409 and "renouvelez" in refused.get_data(as_text=True)
    assert _request(query).status is RequestStatus.SUBMITTED
    setup(lambda: rotate_keys(get_organisation_by_slug(world["a"]), bytes.fromhex(TEST_KEK), None,
                              algorithms=[KeyAlgorithm.ED25519]))
    assert _post(owner, review, f"{review}/accept", {}).status_code == 302
    assert _request(query).issued_credential is not None


def test_accepting_a_badge_archived_meanwhile_says_so_and_keeps_the_request(
        client: FlaskClient, world: dict[str, Any], query: Any, setup: Any) -> None:
    assert _ask(_as(client, world["lea"]), world["repair"]).status_code == 302
    made = _request(query)
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    reviewer = _as(client, world["issuer_a"])
    reviewer.get(review)

    def archive() -> None:
        owner = db.session.scalars(db.select(User).where(User.email == "owner_a@example.org")).one()
        archive_achievement(public_achievement(world["repair"]), owner)

    setup(archive)
    refused = _post(reviewer, review, f"{review}/accept", {})
    assert refused.status_code == 409 and "archived" in refused.get_data(as_text=True)
    assert _request(query).status is RequestStatus.SUBMITTED


def test_a_link_s_address_as_a_download_is_a_404_page_that_says_so(client: FlaskClient, world: dict[str, Any],
                                                                   query: Any) -> None:
    learner = _as(client, world["lea"])
    assert _ask(learner, world["repair"]).status_code == 302
    made = _request(query)
    link_id = next(e.public_id for e in made.evidence if e.kind.value == "link")
    answer = learner.get(f"/recognition/{made.public_id}/evidence/{link_id}")
    assert answer.status_code == 404 and "Ce fichier ou ce lien n&#39;existe pas" in answer.get_data(as_text=True)


def test_a_decision_stands_when_the_mail_cannot_leave(client: FlaskClient, world: dict[str, Any], query: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert _ask(_as(client, world["lea"]), world["repair"]).status_code == 302
    made = _request(query)
    review = f"/organisations/{world['a']}/requests/{made.public_id}"
    reviewer = _as(client, world["owner_a"])
    page = reviewer.get(review)
    monkeypatch.setitem(client.application.config, "OUTBOX_DIR", "/proc/no-outbox-here")
    token = csrf_token_from(page.get_data(as_text=True))
    assert reviewer.post(f"{review}/decline", data={"csrf_token": token, "reason": "Pas de preuve."}
                         ).status_code == 302
    assert _request(query).status is RequestStatus.DECLINED
    waiting = query(lambda: [(m.ref, m.sent_at, m.attempts) for m in db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.ref == f"recognition:{made.public_id}"))])
    assert (f"recognition:{made.public_id}", None, 1) in waiting  # queued for the background sender


def test_a_suspended_organisation_says_it_takes_no_requests_before_the_form(
        client: FlaskClient, world: dict[str, Any], query: Any, setup: Any) -> None:
    learner = _as(client, world["sam"])
    page = f"/issuers/{world['a']}/request"
    token = csrf_token_from(learner.get(page).get_data(as_text=True))

    def suspend() -> None:
        coordinator = db.session.scalars(db.select(User).where(User.email == "coord@example.org")).one()
        membership = memberships_of(get_organisation_by_slug(world["a"]))[0]
        decide_membership(membership, "suspend", coordinator, "Badges sans preuves")

    setup(suspend)
    shown = learner.get(page).get_data(as_text=True)
    assert "does not take requests just now: it is suspended" in shown and 'name="text"' not in shown
    refused = learner.post(page, data={"csrf_token": token, "title": "Caisse", "text": "Un an de caisse."},
                           content_type="multipart/form-data")
    assert refused.status_code == 409
    assert "Atelier Vélo does not take requests just now" in refused.get_data(as_text=True)
    assert query(lambda: db.session.scalar(db.select(db.func.count(RecognitionRequest.id)))) == 0


def test_marking_a_badge_archived_meanwhile_is_a_404_about_the_badge_not_a_request(
        client: FlaskClient, world: dict[str, Any], setup: Any) -> None:
    owner = _as(client, world["owner_a"])
    queue = f"/organisations/{world['a']}/requests"
    token = csrf_token_from(owner.get(queue).get_data(as_text=True))
    setup(lambda: archive_achievement(public_achievement(world["workshop"]), db.session.scalars(
        db.select(User).where(User.email == "owner_a@example.org")).one()))
    answer = owner.post(f"/organisations/{world['a']}/recognition/self-declared/{world['workshop']}",
                        data={"csrf_token": token, "declared": "1"})
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert "Nous n&#39;avons pas trouvé ce que vous cherchez." in page and "Cette demande" not in page


def test_the_decided_list_pages_through_every_request_most_recent_first(
        client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from badgehub.web import recognition_review

    monkeypatch.setattr(recognition_review, "DECIDED_PAGE", 1)
    owner = _as(client, world["owner_a"])
    for learner, badge in (("lea", "repair"), ("sam", "workshop")):
        assert _ask(_as(client, world[learner]), world[badge]).status_code == 302
    queue = f"/organisations/{world['a']}/requests"
    for link in re.findall(rf'/organisations/{world["a"]}/requests/[a-z2-7]{{12}}',
                           owner.get(queue).get_data(as_text=True)):
        assert _post(owner, link, f"{link}/decline", {"reason": "Non."}).status_code == 302
    link = rf'/organisations/{world["a"]}/requests/[a-z2-7]{{12}}'
    first = owner.get(f"{queue}?view=decided").get_data(as_text=True)  # the owner reads French
    second = owner.get(f"{queue}?view=decided&page=2").get_data(as_text=True)
    assert len(set(re.findall(link, first))) == 1 and len(set(re.findall(link, second))) == 1
    assert set(re.findall(link, first)) != set(re.findall(link, second))
    assert "Page 1 sur 2" in first and "view=decided&amp;page=2" in first and 'rel="prev"' in second
    # A page past the end, or not a number, shows a page of the list rather than an error.
    for page in ("99", "x", "0"):
        assert owner.get(f"{queue}?view=decided&page={page}").status_code == 200
