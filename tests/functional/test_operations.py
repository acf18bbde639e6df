"""Operating the platform: /healthz and /readyz, Redis down without the site going down, /metrics and JSON
logs. The Redis-down run points the app at a closed port, the way an outage looks to it."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from badgehub import jobs
from badgehub.extensions import db
from badgehub.jobs import tasks
from badgehub.logs import JsonFormatter
from tests.conftest import csrf_token_from
from tests.functional.api_helpers import award, build_api_world


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_down_app(fresh_database, make_app, tmp_path):
    url = fresh_database()
    application = make_app(url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    with application.app_context():
        world = build_api_world()
        db.session.commit()
    yield application, world
    with application.app_context():
        db.engine.dispose()


def test_healthz_says_alive_without_asking_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_reads_and_writes_the_database_and_says_redis_is_not_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["schema"]
    assert body["checks"]["redis"]["status"] == "not_configured"


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(make_app, tmp_path):
    application = make_app(f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/nothing", tmp_path)
    response = application.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "unavailable"
    assert body["checks"]["database"]["detail"]
    # The process itself is fine: a load balancer must not restart it for the database's sake.
    assert application.test_client().get("/healthz").status_code == 200


def test_with_redis_unreachable_every_part_keeps_working(redis_down_app, monkeypatch):
    app, world = redis_down_app
    client = app.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "degraded"
    assert ready.get_json()["checks"]["redis"]["status"] == "degraded"

    # Token API (its per-token limit), the API verifier, public pages and sign-in links were all 500 before.
    headers = {"Authorization": f"Bearer {world['token_a']}"}
    issued = client.post("/api/v1/credentials", json=award(world["repair"]), headers=headers)
    assert issued.status_code == 201, issued.get_data(as_text=True)
    document = client.get(f"/api/v1/credentials/{issued.get_json()['id']}", headers=headers)
    assert document.status_code == 200
    checked = client.post("/api/v1/verify", json={"credential": json.loads(
        client.get(f"/c/{issued.get_json()['id']}.json").get_data(as_text=True))})
    assert checked.status_code == 200 and checked.get_json()["verified"] is True
    for page in ("/t/evry/badges", "/t/evry/observatory", "/verify", "/"):
        assert client.get(page).status_code == 200, page
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    link = client.post("/sign-in/link", data={"csrf_token": token, "email": "owner_a@example.org"})
    assert link.status_code in (200, 302), link.status_code

    # Rate limits still hold, counted in memory.
    app.config["RATELIMIT_VERIFY"] = "2 per minute"
    answers = [client.post("/api/v1/verify", json={"credential": {}}).status_code for _ in range(3)]
    assert answers[-1] == 429

    # A job that cannot be queued runs in this process instead.
    ran = []
    monkeypatch.setitem(tasks.TASKS, "test.record", lambda *args: ran.append(args))
    jobs.enqueue(app, "test.record", 7)
    jobs.start_in_process_worker(app).wait()
    assert ran == [(7,)]


def test_metrics_are_hidden_without_a_token_or_an_allowed_network(make_app, database_url, tmp_path):
    closed = make_app(database_url, tmp_path)
    assert closed.test_client().get("/metrics").status_code == 404
    opened = make_app(database_url, tmp_path, METRICS_TOKEN="s3cret-scrape")
    client = opened.test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}).status_code == 200
    local = make_app(database_url, tmp_path, METRICS_ALLOWED_NETWORKS="127.0.0.0/8, ::1")
    assert local.test_client().get("/metrics").status_code == 200
    elsewhere = local.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert elsewhere.status_code == 404


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _total(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def test_metrics_count_requests_issuing_verification_mail_and_batches(redis_down_app):
    app, world = redis_down_app
    app.config["METRICS_TOKEN"] = "scrape"
    client = app.test_client()
    scrape = {"Authorization": "Bearer scrape"}
    before = client.get("/metrics", headers=scrape).get_data(as_text=True)
    client.get("/t/evry/badges")
    issued = client.post("/api/v1/credentials", json=award(world["repair"], "metrics@example.net"),
                         headers={"Authorization": f"Bearer {world['token_a']}"})
    assert issued.status_code == 201
    client.post("/api/v1/verify", json={"credential": {"@context": []}})
    after = client.get("/metrics", headers=scrape)
    assert after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    rule = {"route": "/t/<slug>/badges", "method": "GET", "status": "200"}
    assert _sample(text, "badgehub_http_requests_total", **rule) == _sample(
        before, "badgehub_http_requests_total", **rule) + 1
    assert _sample(text, "badgehub_http_request_duration_seconds_count", route="/t/<slug>/badges") >= 1
    assert _sample(text, "badgehub_credentials_issued_total", source="api") >= _sample(
        before, "badgehub_credentials_issued_total", source="api") + 1
    assert _sample(text, "badgehub_mail_total", outcome="sent") >= _sample(
        before, "badgehub_mail_total", outcome="sent") + 1
    assert _total(text, "badgehub_verifications_total") == _total(before, "badgehub_verifications_total") + 1
    for state in ("queued", "running", "failed"):
        assert f'badgehub_batches{{state="{state}"}} 0.0' in text


def test_json_logs_carry_the_request_id_sent_by_the_proxy(make_app, database_url, tmp_path):
    app = make_app(database_url, tmp_path, LOG_FORMAT="json")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(JsonFormatter().format(record))

    keeper = Keep()
    logging.getLogger("badgehub.requests").addHandler(keeper)
    try:
        response = app.test_client().get("/healthz", headers={"X-Request-ID": "abc-123"})
        fresh = app.test_client().get("/healthz", headers={"X-Request-ID": "not a sane id"})
    finally:
        logging.getLogger("badgehub.requests").removeHandler(keeper)
    assert response.headers["X-Request-ID"] == "abc-123"
    assert fresh.headers["X-Request-ID"] != "not a sane id" and len(fresh.headers["X-Request-ID"]) == 32
    entries = [json.loads(line) for line in records]
    assert entries[0]["request_id"] == "abc-123"
    assert entries[0]["route"] == "/healthz" and entries[0]["status"] == 200 and entries[0]["level"] == "INFO"
    assert entries[1]["request_id"] == fresh.headers["X-Request-ID"]


def test_a_bad_log_format_or_network_is_a_clear_configuration_error(make_app, database_url, tmp_path):
    from badgehub.config import ConfigError

    with pytest.raises(ConfigError, match="BADGEHUB_LOG_FORMAT"):
        make_app(database_url, tmp_path, LOG_FORMAT="xml")
    with pytest.raises(ConfigError, match="not a network"):
        make_app(database_url, tmp_path, METRICS_ALLOWED_NETWORKS="10.0.0.0/8, everyone")




def test_a_postgresql_server_that_does_not_answer_fails_in_seconds(make_app, tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing", tmp_path)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 5}
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
