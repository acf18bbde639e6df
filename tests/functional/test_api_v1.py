"""The organisations' JSON API /api/v1: tokens, scopes, isolation between organisations, issuing one and many,
idempotency, lists, revocation, and error answers. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.achievements.models import Achievement
from badgehub.credentials.status_list import decode_status_list, get_bit
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.territory.models import TerritoryCoordinator
from badgehub.territory.service import decide_membership, memberships_of
from badgehub.tokens import service as tokens
from badgehub.tokens.models import ApiToken
from tests.functional.api_helpers import award, build_api_world, call

PROTECTED = [("GET", "/achievements"), ("GET", "/achievements/{reading}"), ("GET", "/credentials"),
             ("POST", "/credentials"), ("POST", "/credentials/batch"), ("GET", "/credentials/{cred}"),
             ("POST", "/credentials/{cred}/revoke")]


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_api_world)


def count_credentials(query: Any) -> int:
    return query(lambda: db.session.scalar(select(func.count(IssuedCredential.id))))


def issue(client: Any, world: dict[str, Any], email: str = "lea@example.net", badge: str = "repair",
          token: str = "token_a", **extra: Any) -> dict[str, Any]:
    response = call(client, "POST", "/credentials", world[token], json=award(world[badge], email, **extra))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --------------------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_every_endpoint_wants_a_bearer_token(client, world, method, url):
    response = call(client, method, url.format(reading=world["reading"], cred="aaaaaaaaaaaa"), json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="BadgeHub API"'
    assert response.get_json()["error"]["code"] == "token_missing"


def test_a_wrong_token_is_refused_with_an_invalid_token_challenge(client, world):
    response = call(client, "GET", "/achievements", world["token_a"][:-2] + "xx")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    response = call(client, "GET", "/achievements", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


def test_a_revoked_token_is_refused(client, world, setup):
    setup(lambda: tokens.revoke_token(db.session.get(Organisation, world["org_a_id"]),
                                      tokens.authenticate(world["token_a"]).created_by,
                                      tokens.authenticate(world["token_a"]).id))
    response = call(client, "GET", "/achievements", world["token_a"])
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token_revoked"


def test_an_expired_token_is_refused(client, world, setup):
    def expire() -> None:
        row = tokens.authenticate(world["token_a"])
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)

    setup(expire)
    response = call(client, "GET", "/achievements", world["token_a"])
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token_expired"


def test_a_token_without_the_scope_gets_403(client, world, query):
    for method, url, body in (("POST", "/credentials", award(world["repair"])),
                              ("POST", "/credentials/batch", {"items": []}),
                              ("POST", "/credentials/aaaaaaaaaaaa/revoke", {"reason": "x"})):
        response = call(client, method, url, world["read_a"], json=body)
        assert response.status_code == 403, url
        assert response.get_json()["error"]["code"] == "insufficient_scope"
        assert response.get_json()["error"]["details"]["required_scope"].startswith("credentials:")
    assert count_credentials(query) == 0
    assert call(client, "GET", "/credentials", world["read_a"]).status_code == 200


def test_last_use_is_recorded_and_shown_to_the_staff(client, world, query):
    assert call(client, "GET", "/achievements", world["read_a"]).status_code == 200
    used = query(lambda: [(t.name, t.last_used_at is not None) for t in db.session.scalars(
        select(ApiToken).where(ApiToken.organisation_id == world["org_a_id"]).order_by(ApiToken.name))])
    assert used == [("CRM", False), ("Reader", True)]
    from tests.conftest import sign_in

    sign_in(client, world["viewer_a"])
    page = client.get(f"/organisations/{world['a']}/api-tokens").get_data(as_text=True)
    assert "Reader" in page and "Never" in page  # CRM was never used, Reader was
    assert world["read_a"] not in page and world["read_a"].split("_", 2)[2] not in page


def test_requests_over_the_rate_limit_get_429_with_retry_after(app, client, world):
    app.config["RATELIMIT_API"] = "2 per minute"
    assert call(client, "GET", "/achievements", world["token_a"]).status_code == 200
    assert call(client, "GET", "/achievements", world["token_a"]).status_code == 200
    response = call(client, "GET", "/achievements", world["token_a"])
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # The budget is per token: another token of the same organisation still passes.
    assert call(client, "GET", "/achievements", world["read_a"]).status_code == 200


# ---------------------------------------------------------------------------------------- achievements


def test_achievements_lists_only_the_tokens_organisation_page_by_page(client, world):
    body = call(client, "GET", "/achievements", world["token_a"]).get_json()
    assert sorted(a["id"] for a in body["items"]) == sorted([world["repair"], world["workshop"]])
    assert body["total"] == 2 and body["next"] is None
    first = call(client, "GET", "/achievements?limit=1", world["token_a"]).get_json()
    assert len(first["items"]) == 1 and first["total"] == 2
    second = call(client, "GET", urlsplit(first["next"]).path + "?" + urlsplit(first["next"]).query,
                  world["token_a"]).get_json()
    assert second["next"] is None and second["items"][0]["id"] != first["items"][0]["id"]
    one = call(client, "GET", f"/achievements/{world['workshop']}", world["token_a"]).get_json()
    assert (one["name"], one["valid_for_days"], one["archived"]) == ("Animer un atelier", 30, False)
    assert one["url"].endswith(f"/achievements/{world['workshop']}")


@pytest.mark.parametrize("url", ["/achievements?limit=0", "/achievements?limit=101", "/achievements?offset=-1",
                                 "/achievements?limit=abc", "/achievements?archived=maybe",
                                 "/credentials?state=lost", "/credentials?q=" + "x" * 201])
def test_bad_query_parameters_are_400(client, world, url):
    response = call(client, "GET", url, world["token_a"])
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_parameter"


# ------------------------------------------------------------------------------------------ isolation


def test_a_token_of_a_cannot_touch_anything_of_b(client, world, query):
    theirs = issue(client, world, "bob@example.net", badge="reading", token="token_b")
    token = world["token_a"]
    assert call(client, "GET", f"/achievements/{world['reading']}", token).status_code == 404
    assert call(client, "GET", f"/credentials/{theirs['id']}", token).status_code == 404
    assert call(client, "GET", f"/credentials?achievement={world['reading']}", token).status_code == 404
    assert call(client, "POST", f"/credentials/{theirs['id']}/revoke", token,
                json={"reason": "Not ours"}).status_code == 404
    listed = call(client, "GET", "/credentials", token).get_json()
    assert listed["total"] == 0
    assert all(a["id"] != world["reading"] for a in call(client, "GET", "/achievements", token).get_json()["items"])
    response = call(client, "POST", "/credentials", token, json=award(world["reading"], "eve@example.net"))
    assert response.status_code == 422
    assert "achievement" in response.get_json()["error"]["details"]["fields"]
    response = call(client, "POST", "/credentials/batch", token,
                    json={"items": [award(world["reading"], "eve@example.net", idempotency_key="k1")]})
    assert response.status_code == 422 and "achievement" in response.get_json()["error"]["details"]["items"]["0"]
    # B's idempotency keys are B's: the same key in A issues A's own credential.
    mine = issue(client, world, "eve@example.net", idempotency_key=theirs["idempotency_key"] or "shared")
    assert mine["id"] != theirs["id"]
    fresh = query(lambda: issuing.get_credential(theirs["id"]))
    assert fresh.revoked_at is None and count_credentials(query) == 2


# --------------------------------------------------------------------------------------------- issuing


def test_issuing_one_credential_signs_stores_and_mails_it(client, world, query, outbox):
    response = call(client, "POST", "/credentials", world["token_a"], json=award(
        world["repair"], "Lea@Example.net", evidence_url="https://velo.example.org/p.jpg", narrative="Deux roues.",
        activity_start="2025-03-01", activity_end="2025-03-01T18:00:00+01:00", area="gare", result="Autonome"))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/credentials/{body['id']}")
    assert body["url"] == f"http://localhost/c/{body['id']}"
    assert body["json_url"].endswith(".json") and body["jwt_url"].endswith(".jwt")
    assert (body["status"], body["achievement"], body["recipient"]["email"], body["area"], body["source"],
            body["email_sent"]) == ("active", world["repair"], "lea@example.net", world["gare"], "api", True)
    assert body["activity_end"] == "2025-03-01T17:00:00Z" and body["valid_until"] is None
    stored = query(lambda: issuing.get_credential(body["id"]))
    assert stored.evidence_url == "https://velo.example.org/p.jpg" and stored.source.value == "api"
    assert [m["To"] for m in outbox()] == ["lea@example.net"]
    assert client.get(f"/c/{body['id']}.json").status_code == 200


def test_send_email_false_issues_without_mail(client, world, outbox):
    body = issue(client, world, send_email=False)
    assert body["email_sent"] is False and outbox() == []


def test_the_validity_period_gives_valid_until(client, world):
    body = issue(client, world, badge="workshop")
    issued = dt.datetime.fromisoformat(body["issued_at"])
    assert dt.datetime.fromisoformat(body["valid_until"]) - issued == dt.timedelta(days=30)


def test_an_idempotency_key_replays_and_refuses_a_different_award(client, world, query, outbox):
    headers = {"Idempotency-Key": "crm-42"}
    first = call(client, "POST", "/credentials", world["token_a"], headers=headers, json=award(world["repair"]))
    again = call(client, "POST", "/credentials", world["token_a"], headers=headers, json=award(world["repair"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"] and "email_sent" not in again.get_json()
    in_body = call(client, "POST", "/credentials", world["token_a"],
                   json=award(world["repair"], idempotency_key="crm-42"))
    assert in_body.status_code == 200 and in_body.get_json()["id"] == first.get_json()["id"]
    other = call(client, "POST", "/credentials", world["token_a"], headers=headers,
                 json=award(world["repair"], "someone.else@example.net"))
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_conflict"
    both = call(client, "POST", "/credentials", world["token_a"], headers=headers,
                json=award(world["repair"], idempotency_key="crm-43"))
    assert both.status_code == 422 and "idempotency_key" in both.get_json()["error"]["details"]["fields"]
    assert count_credentials(query) == 1 and len(outbox()) == 1


def test_field_errors_are_422_under_the_api_field_names(client, world, query):
    response = call(client, "POST", "/credentials", world["token_a"], json={
        "achievement": world["repair"], "recipient": {"email": "not-an-address", "nickname": "x"},
        "evidence_url": "ftp://example.org/x", "activity_start": "2999-01-01", "activity_end": "yesterday",
        "area": "port", "result": 12, "evidenceUrl": "https://example.org", "send_email": "yes"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]["fields"]) == {"recipient.nickname", "evidenceUrl", "activity_end", "area", "result",
                                               "send_email"}
    # Once the shape is right, the service's own checks answer with the same field names.
    response = call(client, "POST", "/credentials", world["token_a"], json={
        "achievement": world["repair"], "recipient": {"email": "not-an-address"},
        "evidence_url": "ftp://example.org/x", "activity_start": "2999-01-01", "area": world["port"]})
    fields = response.get_json()["error"]["details"]["fields"]
    assert response.status_code == 422
    assert set(fields) == {"recipient.email", "evidence_url", "activity_start", "area"}
    assert all(isinstance(message, str) and message for message in fields.values())
    assert count_credentials(query) == 0


def test_issuing_while_suspended_is_refused_but_reading_and_revoking_go_on(client, world, setup):
    mine = issue(client, world)

    def suspend() -> None:
        organisation = db.session.get(Organisation, world["org_a_id"])
        coordinator = db.session.scalars(select(TerritoryCoordinator)).first().user
        decide_membership(memberships_of(organisation)[0], "suspend", coordinator, "Badges sans preuves")

    setup(suspend)
    response = call(client, "POST", "/credentials", world["token_a"], json=award(world["repair"], "x@example.net"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "organisation_suspended"
    assert call(client, "GET", "/credentials", world["token_a"]).get_json()["total"] == 1
    revoked = call(client, "POST", f"/credentials/{mine['id']}/revoke", world["token_a"], json={"reason": "error"})
    assert revoked.status_code == 200


# ------------------------------------------------------------------------------------------------ batch


def test_a_batch_issues_every_item_and_replays_as_a_whole(client, world, query, outbox):
    items = [award(world["repair"], f"p{n}@example.net", idempotency_key=f"evt-{n}") for n in range(5)]
    items.append(award(world["workshop"], "p0@example.net", idempotency_key="evt-w"))
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["created"], body["replayed"]) == (6, 0)
    assert [c["recipient"]["email"] for c in body["items"]] == [i["recipient"]["email"] for i in items]
    assert len(outbox()) == 6
    again = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert again.status_code == 200 and again.get_json()["replayed"] == 6
    assert [c["id"] for c in again.get_json()["items"]] == [c["id"] for c in body["items"]]
    assert count_credentials(query) == 6 and len(outbox()) == 6
    # A known key for another recipient is a conflict, and the new items of that batch are not issued either.
    conflicting = [award(world["repair"], "new@example.net", idempotency_key="evt-new"),
                   award(world["repair"], "not-p1@example.net", idempotency_key="evt-1")]
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": conflicting})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "idempotency_conflict"
    assert response.get_json()["error"]["details"]["index"] == 1
    assert count_credentials(query) == 6 and len(outbox()) == 6


def test_a_batch_with_one_bad_item_issues_nothing_and_says_which(client, world, query, outbox):
    items = [award(world["repair"], f"p{n}@example.net", idempotency_key=f"k{n}") for n in range(3)]
    items[1]["recipient"]["email"] = "broken"
    items.append(award(world["repair"], "q@example.net"))  # no idempotency key
    items.append(award(world["repair"], "r@example.net", idempotency_key="k0"))  # a key used twice
    items.append("not an object")
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert response.status_code == 422
    problems = response.get_json()["error"]["details"]["items"]
    assert set(problems) == {"1", "3", "4", "5"}
    assert "recipient.email" in problems["1"] and "idempotency_key" in problems["3"]
    assert "idempotency_key" in problems["4"]
    assert count_credentials(query) == 0 and outbox() == []


def test_a_batch_names_each_unknown_or_archived_badge_and_issues_nothing(client, world, setup, query, outbox):
    def archive() -> None:
        achievement = db.session.scalar(select(Achievement).where(Achievement.public_id == world["workshop"]))
        achievement.archived_at = dt.datetime.now(dt.UTC)

    setup(archive)
    items = [award(world["repair"], "p0@example.net", idempotency_key="k0"),
             award("nosuchbadge1", "p1@example.net", idempotency_key="k1"),
             award(world["workshop"], "p2@example.net", idempotency_key="k2"),
             award(world["workshop"], "p3@example.net", idempotency_key="k3"),
             award(world["repair"], "p4@example.net", idempotency_key="k4")]
    items[4]["recipient"]["name"] = "x" * 1000
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert response.status_code == 422
    problems = response.get_json()["error"]["details"]["items"]
    assert set(problems) == {"1", "2", "3", "4"}
    assert set(problems["1"]) == set(problems["2"]) == set(problems["3"]) == {"achievement"}
    assert problems["1"] != problems["2"] == problems["3"]  # no such badge; archived
    assert set(problems["4"]) == {"recipient.name"}
    assert count_credentials(query) == 0 and outbox() == []


def test_a_suspended_organisation_replays_a_batch_but_issues_no_new_item(client, world, setup, query):
    items = [award(world["repair"], f"p{n}@example.net", idempotency_key=f"k{n}") for n in range(2)]
    assert call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items}).status_code == 201

    def suspend() -> None:
        organisation = db.session.get(Organisation, world["org_a_id"])
        coordinator = db.session.scalars(select(TerritoryCoordinator)).first().user
        decide_membership(memberships_of(organisation)[0], "suspend", coordinator, "Badges sans preuves")

    setup(suspend)
    again = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert again.status_code == 200 and again.get_json()["replayed"] == 2
    more = [*items, award(world["repair"], "p9@example.net", idempotency_key="k9")]
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": more})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "organisation_suspended"
    assert count_credentials(query) == 2


@pytest.mark.parametrize("body", [{"items": []}, {"items": "x"}, {}, {"items": [{}], "extra": 1}])
def test_a_batch_needs_a_list_of_items(client, world, body):
    response = call(client, "POST", "/credentials/batch", world["token_a"], json=body)
    assert response.status_code == 422


def test_a_batch_is_limited_in_size(app, client, world, query):
    app.config["API_BATCH_MAX"] = 3
    items = [award(world["repair"], f"p{n}@example.net", idempotency_key=f"k{n}") for n in range(4)]
    response = call(client, "POST", "/credentials/batch", world["token_a"], json={"items": items})
    assert response.status_code == 422 and "items" in response.get_json()["error"]["details"]["fields"]
    assert count_credentials(query) == 0


# ------------------------------------------------------------------------------------------------ lists


def test_the_list_filters_and_pages(client, world, setup):
    for n in range(3):
        issue(client, world, f"velo{n}@example.net", send_email=False)
    workshop = issue(client, world, "atelier@example.net", badge="workshop", send_email=False)
    revoked = issue(client, world, "gone@example.net", send_email=False)
    call(client, "POST", f"/credentials/{revoked['id']}/revoke", world["token_a"],
         json={"reason": "error", "note": "Doublon"})
    token = world["read_a"]
    everything = call(client, "GET", "/credentials", token).get_json()
    assert everything["total"] == 5 and everything["next"] is None
    by_badge = call(client, "GET", f"/credentials?achievement={world['workshop']}", token).get_json()
    assert [c["id"] for c in by_badge["items"]] == [workshop["id"]]
    gone = call(client, "GET", "/credentials?state=revoked", token).get_json()
    assert [(c["id"], c["status"], c["revocation_reason"]) for c in gone["items"]] == [
        (revoked["id"], "revoked", "error")]
    assert gone["items"][0]["revocation_note"] == "Doublon"
    assert call(client, "GET", "/credentials?state=active", token).get_json()["total"] == 4
    assert call(client, "GET", "/credentials?state=expired", token).get_json()["total"] == 0
    assert call(client, "GET", "/credentials?q=VELO1", token).get_json()["items"][0]["recipient"]["email"] == (
        "velo1@example.net")
    seen: list[str] = []
    url: str | None = "/credentials?limit=2"
    while url:
        page = call(client, "GET", url, token).get_json()
        seen += [c["id"] for c in page["items"]]
        url = page["next"] and urlsplit(page["next"]).path + "?" + urlsplit(page["next"]).query
    assert sorted(seen) == sorted(c["id"] for c in everything["items"]) and len(seen) == 5
    one = call(client, "GET", f"/credentials/{workshop['id']}", token).get_json()
    assert one["id"] == workshop["id"] and one["recipient"]["email"] == "atelier@example.net"
    assert call(client, "GET", "/credentials/nope", token).status_code == 404


# ----------------------------------------------------------------------------------------------- revoke


def test_revoking_through_the_api_sets_the_bit_of_the_published_list(client, world, query):
    mine = issue(client, world)
    document = json.loads(client.get(f"/c/{mine['id']}.json").get_data(as_text=True))
    status = document["credentialStatus"]
    list_path = urlsplit(status["statusListCredential"]).path
    index = int(status["statusListIndex"])

    def bit() -> bool:
        published = client.get(list_path).get_json()
        return get_bit(decode_status_list(published["credentialSubject"]["encodedList"]), index)

    assert bit() is False
    response = call(client, "POST", f"/credentials/{mine['id']}/revoke", world["token_a"],
                    json={"reason": "Attribué par erreur"})
    assert response.status_code == 422 and "learner_request" in response.get_data(as_text=True)
    response = call(client, "POST", f"/credentials/{mine['id']}/revoke", world["token_a"],
                    json={"reason": "error", "note": "Attribué par erreur"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["revocation_reason"], body["revocation_note"]) == (
        "revoked", "error", "Attribué par erreur")
    assert bit() is True
    again = call(client, "POST", f"/credentials/{mine['id']}/revoke", world["token_a"], json={"reason": "other"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_revoked"
    assert query(lambda: issuing.get_credential(mine["id"]).revocation_note) == "Attribué par erreur"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 3}, {"reason": "x" * 501},
                                  {"reason": "ok", "why": "extra"}])
def test_a_revocation_needs_a_reason(client, world, query, body):
    mine = issue(client, world, send_email=False)
    response = call(client, "POST", f"/credentials/{mine['id']}/revoke", world["token_a"], json=body)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"
    assert query(lambda: issuing.get_credential(mine["id"]).revoked_at) is None


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe garbage", "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "not_an_object"),
    (b"null", "application/json", 400, "not_an_object"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "invalid_json"),
    (b"achievement=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"{}", "text/plain", 415, "unsupported_media_type"),
    (b"{}", None, 415, "unsupported_media_type"),
])
def test_malformed_bodies_get_a_json_error(client, world, query, data, content_type, status, code):
    headers = {"Content-Type": content_type} if content_type else {}
    response = call(client, "POST", "/credentials", world["token_a"], data=data, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code and response.get_json()["error"]["message"]
    assert count_credentials(query) == 0


def test_a_ten_megabyte_body_is_413(client, world, query):
    body = b'{"achievement": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = call(client, "POST", "/credentials", world["token_a"], data=body,
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    assert count_credentials(query) == 0


def test_the_api_body_limit_is_its_own_setting(app, client, world, query):
    app.config["API_MAX_BODY_BYTES"] = 1000
    small = award(world["repair"], narrative="x" * 900)
    response = call(client, "POST", "/credentials", world["token_a"], json=small)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    small["narrative"] = "x" * 100
    assert call(client, "POST", "/credentials", world["token_a"], json=small).status_code == 201


def test_unknown_paths_and_methods_answer_json(client, world):
    response = client.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {world['token_a']}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/credentials", headers={"Authorization": f"Bearer {world['token_a']}"})
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_answers_are_not_cached(client, world):
    response = call(client, "GET", "/achievements", world["token_a"])
    assert response.headers["Cache-Control"] == "no-store"


def test_issued_since_and_updated_since_let_a_client_synchronise(client, world, setup):
    from badgehub.achievements.service import public_achievement

    def old_awards() -> list[str]:
        achievement = public_achievement(world["repair"])
        made = [issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                         recipient_email=f"old{n}@example.net", recipient_name="", actor_id=None,
                                         source="cli",
                                         now=dt.datetime(2025, 1, 10 + n, 12, tzinfo=dt.UTC),
                                         config=current_app.config) for n in range(3)]
        return [c.public_id for c in made]

    old = setup(old_awards)
    fresh = issue(client, world, "new@example.net", send_email=False)
    call(client, "POST", f"/credentials/{old[0]}/revoke", world["token_a"], json={"reason": "error"})

    def ids(url: str) -> set[str]:
        response = call(client, "GET", url, world["read_a"])
        assert response.status_code == 200, response.get_json()
        return {c["id"] for c in response.get_json()["items"]}

    assert ids("/credentials?issued_since=2025-01-11") == {old[1], old[2], fresh["id"]}
    assert ids("/credentials?issued_since=2025-01-11T12:00:01Z") == {old[2], fresh["id"]}
    assert ids("/credentials?issued_since=2025-01-11T13:00:01+01:00") == {old[2], fresh["id"]}
    assert ids("/credentials?issued_since=2025-01-11T13:00:01 01:00") == {old[2], fresh["id"]}  # unencoded +
    assert ids("/credentials?updated_since=2026-01-01") == {old[0], fresh["id"]}
    for wrong in ("yesterday", "2025-01-11T12:00:00", "2025-13-01"):
        response = call(client, "GET", f"/credentials?issued_since={wrong}", world["read_a"])
        assert response.status_code == 400 and response.get_json()["error"]["details"] == {"parameter": "issued_since"}
