"""The defences of the account pages: CSRF, body size, rate limits, no account enumeration, mailed links."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from flask_babel import force_locale, gettext

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from tests.conftest import csrf_token_from, links_in
from tests.functional.account_helpers import PASSWORD

CSRF_VALUE = re.compile(r'(?<=name="csrf_token" value=")[^"]+')


@pytest.fixture
def email():
    return f"max.{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def user(app, email):
    with app.app_context():
        created = create_user(email, name="Max", password=PASSWORD, verified=True)
        db.session.commit()
        return created.id


def token_of(client, page="/sign-in", **kwargs):
    return csrf_token_from(client.get(page, **kwargs).get_data(as_text=True))


def comparable(html, address):
    """A page with the address typed and the (time-stamped) CSRF tokens blanked out."""
    return CSRF_VALUE.sub("", html.replace(address, "ADDRESS"))


def unknown_address():
    return f"nobody.{uuid.uuid4().hex[:10]}@example.org"


POSTS = [("/sign-in", {"email": "a@example.org", "password": PASSWORD}),
         ("/sign-in/link", {"email": "a@example.org"}),
         ("/register", {"name": "A", "email": "a@example.org"}),
         ("/password/forgot", {"email": "a@example.org"}),
         ("/verify-email/resend", {"email": "a@example.org"}),
         ("/sign-out", {}),
         ("/sign-in/link/some-token", {}),
         ("/password/reset/some-token", {"password": PASSWORD}),
         ("/account/name", {"name": "A"})]


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_a_form_without_its_csrf_token_gets_the_translated_400_page(client, outbox, url, data):
    response = client.post(url, data=data, headers={"Accept-Language": "fr"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html and "csrf_failed" in html
    with client.application.test_request_context(), force_locale("fr"):
        expected = gettext("This form has expired or was not sent from our site. Please reload the page and try again.")
    assert expected in unescape(html)
    assert outbox() == []


def test_a_forged_csrf_token_is_refused(client, user, email):
    response = client.post("/sign-in", data={"csrf_token": "forged", "email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_an_oversized_body_gets_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    token = token_of(client, "/register")
    response = client.post("/register", data={"csrf_token": token, "name": "x" * 10_000, "email": "a@example.org"})
    assert response.status_code == 413
    assert "too_large" in response.get_data(as_text=True)


def test_password_sign_in_is_rate_limited_per_client_address(app, client, user, email):
    app.config["RATELIMIT_SIGNIN"] = "3 per minute"
    token = token_of(client)
    for _ in range(3):
        response = client.post("/sign-in", data={"csrf_token": token, "email": unknown_address(),
                                                  "password": "guess"})
        assert response.status_code == 400
    blocked = client.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "rate_limited" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers
    # Another address is not affected.
    elsewhere = client.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 302


def test_the_sign_in_page_itself_is_not_rate_limited(app, client):
    app.config["RATELIMIT_SIGNIN"] = "2 per minute"
    assert all(client.get("/sign-in").status_code == 200 for _ in range(5))


def test_link_requests_are_rate_limited_per_target_address_across_client_addresses(app, client, outbox, user,
                                                                                   email):
    app.config["RATELIMIT_SIGNIN"] = "3 per minute"
    token = token_of(client)
    pages = ["/sign-in/link", "/password/forgot", "/sign-in/link"]
    for number, url in enumerate(pages):
        response = client.post(url, data={"csrf_token": token, "email": email},
                               environ_base={"REMOTE_ADDR": f"198.51.100.{number + 1}"})
        assert response.status_code == 302
    blocked = client.post("/sign-in/link", data={"csrf_token": token, "email": email.upper()},
                          environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert blocked.status_code == 429
    assert len(outbox()) == 3
    other = client.post("/sign-in/link", data={"csrf_token": token, "email": unknown_address()},
                        environ_base={"REMOTE_ADDR": "198.51.100.10"})
    assert other.status_code == 302


def test_registration_is_rate_limited_per_client_address(app, client):
    app.config["RATELIMIT_SIGNIN"] = "2 per minute"
    token = token_of(client, "/register")
    statuses = [client.post("/register", data={"csrf_token": token, "name": "A",
                                                "email": unknown_address()}).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


@pytest.mark.parametrize("url", ["/sign-in/link", "/password/forgot"])
def test_asking_for_a_link_answers_the_same_whether_or_not_an_account_exists(client, outbox, user, email, url):
    known = client.post(url, data={"csrf_token": token_of(client), "email": email})
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    stranger = unknown_address()
    unknown = client.post(url, data={"csrf_token": token_of(client), "email": stranger})
    unknown_page = client.get(unknown.headers["Location"]).get_data(as_text=True)

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert comparable(known_page, email) == comparable(unknown_page, stranger)
    # Each address gets exactly one e-mail; only the account holder's holds a working link.
    to_known, to_unknown = outbox()
    assert to_known["To"] == email and to_unknown["To"] == stranger
    assert any("/sign-in/link/" in link or "/password/reset/" in link for link in links_in(to_known))
    assert not any("/sign-in/link/" in link or "/password/reset/" in link for link in links_in(to_unknown))
    assert "http://localhost/register" in links_in(to_unknown)


def test_a_malformed_address_gets_an_error_not_an_e_mail(client, outbox):
    response = client.post("/sign-in/link", data={"csrf_token": token_of(client), "email": "not an address"})
    assert response.status_code == 400
    assert 'id="link-email-error"' in response.get_data(as_text=True)
    assert outbox() == []


def test_mailed_links_use_the_configured_base_url_not_the_host_header(client, outbox, user, email):
    evil = {"Host": "evil.example"}
    token = token_of(client, "/sign-in", headers=evil)
    response = client.post("/sign-in/link", data={"csrf_token": token, "email": email}, headers=evil)
    assert response.status_code == 302
    [link] = [link for link in links_in(outbox()[-1]) if "/sign-in/link/" in link]
    assert link.startswith("http://localhost/sign-in/link/")


def test_links_carry_a_256_bit_token_that_is_never_stored(app, client, outbox, user, email):
    from sqlalchemy import select

    from badgehub.accounts.models import EmailToken

    client.post("/sign-in/link", data={"csrf_token": token_of(client), "email": email})
    [link] = [link for link in links_in(outbox()[-1]) if "/sign-in/link/" in link]
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43
    with app.app_context():
        rows = db.session.execute(select(EmailToken.__table__)).all()
    assert rows and not any(token in str(value) for row in rows for value in row)


@pytest.mark.parametrize("known", [True, False])
def test_a_mail_failure_is_told_plainly_and_the_same_way_for_every_address(app, client, tmp_path, user, email,
                                                                            known):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the outbox cannot be created under a file")
    app.config["OUTBOX_DIR"] = blocker / "outbox"
    address = email if known else unknown_address()
    response = client.post("/sign-in/link", data={"csrf_token": token_of(client), "email": address})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "We could not send the e-mail just now." in page
    assert "We have sent an e-mail" not in page
