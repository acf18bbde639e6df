"""One verdict per stored credential (badgehub.issuing.live): computed once, seen changed by the very next view of
any process, and never a write during a GET.

"Another process" is a second app built by ``create_app`` on the same database: its own memo of pure checks and
its own verdict cache, as a second gunicorn worker would have. With ``BADGEHUB_TEST_REDIS_URL`` the two also
share verdicts through Redis.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event, select

from badgehub import create_app
from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import live
from badgehub.issuing import service as issuing
from badgehub.issuing.status_lists import refresh_status_lists
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.service import active_key, declare_compromised, rotate_keys
from badgehub.wallet.demo import IMPORTED_BADGE
from badgehub.wallet.models import ImportedCredential, WalletShare
from badgehub.web import credential_page
from tests.conftest import TEST_KEK, base_test_config, csrf_token_from, sign_in, token_of
from tests.functional.test_credential_page import coordinator_decides, verdict_title
from tests.functional.test_wallet import LEA, award, build_wallet_world, post

REDIS_URL = os.environ.get("BADGEHUB_TEST_REDIS_URL")
WRITES = ("INSERT", "UPDATE", "DELETE")

pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def world(setup: Any) -> dict[str, Any]:
    return setup(build_wallet_world)


def _second_app(app: Flask, database_url: str, path: Path, **overrides: Any) -> Iterator[Flask]:
    with app.app_context():
        connection = db.engines[None]
    other = create_app({**base_test_config(database_url, path), **overrides})
    with other.app_context():
        engine = db.engines[None]
        db.engines[None] = connection  # type: ignore[assignment]
    try:
        yield other
    finally:
        with other.app_context():
            db.engines[None] = engine
            engine.dispose()


@pytest.fixture
def other_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another worker on the same database (sees what this test's transaction holds)."""
    yield from _second_app(app, database_url, tmp_path / "other")


@pytest.fixture
def other_setup(other_app: Flask) -> Callable[[Callable[[], Any]], Any]:
    """``setup`` through the other worker: a change made by another process."""

    def run(build: Callable[[], Any]) -> Any:
        with other_app.test_request_context():
            result = build()
            db.session.commit()
            return result

    return run


