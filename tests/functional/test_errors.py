from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape


def test_unknown_page_is_a_translated_404_page(client, app):
    response = client.get("/no/such/page", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    with app.test_request_context(), force_locale("fr"):
        assert str(escape(gettext("This page does not exist, or is not yours to see."))) in html


def test_api_errors_are_json_with_a_stable_code(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": response.get_json()["error"]["message"],
                                             "details": {}}}


def test_clients_preferring_json_get_json_errors(client):
    response = client.get("/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_not_500(client):
    response = client.delete("/")
    assert response.status_code == 405


@pytest.mark.own_app
def test_unexpected_failure_shows_no_stack_trace(app):
    @app.get("/explode-for-test")
    def explode():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/explode-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internal detail" not in body
    assert "Traceback" not in body


def test_oversized_body_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/language", data={"locale": "fr", "blob": "x" * 5000})
    assert response.status_code == 413


def test_language_switch_without_csrf_token_is_refused(client):
    response = client.post("/language", data={"locale": "fr", "next": "/"})
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_language_switch_sets_french_and_ignores_foreign_next(client, form_token):
    token = form_token("/")
    response = client.post("/language", data={"locale": "fr", "next": "https://evil.example/", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


@pytest.mark.own_app
def test_error_messages_quoting_user_input_are_escaped(app):
    from flask_babel import lazy_gettext

    from badgehub.errors import Forbidden

    @app.get("/lazy-error-for-test")
    def lazy_error():
        raise Forbidden(lazy_gettext("%(name)s is suspended.", name="<i>injected</i>"))

    body = app.test_client().get("/lazy-error-for-test").get_data(as_text=True)
    assert "<i>injected</i>" not in body
    assert "&lt;i&gt;injected&lt;/i&gt;" in body
