"""Signed-in devices are rows in the database: signing out ends the copied cookies too, remember-me rotates."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from badgehub.accounts.models import UserSession
from badgehub.accounts.service import create_user
from badgehub.accounts.sessions import ROTATION_GRACE
from badgehub.extensions import db
from badgehub.web.sessions import REMEMBER_COOKIE
from tests.functional.account_helpers import PASSWORD, signed_in, submit


@pytest.fixture
def email():
    return f"dev.{uuid.uuid4().hex[:10]}@example.org"


@pytest.fixture
def user(app, email):
    with app.app_context():
        created = create_user(email, name="Dev", password=PASSWORD, verified=True)
        db.session.commit()
        return created.id


def sign_in_with_password(client, email, *, remember=False):
    fields = {"email": email, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    response = submit(client, "/sign-in", fields, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
                                                                         "Firefox/130.0"})
    assert response.status_code == 302


def copy_cookies(source, target):
    for name in ("session", REMEMBER_COOKIE):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def device_count(app, user_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


def test_a_session_cookie_copied_before_sign_out_no_longer_opens_the_account(app, client, user, email):
    # Regression: a session cookie copied before /sign-out still opened /account and owner pages.
    sign_in_with_password(client, email)
    thief = app.test_client()
    copy_cookies(client, thief)
    assert signed_in(thief)
    submit(client, "/verify", {}, to="/sign-out")
    assert not signed_in(client)
    assert not signed_in(thief)
    assert device_count(app, user) == 0


def test_a_remember_cookie_copied_before_sign_out_no_longer_signs_in(app, client, user, email):
    # Regression: the remember-me cookie (about a year) kept working after sign-out.
    sign_in_with_password(client, email, remember=True)
    thief = app.test_client()
    thief.set_cookie(REMEMBER_COOKIE, client.get_cookie(REMEMBER_COOKIE).value)
    submit(client, "/verify", {}, to="/sign-out")
    assert client.get_cookie(REMEMBER_COOKIE) is None
    assert not signed_in(thief)


def test_the_remember_cookie_is_replaced_each_time_it_is_used(app, client, user, email):
    sign_in_with_password(client, email, remember=True)
    first = client.get_cookie(REMEMBER_COOKIE).value
    client.delete_cookie("session")  # the browser was closed
    assert signed_in(client)
    second = client.get_cookie(REMEMBER_COOKIE).value
    assert second != first
    client.delete_cookie("session")
    assert signed_in(client)
    assert client.get_cookie(REMEMBER_COOKIE).value not in (first, second)


def test_a_replaced_remember_cookie_used_later_ends_the_session(app, client, user, email, monkeypatch):
    sign_in_with_password(client, email, remember=True)
    stolen = client.get_cookie(REMEMBER_COOKIE).value
    client.delete_cookie("session")
    assert signed_in(client)  # the owner's browser uses it first: it is replaced
    later = dt.datetime.now(dt.UTC) + ROTATION_GRACE + dt.timedelta(seconds=5)
    monkeypatch.setattr("badgehub.accounts.sessions.utcnow", lambda: later)
    thief = app.test_client()
    thief.set_cookie(REMEMBER_COOKIE, stolen)
    assert not signed_in(thief)
    # Someone kept a copy: the device is signed out, the owner signs in again.
    assert device_count(app, user) == 0
    assert not signed_in(client)


def test_the_account_page_lists_devices_and_signs_out_another_one(app, client, user, email):
    sign_in_with_password(client, email)
    laptop = app.test_client()
    sign_in_with_password(laptop, email, remember=True)
    page = client.get("/account").get_data(as_text=True)
    assert page.count("<strong>Firefox on Linux</strong>") == 2
    assert "this device" in page and "kept signed in" in page
    with app.app_context():
        laptop_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user,
                                                                   UserSession.remember_hash.is_not(None)))
    response = submit(client, "/account", {}, to=f"/account/devices/{laptop_id}/sign-out")
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(laptop)
    laptop.delete_cookie("session")
    assert not signed_in(laptop)


def test_signing_out_this_device_from_its_list_signs_out(app, client, user, email):
    sign_in_with_password(client, email)
    with app.app_context():
        device_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == user))
    submit(client, "/account", {}, to=f"/account/devices/{device_id}/sign-out")
    assert not signed_in(client)


def test_nobody_signs_out_the_device_of_someone_else(app, client, user, email):
    other = app.test_client()
    other_email = f"other.{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        create_user(other_email, name="Other", password=PASSWORD, verified=True)
        db.session.commit()
    sign_in_with_password(other, other_email)
    sign_in_with_password(client, email)
    with app.app_context():
        device_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id != user))
    response = submit(client, "/account", {}, to=f"/account/devices/{device_id}/sign-out")
    assert response.status_code == 404
    assert signed_in(other)


def test_sign_out_everywhere_keeps_only_this_device(app, client, user, email):
    sign_in_with_password(client, email, remember=True)
    others = [app.test_client() for _ in range(2)]
    for other in others:
        sign_in_with_password(other, email, remember=True)
    submit(client, "/account", {}, to="/account/sign-out-everywhere")
    assert device_count(app, user) == 1
    assert signed_in(client)
    client.delete_cookie("session")
    assert signed_in(client)  # still remembered
    for other in others:
        other.delete_cookie("session")
        assert not signed_in(other)
