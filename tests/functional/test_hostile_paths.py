"""Hostile values in every variable part of every route: the answer is a 4xx or a page, never a 5xx.

The URL map is walked as registered (a new route is covered the day it is added). A fixed list of values that
broke things once (a 20-digit id, a CR/LF, a NUL) is tried on every route; Hypothesis then draws a bounded,
deterministic sample of other text, so the test stays a few seconds long.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from tests.conftest import sign_in

# What broke things once, or is known to elsewhere; Hypothesis covers the rest of text.
HOSTILE = ("9" * 20, "\r\nX-Injected: yes", "\x00", "a" * 1000, "..%2F%ff%fe")


def _routes(app: Any) -> list[tuple[Rule, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def _path(rule: Rule, value: str) -> str:
    # Build the path by hand: url_for would refuse the very values we want to send.
    encoded = quote(value, safe="")
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda _: encoded, rule.rule)


def _assert_no_server_error(client: Any, rule: Rule, method: str, value: str) -> None:
    response = client.open(_path(rule, value), method=method)
    assert response.status_code < 500, (method, rule.rule, value[:40], response.status_code)


def _signed_in_client(app: Any) -> Any:
    with app.test_request_context():
        user = create_user("walker@example.org", name="Walker", verified=True)
        db.session.commit()
        session_id = user.get_id()
    client = app.test_client()
    sign_in(client, session_id)
    return client


def test_no_route_answers_a_hostile_path_value_with_a_server_error(app):
    client = _signed_in_client(app)
    anonymous = app.test_client()
    for rule, method in _routes(app):
        for value in HOSTILE:
            _assert_no_server_error(client, rule, method, value)
        _assert_no_server_error(anonymous, rule, method, HOSTILE[0])


def test_no_route_answers_generated_path_values_with_a_server_error(app):
    client = _signed_in_client(app)
    routes = _routes(app)

    @given(route=st.sampled_from(routes), value=st.text(min_size=1, max_size=60))
    @settings(max_examples=100, derandomize=True, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(route: tuple[Rule, str], value: str) -> None:
        _assert_no_server_error(client, route[0], route[1], value)

    run()


def test_a_twenty_digit_id_is_a_404(client):
    for path in ("/issuers/someone/status/" + "9" * 20, "/achievements/abc/v/" + "9" * 20 + "/image",
                 "/wallet/imported/" + "9" * 20):
        assert client.get(path).status_code in (404, 302), path


def test_next_with_a_line_break_falls_back_to_the_home_page(client, form_token):
    token = form_token("/")
    response = client.post("/language", data={"locale": "fr", "next": "/account\r\nSet-Cookie: x=1",
                                              "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_with_a_line_break_in_next_does_not_fail(client):
    response = client.get("/sign-in", query_string={"next": "/a\nb"})
    assert response.status_code == 200


def test_https_base_url_sends_strict_transport_security(make_app, database_url, tmp_path):
    secure = make_app(database_url, tmp_path, BASE_URL="https://badges.example.org")
    assert "max-age=" in secure.test_client().get("/").headers["Strict-Transport-Security"]


def test_plain_http_base_url_sends_no_strict_transport_security(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
