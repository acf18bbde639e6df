"""Signing in with a password or an e-mailed one-time link, signing out, and where people land."""

from __future__ import annotations

import re
import uuid

import pytest

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from tests.conftest import csrf_token_from, links_in
from tests.functional.account_helpers import PASSWORD, signed_in, submit, user_row


@pytest.fixture
def email():
    return f"sam.{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def user(app, email):
    """A confirmed account with a password; returns its id."""
    with app.app_context():
        created = create_user(email, name="Sam", password=PASSWORD, verified=True)
        db.session.commit()
        return created.id


def request_link(client, outbox, address, **fields):
    response = submit(client, "/sign-in", {"email": address, **fields}, to="/sign-in/link")
    assert response.status_code == 302, response.get_data(as_text=True)
    return next(link for link in links_in(outbox()[-1]) if "/sign-in/link/" in link)


def test_password_sign_in_lands_on_the_person_s_home(client, user, email):
    response = submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert signed_in(client)


def test_password_sign_in_records_the_time(app, client, user, email):
    assert user_row(app, email).last_signed_in_at is None
    submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert user_row(app, email).last_signed_in_at is not None


@pytest.mark.parametrize("password", ["wrong horse battery", "", "correct horse battery "])
def test_wrong_password_is_refused_with_one_message(client, user, email, password):
    response = submit(client, "/sign-in", {"email": email, "password": password})
    assert response.status_code == 400
    assert not signed_in(client)


