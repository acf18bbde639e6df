"""The account page: name, language, sessions."""

from __future__ import annotations

import re
import uuid

import pytest

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from tests.conftest import csrf_token_from
from tests.functional.account_helpers import PASSWORD, submit, user_row


@pytest.fixture
def email():
    return f"noa.{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def signed_in_client(app, client, email):
    with app.app_context():
        create_user(email, name="Noa", password=PASSWORD, verified=True)
        db.session.commit()
    submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert client.get("/account").status_code == 200
    return client


def test_account_page_shows_the_address_and_the_forms(signed_in_client, email):
    response = signed_in_client.get("/account")
    html = response.get_data(as_text=True)
    assert email in html
    for action in ("/account/name", "/account/language", "/account/password", "/account/sign-out-everywhere"):
        assert f'action="{action}"' in html
    assert response.headers["Cache-Control"] == "no-store"
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_changing_the_name(app, signed_in_client, email):
    response = submit(signed_in_client, "/account", {"name": "  Noa   Martin "}, to="/account/name")
    assert response.status_code == 302
    assert user_row(app, email).name == "Noa Martin"
    assert "Your name is saved." in signed_in_client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("name", ["   ", "x" * 201, "Noa\u202eniraM", "Noa\x07"])
def test_a_refused_name_is_explained_on_its_field(app, signed_in_client, email, name):
    response = submit(signed_in_client, "/account", {"name": name}, to="/account/name")
    assert response.status_code == 400
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert user_row(app, email).name == "Noa"


def test_changing_the_language_sets_pages_and_e_mails(app, signed_in_client, email):
    response = submit(signed_in_client, "/account", {"locale": "fr"}, to="/account/language")
    assert response.status_code == 302
    assert user_row(app, email).locale == "fr"
    assert '<html lang="fr">' in signed_in_client.get("/account").get_data(as_text=True)


def test_an_unknown_language_is_refused(app, signed_in_client, email):
    response = submit(signed_in_client, "/account", {"locale": "xx"}, to="/account/language")
    assert response.status_code == 400
    assert user_row(app, email).locale is None


def test_the_language_of_the_account_follows_to_a_new_device(app, signed_in_client, email):
    submit(signed_in_client, "/account", {"locale": "fr"}, to="/account/language")
    new_device = app.test_client()
    submit(new_device, "/sign-in", {"email": email, "password": PASSWORD})
    assert '<html lang="fr">' in new_device.get("/account").get_data(as_text=True)


def test_signing_out_other_devices_keeps_this_one(app, signed_in_client, email):
    other_device = app.test_client()
    submit(other_device, "/sign-in", {"email": email, "password": PASSWORD, "remember": "y"})
    assert other_device.get("/account").status_code == 200
    response = submit(signed_in_client, "/account", {}, to="/account/sign-out-everywhere")
    assert response.status_code == 302
    assert signed_in_client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    other_device.delete_cookie("session")
    assert other_device.get("/account").status_code == 302


def test_account_forms_need_a_signed_in_person(client):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    for url in ("/account/name", "/account/language", "/account/password", "/account/sign-out-everywhere"):
        response = client.post(url, data={"csrf_token": token, "name": "x", "locale": "fr", "new_password": "x" * 12})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=")
