"""The award e-mail's "See and keep your badge" button: multipart in the recipient's language, one signed link
that works once and signs in (or creates the account with the address verified) and opens the badge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from badgehub.accounts.models import User, WalletEmail
from badgehub.accounts.service import create_user, get_user_by_email
from badgehub.extensions import db
from tests.conftest import csrf_token_from, links_in, sign_in
from tests.factories import world_ids
from tests.functional.test_issuing_web import award_form, award_url


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(world_ids)


def award_by_form(client: Any, world: dict[str, Any], email: str = "lea@example.net") -> None:
    """Award through the form as the issuer, then leave the client signed out (the learner's device)."""
    sign_in(client, world["issuer_a"])
    response = client.post(award_url(world), data=award_form(client, award_url(world), recipient_email=email))
    assert response.status_code == 302
    with client.session_transaction() as session:
        session.clear()


def keep_link(message: Any) -> str:
    return next(link for link in links_in(message) if "/keep/" in link)


def press(client: Any, link: str) -> Any:
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    assert page.headers["Cache-Control"] == "no-store"
    return client.post(link, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_the_award_mail_is_text_and_html_in_the_recipient_s_language(client, world, outbox):
    award_by_form(client, world)
    [message] = outbox()
    assert message["Subject"] == "Atelier Vélo vous a décerné le badge «\u00a0Réparer une crevaison\u00a0»"
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert '<html lang="fr">' in html and "Voir et garder votre badge" in html
    assert "/achievements/" in html and "/image" in html  # the badge image, from the public address
    assert keep_link(message) in html and keep_link(message) in text
    assert "/sign-in" not in text  # no dead end: the button does the signing in


def test_the_button_creates_a_verified_account_signs_in_and_opens_the_badge(client, world, outbox, query):
    award_by_form(client, world)
    link = keep_link(outbox()[-1])
    page = client.get(link).get_data(as_text=True)
    assert "Réparer une crevaison" in page and "lea@example.net" in page
    assert query(lambda: get_user_by_email("lea@example.net")) is None  # opening uses nothing up
    response = press(client, link)
    assert response.status_code == 302 and response.headers["Location"].startswith("/wallet/c/")
    user = query(lambda: get_user_by_email("lea@example.net"))
    assert user is not None and user.is_verified and user.name == "Léa Martin"
    wallet = client.get(response.headers["Location"])
    assert wallet.status_code == 200 and "Réparer une crevaison" in wallet.get_data(as_text=True)


def test_the_link_works_once(client, world, outbox):
    award_by_form(client, world)
    link = keep_link(outbox()[-1])
    page = client.get(link)
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf_token_from(client.get("/verify").get_data(as_text=True))})
    again = client.get(link)
    assert again.status_code == 410
    body = again.get_data(as_text=True)
    assert "already been used" in body and "keep_link_used" not in body


def test_a_tampered_link_is_refused_in_words(client, world, outbox):
    award_by_form(client, world)
    link = keep_link(outbox()[-1])
    response = client.get(link[:-3] + "abc")
    assert response.status_code == 404 and "does not lead to a badge" in response.get_data(as_text=True)


def test_an_unconfirmed_account_is_confirmed_and_loses_a_password_set_before(client, world, outbox, setup, query):
    def build() -> None:
        create_user("lea@example.net", name="Léa", password="somebody-else-1")

    setup(build)
    award_by_form(client, world)
    response = press(client, keep_link(outbox()[-1]))
    assert response.status_code == 302
    user = query(lambda: get_user_by_email("lea@example.net"))
    assert user.is_verified and user.password_hash is None
    assert query(lambda: db.session.scalar(select(db.func.count(User.id)).where(
        User.email_key == "lea@example.net"))) == 1


def test_a_badge_sent_to_an_extra_address_signs_in_the_account_that_verified_it(client, world, outbox, setup):
    def build() -> None:
        owner = create_user("main@example.net", name="Léa", verified=True)
        db.session.add(WalletEmail(user_id=owner.id, email="lea@example.net", email_key="lea@example.net",
                                   verified_key="lea@example.net"))

    setup(build)
    award_by_form(client, world)
    response = press(client, keep_link(outbox()[-1]))
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"].startswith(str(setup(lambda: get_user_by_email("main@example.net").id)) + ":")