def test_unknown_address_and_wrong_password_get_the_same_answer(client, user, email):
    wrong = submit(client, "/sign-in", {"email": email, "password": "not the password"})
    unknown = submit(client, "/sign-in", {"email": f"nobody.{uuid.uuid4().hex}@example.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 400
    message = "The e-mail address or the password is not right."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_account_without_password_cannot_sign_in_with_an_empty_one(app, client):
    address = f"nopass.{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        create_user(address, name="No Pass", verified=True)
        db.session.commit()
    assert submit(client, "/sign-in", {"email": address, "password": ""}).status_code == 400
    assert not signed_in(client)


def test_sign_in_page_shows_both_ways_with_distinct_field_ids(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'action="/sign-in/link"' in html and 'action="/sign-in"' in html
    assert 'id="link-email"' in html and 'id="email"' in html
    assert 'autocomplete="current-password"' in html and 'autocomplete="username"' in html
    assert 'for="link-email"' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_link_sign_in_asks_for_a_button_press_before_using_the_link(app, client, outbox, user, email):
    link = request_link(client, outbox, email)
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert email in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
    assert not signed_in(client)
    landed = submit(client, link, {})
    assert landed.status_code == 302 and landed.headers["Location"] == "/home"
    assert signed_in(client)
    assert user_row(app, email).last_signed_in_at is not None


def test_a_used_link_is_refused_with_a_clear_message(client, outbox, user, email):
    link = request_link(client, outbox, email)
    assert submit(client, link, {}).status_code == 302
    submit(client, "/verify", {}, to="/sign-out")
    again = client.get(link)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "This link has already been used." in html
    assert 'href="/sign-in"' in html
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 400
    assert not signed_in(client)


def test_an_expired_link_is_refused_with_a_clear_message(app, client, outbox, user, email):
    app.config["LOGIN_LINK_MINUTES"] = 0
    link = request_link(client, outbox, email)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired." in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 400
    assert not signed_in(client)


@pytest.mark.parametrize("token", ["not-a-token", "x" * 500])
def test_an_unknown_link_is_refused(client, token):
    response = client.get(f"/sign-in/link/{token}")
    assert response.status_code == 400
    assert "This link is invalid" in response.get_data(as_text=True)


def test_a_link_with_a_nul_byte_is_not_found(client):
    # A NUL byte in any path is refused before routing (PostgreSQL cannot even compare such a text).
    response = client.get("/sign-in/link/%00")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_confirmation_link_does_not_sign_in(client, outbox):
    address = f"new.{uuid.uuid4().hex[:8]}@example.org"
    submit(client, "/register", {"name": "New", "email": address, "password": PASSWORD})
    verify_link = next(link for link in links_in(outbox()[-1]) if "/verify-email/" in link)
    token = verify_link.rsplit("/", 1)[1]
    assert client.get(f"/sign-in/link/{token}").status_code == 400


def test_link_sign_in_confirms_the_address_and_drops_a_password_chosen_before(app, client, outbox):
    # Someone registered this address with their own password; the mailbox's owner then signs in by link.
    address = f"victim.{uuid.uuid4().hex[:8]}@example.org"
    submit(client, "/register", {"name": "Squatter", "email": address, "password": PASSWORD})
    link = request_link(client, outbox, address)
    landed = submit(client, link, {})
    assert landed.status_code == 302
    assert "The password chosen before that was removed" in client.get("/account").get_data(as_text=True)
    stored = user_row(app, address)
    assert stored.is_verified and stored.password_hash is None
    submit(client, "/verify", {}, to="/sign-out")
    assert submit(client, "/sign-in", {"email": address, "password": PASSWORD}).status_code == 400


def test_sign_in_by_link_follows_next(client, outbox, user, email):
    html = client.get("/sign-in?next=/account%3Ftab%3D1").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/account?tab=1"' in html
    link = request_link(client, outbox, email, next="/account?tab=1")
    assert "next=" in link
    assert submit(client, link, {}).headers["Location"] == "/account?tab=1"


OPEN_REDIRECTS = ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
                  "javascript:alert(1)", "/\t/evil.example", "http:/evil.example", " //evil.example"]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_password_sign_in_ignores_a_next_pointing_elsewhere(client, user, email, target):
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", query_string={"next": target},
                           data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_link_sign_in_ignores_a_next_pointing_elsewhere(client, outbox, user, email, target):
    link = request_link(client, outbox, email, next=target)
    assert "evil" not in link
    assert submit(client, link, {}).headers["Location"] == "/home"
    token = csrf_token_from(client.get("/", follow_redirects=True).get_data(as_text=True))
    client.post("/sign-out", data={"csrf_token": token})
    # The same attempt written into the link by hand.
    link = request_link(client, outbox, email)
    token = csrf_token_from(client.get(link).get_data(as_text=True))
    response = client.post(link, query_string={"next": target}, data={"csrf_token": token})
    assert response.headers["Location"] == "/home"


def test_sign_in_starts_a_fresh_session_that_keeps_the_language(client, user, email):
    with client.session_transaction() as session:
        session["locale"] = "fr"
        session["planted"] = "by someone else"
    submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "fr"
        assert session["_fresh"] is True


def test_keep_me_signed_in_sets_a_remember_cookie_that_sign_out_clears(client, user, email):
    submit(client, "/sign-in", {"email": email, "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("badgehub_remember") is not None
    submit(client, "/verify", {}, to="/sign-out")
    assert client.get_cookie("badgehub_remember") is None
    assert not signed_in(client)


def test_remembered_session_survives_the_end_of_the_browser_session(client, user, email):
    submit(client, "/sign-in", {"email": email, "password": PASSWORD, "remember": "y"})
    client.delete_cookie("session")
    assert signed_in(client)


def test_without_keep_me_signed_in_no_remember_cookie(client, user, email):
    submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert client.get_cookie("badgehub_remember") is None
    client.delete_cookie("session")
    assert not signed_in(client)


def test_sign_out_is_a_post_with_a_csrf_token(client, user, email):
    submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400
    assert signed_in(client)
    response = submit(client, "/verify", {}, to="/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not signed_in(client)
    assert "You are signed out." in client.get("/").get_data(as_text=True)


def test_account_page_sends_strangers_to_sign_in_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Faccount"
