"""``badgehub achievements list``, ``issue``, ``credentials list``, ``revoke``: JSON that parses, clear refusals."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask import current_app

from badgehub.issuing import service as issuing
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from tests.conftest import links_in
from tests.factories import world_ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def run(runner: Any, *args: str) -> Any:
    return runner.invoke(args=list(args))


def test_achievements_list_prints_json_with_ids(runner, world):
    result = run(runner, "achievements", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {(item["id"], item["organisation"]) for item in listed} == {
        (world["repair"], world["a"]), (world["workshop"], world["a"]), (world["reading"], world["b"])}
    assert all(item["name"] and item["url"].endswith(item["id"]) for item in listed)
    only_a = json.loads(run(runner, "achievements", "list", "--organisation", world["a"], "--json").output)
    assert {item["organisation"] for item in only_a} == {world["a"]}
    table = run(runner, "achievements", "list")
    assert world["repair"] in table.output and "Réparer une crevaison" in table.output


def test_issue_prints_the_id_and_url_and_sends_the_mail(runner, world, app, outbox):
    result = run(runner, "issue", "--achievement", world["repair"], "--email", "lea@example.net", "--name", "Léa",
                 "--json")
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert issued["url"] == f"http://localhost/c/{issued['id']}"
    assert (issued["achievement"], issued["organisation"], issued["email_sent"]) == (world["repair"], world["a"], True)
    [message] = outbox()
    assert issued["url"] in links_in(message)
    with app.app_context():
        credential = issuing.get_credential(issued["id"])
        assert credential.source.value == "cli" and credential.created_by_id is None
        assert verify(credential.document_json, build_resolver(app), dt.datetime.now(dt.UTC)).verified


def test_issue_without_json_says_what_it_did(runner, world, outbox):
    result = run(runner, "issue", "--achievement", world["repair"], "--email", "lea@example.net", "--no-email")
    assert result.exit_code == 0 and result.output.startswith("issued ") and "http://localhost/c/" in result.output
    assert outbox() == []


def test_issue_with_an_idempotency_key_issues_once(runner, world):
    args = ("issue", "--achievement", world["repair"], "--email", "lea@example.net", "--idempotency-key", "k1",
            "--no-email", "--json")
    first, second = (json.loads(run(runner, *args).output) for _ in range(2))
    assert first["id"] == second["id"]


@pytest.mark.parametrize(("args", "message"), [
    (("--achievement", "zzzzzzzzzz", "--email", "lea@example.net"), "no achievement with id"),
    (("--achievement", "{reading}", "--email", "lea@example.net", "--organisation", "{a}"), "no achievement with id"),
    (("--achievement", "{repair}", "--email", "lea@example.net", "--organisation", "nobody"), "no organisation"),
    (("--achievement", "{repair}", "--email", "not-an-address"), "recipient_email"),
])
def test_issue_refuses_clearly(runner, world, args, message):
    result = run(runner, "issue", *(arg.format(**world) for arg in args))
    assert result.exit_code == 1
    assert message in result.output


def test_issue_refuses_an_archived_badge(runner, world, setup):
    from badgehub.achievements.service import public_achievement

    def archive() -> None:
        public_achievement(world["repair"]).archived_at = dt.datetime.now(dt.UTC)

    setup(archive)
    result = run(runner, "issue", "--achievement", world["repair"], "--email", "lea@example.net")
    assert result.exit_code == 1 and "archived" in result.output


def test_credentials_list_prints_json(runner, world):
    issued = json.loads(run(runner, "issue", "--achievement", world["repair"], "--email", "lea@example.net",
                            "--no-email", "--json").output)
    run(runner, "issue", "--achievement", world["reading"], "--email", "sam@example.net", "--no-email")
    everything = json.loads(run(runner, "credentials", "list", "--json").output)
    assert len(everything) == 2 and {item["organisation"] for item in everything} == {world["a"], world["b"]}
    only_a = json.loads(run(runner, "credentials", "list", "--organisation", world["a"], "--json").output)
    assert [item["id"] for item in only_a] == [issued["id"]]
    assert only_a[0]["url"] == issued["url"] and only_a[0]["revoked_at"] is None
    by_badge = json.loads(run(runner, "credentials", "list", "--achievement", world["reading"], "--json").output)
    assert [item["organisation"] for item in by_badge] == [world["b"]]


def test_revoke_needs_a_reason_and_revokes(runner, world):
    issued = json.loads(run(runner, "issue", "--achievement", world["repair"], "--email", "lea@example.net",
                            "--no-email", "--json").output)
    assert run(runner, "revoke", issued["id"]).exit_code == 2
    unknown = run(runner, "revoke", issued["id"], "--reason", "Erreur")
    assert unknown.exit_code == 2 and "learner_request" in unknown.output  # the list is shown
    done = run(runner, "revoke", issued["id"], "--reason", "error", "--note", "Mauvaise adresse")
    assert (done.exit_code, done.output.strip()) == (0, f"revoked {issued['id']}")
    again = run(runner, "revoke", issued["id"], "--reason", "error")
    assert again.exit_code == 1 and "already revoked" in again.output
    revoked = json.loads(run(runner, "credentials", "list", "--state", "revoked", "--json").output)
    assert [item["id"] for item in revoked] == [issued["id"]]


def test_revoke_refuses_another_organisations_credential(runner, world):
    issued = json.loads(run(runner, "issue", "--achievement", world["reading"], "--email", "lea@example.net",
                            "--no-email", "--json").output)
    result = run(runner, "revoke", issued["id"], "--reason", "fraud", "--organisation", world["a"])
    assert result.exit_code == 1 and "no credential" in result.output.lower()
    assert run(runner, "revoke", "aaaaaaaaaaaa", "--reason", "other").exit_code == 1


def test_status_lists_refresh_signs_what_needs_it_and_the_job_does_the_same(runner, world, setup, app):
    from badgehub.issuing.status_lists import LIST_VALIDITY
    from badgehub.jobs import tasks
    from badgehub.keys.models import KeyAlgorithm
    from badgehub.keys.service import rotate_keys
    from tests.conftest import TEST_KEK

    public_id = setup(lambda: issuing.issue_credential(
        organisation=build_world_org(world), achievement=issuing_achievement(world), recipient_email="a@example.net",
        recipient_name="", actor_id=None, source="cli", config=current_app.config).public_id)
    result = run(runner, "status-lists", "refresh")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 signed again, 1 already fresh, 0 without an active key"
    new_key = setup(lambda: rotate_keys(issuing.get_credential(public_id).organisation, bytes.fromhex(TEST_KEK),
                                        None, algorithms=[KeyAlgorithm.ED25519])[0].key_id)
    result = run(runner, "status-lists", "refresh", "--organisation", world["a"])
    assert result.output.startswith("1 signed again"), result.output
    assert setup(lambda: issuing.get_credential(public_id).status_list.signed_key_id) == new_key
    # The scheduled job: a list in the second half of its validity is signed again.
    half_way = dt.datetime.now(dt.UTC) + LIST_VALIDITY / 2 + dt.timedelta(minutes=1)
    with app.app_context():
        from badgehub.issuing import status_lists

        original = status_lists.utcnow
        status_lists.utcnow = lambda: half_way  # type: ignore[assignment]
        try:
            assert tasks.TASKS["status_lists.refresh"]() == 1
        finally:
            status_lists.utcnow = original  # type: ignore[assignment]
    assert run(runner, "status-lists", "refresh", "--organisation", "nobody").exit_code == 1


def build_world_org(world: dict[str, Any]) -> Any:
    from badgehub.organisations.service import get_organisation_by_slug

    return get_organisation_by_slug(world["a"])


def issuing_achievement(world: dict[str, Any]) -> Any:
    from badgehub.achievements.service import public_achievement

    return public_achievement(world["repair"])


def test_workers_schedule_the_refresh_at_start_and_every_interval(app):
    import threading

    from badgehub import jobs

    submitted: list[str] = []
    done = threading.Event()

    def submit(name: str) -> None:
        submitted.append(name)
        if len(submitted) >= 4:
            done.set()

    app.config["STATUS_LIST_REFRESH_SECONDS"] = 0
    assert jobs.start_schedule(app, submit) is None
    app.config["STATUS_LIST_REFRESH_SECONDS"] = 0.05
    stop = threading.Event()
    thread = jobs.start_schedule(app, submit, stop)
    assert thread is not None
    try:
        assert done.wait(5)
    finally:
        stop.set()
        thread.join(5)
    assert submitted[:4] == ["status_lists.refresh", "mail.purge"] * 2 and not thread.is_alive()
