"""Forgotten passwords, password changes on the account page, and the sessions they end."""

from __future__ import annotations

import uuid

import pytest

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from tests.conftest import links_in
from tests.functional.account_helpers import PASSWORD, signed_in, submit, user_row

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def email():
    return f"kim.{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def user(app, email):
    with app.app_context():
        created = create_user(email, name="Kim", password=PASSWORD, verified=True)
        db.session.commit()
        return created.id


def sign_in(client, address, password=PASSWORD, **extra):
    response = submit(client, "/sign-in", {"email": address, "password": password, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)


def reset_link(client, outbox, address):
    response = submit(client, "/password/forgot", {"email": address})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/check-your-mail"
    return next(link for link in links_in(outbox()[-1]) if "/password/reset/" in link)


def test_forgotten_password_is_replaced_through_the_mailed_link(app, client, outbox, user, email):
    link = reset_link(client, outbox, email)
    page = client.get(link)
    assert page.status_code == 200 and email in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    response = submit(client, link, {"password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert signed_in(client)
    submit(client, "/verify", {}, to="/sign-out")
    assert submit(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 400
    sign_in(client, email, NEW_PASSWORD)


def test_resetting_the_password_ends_every_other_session(app, client, outbox, user, email):
    other_device = app.test_client()
    sign_in(other_device, email, remember="y")
    assert signed_in(other_device)
    link = reset_link(client, outbox, email)
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 302
    assert not signed_in(other_device)
    # Its "remember me" cookie no longer brings it back either.
    other_device.delete_cookie("session")
    assert not signed_in(other_device)
    assert signed_in(client)


def test_a_reset_link_works_once(client, outbox, user, email):
    link = reset_link(client, outbox, email)
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 302
    again = client.get(link)
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    assert "This link has already been used." in html and 'href="/password/forgot"' in html


def test_a_refused_password_leaves_the_reset_link_usable(client, outbox, user, email):
    link = reset_link(client, outbox, email)
    refused = submit(client, link, {"password": "too short"})
    assert refused.status_code == 400
    assert "Choose a password of at least 10 characters." in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 302


def test_a_new_reset_voids_the_other_waiting_links(client, outbox, user, email):
    first = reset_link(client, outbox, email)
    second = reset_link(client, outbox, email)
    sign_in_link = submit(client, "/sign-in", {"email": email}, to="/sign-in/link") and \
        next(link for link in links_in(outbox()[-1]) if "/sign-in/link/" in link)
    assert submit(client, second, {"password": NEW_PASSWORD}).status_code == 302
    assert client.get(first).status_code == 400
    assert client.get(sign_in_link).status_code == 400


def test_an_expired_reset_link_is_refused(app, client, outbox, user, email):
    app.config["LOGIN_LINK_MINUTES"] = 0
    link = reset_link(client, outbox, email)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired." in response.get_data(as_text=True)


def test_resetting_confirms_an_unconfirmed_address(app, client, outbox):
    address = f"late.{uuid.uuid4().hex[:8]}@example.org"
    submit(client, "/register", {"name": "Late", "email": address, "password": PASSWORD})
    link = reset_link(client, outbox, address)
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 302
    assert user_row(app, address).is_verified


def test_changing_the_password_needs_the_current_one(client, outbox, user, email):
    sign_in(client, email)
    response = submit(client, "/account", {"current_password": "not my password", "new_password": NEW_PASSWORD},
                      to="/account/password")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your current password is not right." in html and 'id="current_password-error"' in html
    submit(client, "/verify", {}, to="/sign-out")
    sign_in(client, email, PASSWORD)


def test_changing_the_password_keeps_this_session_ends_the_others_and_tells_the_owner(app, client, outbox, user,
                                                                                       email):
    other_device = app.test_client()
    sign_in(other_device, email)
    sign_in(client, email)
    response = submit(client, "/account", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      to="/account/password")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert signed_in(client)
    assert not signed_in(other_device)
    notice = outbox()[-1]
    assert notice["To"] == email and notice["Subject"] == "Your password was changed"
    sign_in(other_device, email, NEW_PASSWORD)


def test_an_account_without_password_can_choose_one(app, client, outbox):
    address = f"links.{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        create_user(address, name="Links Only", verified=True)
        db.session.commit()
    submit(client, "/sign-in", {"email": address}, to="/sign-in/link")
    link = next(link for link in links_in(outbox()[-1]) if "/sign-in/link/" in link)
    submit(client, link, {})
    html = client.get("/account").get_data(as_text=True)
    assert "Choose a password" in html and 'name="current_password"' not in html
    response = submit(client, "/account", {"new_password": NEW_PASSWORD}, to="/account/password")
    assert response.status_code == 302
    submit(client, "/verify", {}, to="/sign-out")
    sign_in(client, address, NEW_PASSWORD)


def test_a_remembered_but_not_fresh_session_must_sign_in_again_to_change_the_password(client, user, email):
    sign_in(client, email)
    with client.session_transaction() as session:
        session["_fresh"] = False
    response = submit(client, "/account", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      to="/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/account"
    # Signing in again makes the session fresh, and the change goes through.
    sign_in(client, email, PASSWORD)
    response = submit(client, "/account", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      to="/account/password")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


def test_a_remembered_device_stays_remembered_after_changing_the_password(client, user, email):
    sign_in(client, email, remember="y")
    response = submit(client, "/account", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                      to="/account/password")
    assert response.status_code == 302
    client.delete_cookie("session")
    assert signed_in(client)
