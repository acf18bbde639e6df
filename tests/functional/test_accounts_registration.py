"""Registration and e-mail confirmation, through the pages and the real file outbox.

Every test uses its own addresses and counts rows before and after, so that it holds whatever other tests
left in the database.
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from badgehub.accounts.models import User
from badgehub.extensions import db
from tests.conftest import csrf_token_from, links_in
from tests.functional.account_helpers import PASSWORD, signed_in, submit, user_row


@pytest.fixture
def email():
    """A fresh address for this test, in mixed case as people type them."""
    return f"Ana.{uuid.uuid4().hex[:10]}@Example.org"


def stored(address):
    """The address as the service keeps it: the domain lower-cased, the local part as typed."""
    local, _, domain = address.partition("@")
    return f"{local}@{domain.lower()}"


def user_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def link_to(message, fragment):
    return next(link for link in links_in(message) if fragment in link)


def test_register_verify_then_sign_in_by_password_and_by_link(app, client, outbox, email):
    response = submit(client, "/register", {"name": "Ana Diallo", "email": email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/check-your-mail"
    assert f"We have sent a link to {stored(email)}" in client.get(response.headers["Location"]).get_data(as_text=True)

    # Not confirmed yet: the right password is not enough.
    refused = submit(client, "/sign-in", {"email": email.lower(), "password": PASSWORD})
    assert refused.status_code == 403
    assert "Please confirm your e-mail address first" in refused.get_data(as_text=True)
    assert not signed_in(client)

    [message] = outbox()
    assert message["To"] == stored(email)
    verify_link = link_to(message, "/verify-email/")
    assert verify_link.startswith("http://localhost/verify-email/")
    page = client.get(verify_link)
    assert page.status_code == 200 and stored(email) in page.get_data(as_text=True)
    confirmed = submit(client, verify_link, {})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/sign-in"

    signed = submit(client, "/sign-in", {"email": email.upper(), "password": PASSWORD})
    assert signed.status_code == 302 and signed.headers["Location"] == "/home"
    account = client.get("/account").get_data(as_text=True)
    assert stored(email) in account and "confirmed" in account

    submit(client, "/verify", {}, to="/sign-out")
    assert not signed_in(client)

    requested = submit(client, "/sign-in", {"email": email}, to="/sign-in/link")
    assert requested.status_code == 302 and requested.headers["Location"] == "/sign-in/check-your-mail"
    sign_in_link = link_to(outbox()[-1], "/sign-in/link/")
    landed = submit(client, sign_in_link, {})
    assert landed.status_code == 302 and landed.headers["Location"] == "/home"
    assert signed_in(client)


def test_register_without_password_mails_a_link_that_confirms_and_signs_in(app, client, outbox, email):
    response = submit(client, "/register", {"name": "Léa", "email": email, "password": ""})
    assert response.status_code == 302
    [message] = outbox()
    landed = submit(client, link_to(message, "/sign-in/link/"), {})
    assert landed.status_code == 302 and landed.headers["Location"] == "/home"
    assert "Welcome! Your e-mail address is confirmed and you are signed in." in \
        client.get("/account").get_data(as_text=True)
    user = user_row(app, email)
    assert user.is_verified and user.password_hash is None and user.last_signed_in_at is not None


def test_register_with_a_known_address_answers_as_for_a_new_one_and_tells_the_owner(app, client, outbox, email):
    # Regression: /register answered 409 "an account already exists" for a known address (any case), 302
    # otherwise, which told anyone who has an account here.
    assert submit(client, "/register", {"name": "Ana", "email": email}).status_code == 302
    before, mails = user_count(app), len(outbox())
    fresh = app.test_client()
    new = submit(fresh, "/register", {"name": "Other", "email": "nobody-yet@example.org", "password": PASSWORD})
    known = submit(client, "/register", {"name": "Other", "email": f"  {email.upper()} ", "password": PASSWORD})
    assert known.status_code == new.status_code == 302
    assert known.headers["Location"] == new.headers["Location"]
    page = client.get(known.headers["Location"]).get_data(as_text=True)
    assert "Your account is created." in page and "already" not in page
    assert user_count(app) == before + 1
    notice = outbox()[-1]
    assert len(outbox()) == mails + 2
    assert notice["To"].lower() == email.lower()
    assert "tried to create" in notice["Subject"]
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "/password/forgot" in body and "/sign-in/link/" not in body
    assert user_row(app, email).name == "Ana"


@pytest.mark.parametrize("address", ["ana@@example.org", "ana", "ana@", "@example.org", "ana@exa mple.org",
                                     "a" * 250 + "@example.org"])
def test_register_refuses_a_malformed_address_with_the_error_on_the_field(app, client, outbox, address):
    before = user_count(app)
    response = submit(client, "/register", {"name": "Ana", "email": address, "password": PASSWORD})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'id="email-error"' in html
    assert user_count(app) == before
    assert outbox() == []


def test_register_refuses_a_short_password_and_says_the_minimum(app, client, outbox, email):
    before = user_count(app)
    response = submit(client, "/register", {"name": "Ana", "email": email, "password": "nine char"})
    assert response.status_code == 400
    assert "Choose a password of at least 10 characters." in response.get_data(as_text=True)
    assert user_count(app) == before and user_row(app, email) is None


def test_register_requires_a_name(app, client, email):
    response = submit(client, "/register", {"name": "   ", "email": email})
    assert response.status_code == 400
    assert user_row(app, email) is None


def test_registration_mail_is_in_the_language_of_the_page(app, client, outbox, email):
    french = {"Accept-Language": "fr"}
    submit(client, "/register", {"name": "Zoé", "email": email, "password": PASSWORD}, headers=french)
    [message] = outbox()
    with app.test_request_context(), force_locale("fr"):
        assert message["Subject"] == gettext("Confirm your e-mail address")
        assert gettext("Then sign in with your address and your password.") in \
            message.get_body(preferencelist=("plain",)).get_content()
    assert user_row(app, email).locale == "fr"


def test_confirmation_link_works_once(app, client, outbox, email):
    submit(client, "/register", {"name": "Ana", "email": email, "password": PASSWORD})
    link = link_to(outbox()[0], "/verify-email/")
    assert submit(client, link, {}).status_code == 302
    again = client.get(link)
    assert again.status_code == 400
    assert "This link has already been used." in again.get_data(as_text=True)


def test_opening_the_confirmation_link_does_not_use_it_up(app, client, outbox, email):
    # Mail scanners open links: only the button press may confirm.
    submit(client, "/register", {"name": "Ana", "email": email, "password": PASSWORD})
    link = link_to(outbox()[0], "/verify-email/")
    client.get(link)
    client.get(link)
    assert user_row(app, email).verified_at is None
    assert submit(client, link, {}).status_code == 302
    assert user_row(app, email).verified_at is not None


def test_unconfirmed_account_can_ask_for_a_new_confirmation_link(app, client, outbox, email):
    submit(client, "/register", {"name": "Ana", "email": email, "password": PASSWORD})
    refused = submit(client, "/sign-in", {"email": email, "password": PASSWORD})
    html = refused.get_data(as_text=True)
    assert 'action="/verify-email/resend"' in html
    response = client.post("/verify-email/resend", data={"csrf_token": csrf_token_from(html), "email": email})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/check-your-mail"
    first, second = outbox()
    assert link_to(first, "/verify-email/") != link_to(second, "/verify-email/")
    assert submit(client, link_to(second, "/verify-email/"), {}).status_code == 302
    assert submit(client, "/sign-in", {"email": email, "password": PASSWORD}).status_code == 302


def test_the_sign_in_page_with_the_confirmation_reminder_has_unique_ids(client, email):
    submit(client, "/register", {"name": "Ana", "email": email, "password": PASSWORD})
    html = submit(client, "/sign-in", {"email": email, "password": PASSWORD}).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_an_overlong_name_is_refused_with_the_bound(app, client, email):
    response = submit(client, "/register", {"name": "x" * 201, "email": email})
    assert response.status_code == 400
    assert "This is too long: at most 200 characters." in response.get_data(as_text=True)
    assert user_row(app, email) is None