@pytest.fixture
def pipeline_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every run of the verification pipeline for a stored credential, by public id."""
    runs: list[str] = []
    compute = live._compute

    def counting(app: Any, credential: Any, *args: Any) -> Any:
        runs.append(credential.public_id)
        return compute(app, credential, *args)

    monkeypatch.setattr(live, "_compute", counting)
    return runs


def title_of(client: FlaskClient, public_id: str) -> str:
    response = client.get(f"/c/{public_id}")
    assert response.status_code == 200
    return verdict_title(response.get_data(as_text=True))


def test_a_verdict_is_computed_once_and_then_read(client: FlaskClient, setup: Any, world: Any,
                                                   pipeline_runs: list[str]) -> None:
    public_id = award(setup, world, LEA)
    assert [title_of(client, public_id) for _ in range(3)] == ["Valid"] * 3
    assert pipeline_runs == [public_id]


def test_a_revocation_is_seen_by_the_next_view_of_another_process(
        client: FlaskClient, other_app: Flask, other_setup: Any, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    assert title_of(client, public_id) == title_of(other_app.test_client(), public_id) == "Valid"
    other_setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                                  config=current_app.config))
    assert title_of(client, public_id) == "Revoked"


def test_a_key_compromise_is_seen_by_the_next_view_of_another_process(
        client: FlaskClient, other_setup: Any, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    assert title_of(client, public_id) == "Valid"

    def compromise() -> None:
        credential = issuing.get_credential(public_id)
        key = active_key(credential.organisation, KeyAlgorithm.ED25519)
        declare_compromised(key, credential.issued_at - dt.timedelta(minutes=1), None, "Laptop stolen")
        rotate_keys(credential.organisation, bytes.fromhex(TEST_KEK), None, algorithms=[KeyAlgorithm.ED25519])
        refresh_status_lists(organisation=credential.organisation, config=current_app.config)

    other_setup(compromise)
    assert title_of(client, public_id) == "Not genuine"


def test_a_suspension_and_a_reinstatement_are_seen_by_the_next_view_of_another_process(
        client: FlaskClient, other_setup: Any, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    assert title_of(client, public_id) == "Valid"
    coordinator_decides(other_setup, world["a"], "suspend", "Badges sans preuves")
    assert title_of(client, public_id) == "Issuer suspended"
    coordinator_decides(other_setup, world["a"], "reinstate")
    assert title_of(client, public_id) == "Valid"


def test_an_expiry_is_seen_by_the_next_view_after_it(client: FlaskClient, other_app: Flask, setup: Any,
                                                      world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workshop badge is valid for a limited time: issued long enough ago, it expires a minute from now.
    days = setup(lambda: public_achievement(world["workshop"]).current_version.valid_for_days)
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=days) + dt.timedelta(minutes=1)
    public_id = award(setup, world, LEA, badge="workshop", now=issued)
    assert title_of(client, public_id) == title_of(other_app.test_client(), public_id) == "Valid"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    monkeypatch.setattr(live, "utcnow", lambda: later)
    assert title_of(client, public_id) == title_of(other_app.test_client(), public_id) == "Expired"


def test_the_key_changes_with_each_dependency_and_only_then(setup: Any, world: Any, app: Flask) -> None:
    public_id = award(setup, world, LEA)

    def key(now: dt.datetime | None = None) -> str:
        with app.test_request_context():
            credential = issuing.get_credential(public_id, with_context=True)
            return live.verify_issued(app, credential, now=now).key

    first = key()
    assert key() == first and key(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == first
    # The signed list expires in a day: the next instant a date check flips.
    assert key(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)) != first
    setup(lambda: issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                            config=current_app.config))
    assert key() != first
    with app.test_request_context():
        credential = issuing.get_credential(public_id, with_context=True)
        keys, memberships = live.dependencies(credential.organisation_id)
        now = dt.datetime.now(dt.UTC)
        # A verdict shared in Redis outlives a restart with another BASE_URL or issuer id style.
        assert len({live.verdict_key(credential, keys, memberships, now, config) for config in (
            {"BASE_URL": "https://a.example"}, {"BASE_URL": "https://b.example"},
            {"BASE_URL": "https://a.example", "ISSUER_ID_STYLE": "did:key"})}) == 3


@pytest.mark.skipif(not REDIS_URL, reason="set BADGEHUB_TEST_REDIS_URL to test verdicts shared through Redis")
def test_processes_share_verdicts_through_redis_and_ignore_a_forged_entry(
        app: Flask, database_url: str, tmp_path: Path, setup: Any, world: Any, pipeline_runs: list[str]) -> None:
    from redis import Redis

    public_id = award(setup, world, LEA)
    Redis.from_url(str(REDIS_URL)).flushdb()
    workers = [_second_app(app, database_url, tmp_path / name, REDIS_URL=REDIS_URL) for name in ("w1", "w2")]
    workers.append(_second_app(app, database_url, tmp_path / "w3", REDIS_URL=REDIS_URL))
    first, second, third = (next(worker) for worker in workers)
    try:
        assert title_of(first.test_client(), public_id) == title_of(second.test_client(), public_id) == "Valid"
        assert pipeline_runs == [public_id]  # computed by the first worker, read by the second
        connection = Redis.from_url(str(REDIS_URL))
        [name] = connection.keys("badgehub:verdict:*")
        connection.set(name, b"\0" * 32 + b"forged")
        assert title_of(third.test_client(), public_id) == "Valid"
        assert pipeline_runs == [public_id, public_id]  # a forged entry is verified again, not trusted
    finally:
        for worker in workers:
            next(worker, None)


def test_an_unreachable_redis_only_costs_a_verification(app: Flask, database_url: str, tmp_path: Path,
                                                          setup: Any, world: Any, caplog: Any) -> None:
    public_id = award(setup, world, LEA)
    worker = _second_app(app, database_url, tmp_path / "w", REDIS_URL="redis://127.0.0.1:9/0")
    other = next(worker)
    try:
        assert title_of(other.test_client(), public_id) == "Valid"
        assert title_of(other.test_client(), public_id) == "Valid"
        assert "Redis unavailable" in caplog.text
    finally:
        next(worker, None)


def test_post_verify_of_our_own_credential_takes_the_stored_path(client: FlaskClient, setup: Any, world: Any,
                                                                  pipeline_runs: list[str]) -> None:
    public_id = award(setup, world, LEA)
    document = setup(lambda: issuing.get_credential(public_id).document_json)
    assert title_of(client, public_id) == "Valid"
    as_text = client.post("/api/v1/verify", data=document, content_type="application/json")
    as_object = client.post("/api/v1/verify", json={"credential": json.loads(document)})
    as_file = client.post("/api/v1/verify", data={"file": (io.BytesIO(document.encode()), "badge.json")},
                          content_type="multipart/form-data")
    for response in (as_text, as_object, as_file):
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["verdict"] == "valid"
        assert response.get_json()["issuer_standing"]["status"] == "approved"
    assert pipeline_runs == [public_id]
    changed = json.loads(document)
    changed["credentialSubject"]["achievement"]["name"] = "Pilote de ligne"
    response = client.post("/api/v1/verify", json=changed)
    assert response.get_json()["verdict"] == "not_genuine" and pipeline_runs == [public_id]


def test_no_get_writes_to_the_database(app: Flask, client: FlaskClient, setup: Any, world: Any,
                                       query: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    imported = client.post("/wallet/import", data={
        "csrf_token": token_of(client, "/wallet/import"),
        "credential_file": (io.BytesIO(IMPORTED_BADGE.read_bytes()), "badge.json")},
        content_type="multipart/form-data")
    assert imported.status_code == 302
    imported_id = query(lambda: db.session.scalar(select(ImportedCredential.id)))
    assert post(client, "/wallet/shares", "/wallet/shares", title="Tout", credential=public_id,
                imported=str(imported_id)).status_code == 302
    token = query(lambda: db.session.scalar(select(WalletShare.token)))
    # A list that changed, as it was before the refresh existed: still no view may sign and store it.
    setup(lambda: issuing.get_credential(public_id).status_list.__setattr__("signed_version", 0))
    anonymous = app.test_client()
    pages = [(client, "/wallet"), (client, f"/wallet/c/{public_id}"), (client, f"/wallet/imported/{imported_id}"),
             (anonymous, f"/c/{public_id}"), (anonymous, f"/w/{token}"), (anonymous, f"/c/{public_id}.json"),
             (anonymous, f"/c/{public_id}.pdf"), (anonymous, "/issuers/atelier-velo/status/1"),
             (anonymous, "/issuers/atelier-velo/did.json")]
    statements: list[str] = []

    def record(*arguments: Any) -> None:
        statements.append(str(arguments[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for who, url in pages:
            for _ in range(2):  # the first view computes the verdict, the second reads it
                assert who.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", record)
    writes = [statement for statement in statements if statement.lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert any("signing_keys" in statement for statement in statements)  # the listener did listen


def test_a_page_rendered_once_for_visitors_carries_each_visitors_own_csrf_token(
        app: Flask, setup: Any, world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    public_id = award(setup, world, LEA)
    renders: list[str] = []
    real = credential_page.render_template

    def counting(*args: Any, **kwargs: Any) -> str:
        renders.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(credential_page, "render_template", counting)
    first, second = app.test_client(), app.test_client()
    pages = [client.get(f"/c/{public_id}").get_data(as_text=True) for client in (first, second)]
    assert renders == ["credential/page.html"]
    tokens = [csrf_token_from(html) for html in pages]
    assert tokens[0] != tokens[1]
    assert pages[0].replace(tokens[0], "") == pages[1].replace(tokens[1], "")
    # Each token works for its own visitor, and for nobody else.
    checked = second.post(f"/c/{public_id}/holder", data={"csrf_token": tokens[1], "email": LEA})
    assert checked.status_code == 200 and "Yes: this badge was issued to" in checked.get_data(as_text=True)
    assert first.post(f"/c/{public_id}/holder", data={"csrf_token": tokens[1], "email": LEA}).status_code == 400


def test_a_signed_in_visitor_gets_the_page_with_their_own_menu(client: FlaskClient, app: Flask, setup: Any,
                                                                world: Any) -> None:
    public_id = award(setup, world, LEA)
    assert "Sign out" not in app.test_client().get(f"/c/{public_id}").get_data(as_text=True)
    sign_in(client, world["lea"])
    assert "Sign out" in client.get(f"/c/{public_id}").get_data(as_text=True)


def test_an_edited_competency_reference_shows_on_the_next_view(client: FlaskClient, setup: Any) -> None:
    from badgehub.achievements import service as achievements
    from badgehub.competencies.service import CompetencyFields, create_competency
    from tests.factories import BADGE_PNG, build_world

    def build() -> tuple[str, int]:
        world = build_world()
        competency = create_competency(world.territory, world.coordinator, "NUM-1", CompetencyFields(
            name="Réparer un vélo", esco_uri="http://data.europa.eu/esco/skill/abc-123"))
        fields = achievements.AchievementFields(name="Mécanique", description="Bases de la mécanique vélo.",
                                                criteria_md="Une réparation.", competency_ids=[competency.id])
        achievement = achievements.create_achievement(world.a, world.owner_a, fields,
                                                      achievements.UploadedImage(BADGE_PNG))
        credential = issuing.issue_credential(organisation=world.a, achievement=achievement, recipient_email=LEA,
                                              recipient_name="", actor_id=None, source="cli", config=current_app.config)
        return str(credential.public_id), competency.id

    public_id, competency_id = setup(build)
    assert "abc-123" in client.get(f"/c/{public_id}").get_data(as_text=True)

    def edit() -> None:
        from badgehub.competencies.models import Competency

        db.session.get(Competency, competency_id).esco_uri = "http://data.europa.eu/esco/skill/def-456"

    setup(edit)
    html = client.get(f"/c/{public_id}").get_data(as_text=True)
    assert "def-456" in html and "abc-123" not in html
