"""The rules of accounts.service, called directly (no HTTP): identity, passwords, one-time links."""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
import time
from functools import partial

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub.accounts import service as accounts
from badgehub.accounts.errors import (
    BadCredentials,
    EmailNotVerified,
    EmailTaken,
    InvalidEmail,
    InvalidLink,
    InvalidLocale,
    InvalidName,
    LinkExpired,
    LinkUsed,
    PasswordTooLong,
    PasswordTooShort,
    WrongPassword,
)
from badgehub.accounts.models import EmailToken, TokenPurpose, User
from badgehub.extensions import db

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def verified_user(email="ana@example.org", password=PASSWORD):
    return accounts.create_user(email, name="Ana", password=password, verified=True)


def test_email_key_ignores_case_and_surrounding_spaces():
    assert accounts.email_key("  Ana.Diallo@Example.ORG ") == "ana.diallo@example.org"


def test_the_same_address_in_another_case_is_taken(ctx):
    accounts.create_user("Ana@Example.org")
    before = count(User)
    with pytest.raises(EmailTaken):
        accounts.create_user(" ana@EXAMPLE.org ")
    assert count(User) == before


def test_a_clash_only_the_database_sees_is_email_taken_and_leaves_the_session_usable(ctx):
    # As when another request inserts the same address between our look-up and our insert: here a row
    # waiting unflushed, invisible to the look-up, plays the other request.
    with db.session.no_autoflush:
        db.session.add(User(email="ana@example.org", email_key="ana@example.org"))
        with pytest.raises(EmailTaken):
            accounts.create_user("ANA@example.org")
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email_key == "ana@example.org")) <= 1
    accounts.create_user("other@example.org")


@pytest.mark.parametrize("address", ["", "ana", "ana@", "ana@@x.org", "ana @x.org", "a" * 250 + "@x.org"])
def test_malformed_addresses_are_refused(ctx, address):
    with pytest.raises(InvalidEmail):
        accounts.create_user(address)


def test_password_policy_bounds():
    with pytest.raises(PasswordTooShort) as short:
        accounts.validate_password("x" * (accounts.PASSWORD_MIN_LENGTH - 1))
    assert str(accounts.PASSWORD_MIN_LENGTH) in str(short.value.message)
    assert accounts.validate_password("x" * accounts.PASSWORD_MIN_LENGTH)
    assert accounts.validate_password("x" * accounts.PASSWORD_MAX_LENGTH)
    with pytest.raises(PasswordTooLong):
        accounts.validate_password("x" * (accounts.PASSWORD_MAX_LENGTH + 1))


def test_passwords_are_compared_after_unicode_normalisation(ctx):
    # "ﬁ" (one ligature character) and "fi" are the same password once normalised (NFKC).
    accounts.create_user("ana@example.org", password="ﬁrst light of day", verified=True)
    assert accounts.authenticate("ana@example.org", "first light of day").email == "ana@example.org"


def test_passwords_are_stored_hashed(ctx):
    user = verified_user()
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_names_are_tidied_and_bounded():
    assert accounts.normalise_name("  Ana \n  Diallo ") == "Ana Diallo"
    for bad in ["", "   ", "x" * 201, "Ana\u202e", "Ana\x00"]:
        with pytest.raises(InvalidName):
            accounts.normalise_name(bad)
    assert accounts.normalise_name("", required=False) == ""


def test_register_with_a_password_issues_a_confirmation_link(ctx):
    issued = accounts.register("ana@example.org", name="Ana", config=current_app.config, password=PASSWORD, locale="fr",
                               now=T0)
    assert issued.purpose is TokenPurpose.VERIFY_EMAIL
    assert issued.expires_at == T0 + accounts.VERIFY_EMAIL_LIFETIME
    assert not issued.user.is_verified and issued.user.locale == "fr"


def test_register_without_a_password_issues_a_sign_in_link(ctx):
    issued = accounts.register("ana@example.org", name="Ana", config=current_app.config, now=T0)
    assert issued.purpose is TokenPurpose.SIGN_IN
    assert issued.expires_at == T0 + dt.timedelta(minutes=ctx.config["LOGIN_LINK_MINUTES"])


def test_register_refuses_an_unknown_language(ctx):
    with pytest.raises(InvalidLocale):
        accounts.register("ana@example.org", name="Ana", config=current_app.config, locale="xx")


def test_only_the_sha256_of_a_link_is_stored(ctx):
    issued = accounts.issue_sign_in_link(verified_user(), config=current_app.config)
    row = db.session.scalar(select(EmailToken))
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in {row.token_hash, str(row.id)}
    assert len(issued.token) >= 43  # 32 random bytes


def test_a_link_works_until_it_expires(ctx):
    user = verified_user()
    lifetime = accounts.login_link_lifetime(current_app.config)
    issued = accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    with pytest.raises(LinkExpired):
        accounts.check_link(issued.token, TokenPurpose.SIGN_IN, now=T0 + lifetime)
    result = accounts.sign_in_with_link(issued.token, now=T0 + lifetime - dt.timedelta(seconds=1))
    assert result.user.id == user.id


def test_an_expired_link_cannot_be_used(ctx):
    issued = accounts.issue_sign_in_link(verified_user(), now=T0, config=current_app.config)
    with pytest.raises(LinkExpired):
        accounts.sign_in_with_link(issued.token, now=T0 + accounts.login_link_lifetime(current_app.config))
    assert db.session.scalar(select(EmailToken.used_at)) is None


def test_a_link_works_once(ctx):
    issued = accounts.issue_sign_in_link(verified_user(), now=T0, config=current_app.config)
    accounts.sign_in_with_link(issued.token, now=T0)
    with pytest.raises(LinkUsed):
        accounts.sign_in_with_link(issued.token, now=T0)
    with pytest.raises(LinkUsed):
        accounts.check_link(issued.token, TokenPurpose.SIGN_IN, now=T0)


def test_looking_at_a_link_does_not_use_it(ctx):
    issued = accounts.issue_sign_in_link(verified_user(), now=T0, config=current_app.config)
    for _ in range(3):
        accounts.check_link(issued.token, TokenPurpose.SIGN_IN, now=T0)
    assert accounts.sign_in_with_link(issued.token, now=T0).user is issued.user


def test_a_link_serves_only_its_purpose(ctx):
    user = verified_user()
    reset = accounts.issue_password_reset(user, now=T0, config=current_app.config)
    verify = accounts.issue_email_verification(user, now=T0)
    with pytest.raises(InvalidLink):
        accounts.sign_in_with_link(reset.token, now=T0)
    with pytest.raises(InvalidLink):
        accounts.sign_in_with_link(verify.token, now=T0)
    with pytest.raises(InvalidLink):
        accounts.confirm_email(reset.token, now=T0)


@pytest.mark.parametrize("token", ["", "nope", "x" * 101])
def test_unknown_links_are_invalid(ctx, token):
    with pytest.raises(InvalidLink) as raised:
        accounts.sign_in_with_link(token)
    assert raised.value.code == "invalid_link"


def test_a_sign_in_link_confirms_the_address(ctx):
    user = accounts.create_user("ana@example.org")
    issued = accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    result = accounts.sign_in_with_link(issued.token, now=T0)
    assert result.verified_now and not result.password_removed
    assert user.verified_at == T0 and user.last_signed_in_at == T0


def test_a_password_set_before_the_address_was_proven_is_dropped_by_a_sign_in_link(ctx):
    user = accounts.create_user("ana@example.org", password=PASSWORD)
    issued = accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    result = accounts.sign_in_with_link(issued.token, now=T0)
    assert result.password_removed and user.password_hash is None


def test_a_password_set_after_the_address_was_proven_stays(ctx):
    user = verified_user()
    issued = accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    result = accounts.sign_in_with_link(issued.token, now=T0)
    assert not result.verified_now and not result.password_removed
    assert user.password_hash is not None


def test_confirming_the_address_keeps_the_password(ctx):
    issued = accounts.register("ana@example.org", name="Ana", config=current_app.config, password=PASSWORD, now=T0)
    user = accounts.confirm_email(issued.token, now=T0)
    assert user.is_verified
    assert accounts.authenticate("ana@example.org", PASSWORD) is user


def test_authenticate_refuses_unknown_passwordless_and_wrong_alike(ctx):
    verified_user()
    accounts.create_user("links@example.org", verified=True)
    for email, password in [("nobody@example.org", PASSWORD), ("links@example.org", ""),
                            ("ana@example.org", "wrong password"), ("ana@example.org", "x" * 10_000)]:
        with pytest.raises(BadCredentials):
            accounts.authenticate(email, password)


def test_authenticate_waits_for_a_confirmed_address(ctx):
    accounts.create_user("ana@example.org", password=PASSWORD)
    with pytest.raises(EmailNotVerified):
        accounts.authenticate("ana@example.org", PASSWORD)
    with pytest.raises(BadCredentials):
        accounts.authenticate("ana@example.org", "wrong password")


def test_authenticate_records_the_time(ctx):
    user = verified_user()
    accounts.authenticate("ANA@example.org", PASSWORD, now=T0)
    assert user.last_signed_in_at == T0


def test_passwords_are_hashed_with_scrypt_at_its_production_cost(ctx, cheap_password_hashes, monkeypatch):
    # The suite hashes at a lower cost for speed (tests/conftest.py); this is the cost a real installation pays.
    monkeypatch.setattr(accounts, "PASSWORD_HASH_METHOD", cheap_password_hashes)
    user = verified_user()
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert accounts.authenticate("ana@example.org", PASSWORD) is user
    with pytest.raises(BadCredentials):
        accounts.authenticate("ana@example.org", "wrong password")


def _median_seconds(call, rounds=5):
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        with pytest.raises(BadCredentials):
            call()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def test_an_unknown_address_costs_as_much_time_as_a_wrong_password(ctx):
    verified_user()
    wrong = _median_seconds(lambda: accounts.authenticate("ana@example.org", "wrong password"))
    unknown = _median_seconds(lambda: accounts.authenticate("nobody@example.org", "wrong password"))
    # Without the dummy hash an unknown address answers about a thousand times faster.
    assert unknown > wrong / 3


def test_requests_for_unknown_addresses_issue_nothing_but_answer(ctx):
    for request in (partial(accounts.request_sign_in_link, config=ctx.config),
                    partial(accounts.request_password_reset, config=ctx.config), accounts.request_email_verification):
        answer = request(" Nobody@EXAMPLE.org ")
        assert answer.address == "Nobody@example.org"
        assert answer.user is None and answer.issued is None
    assert count(EmailToken) == 0


def test_requests_for_malformed_addresses_are_refused(ctx):
    for request in (partial(accounts.request_sign_in_link, config=ctx.config),
                    partial(accounts.request_password_reset, config=ctx.config), accounts.request_email_verification):
        with pytest.raises(InvalidEmail):
            request("not an address")


def test_a_confirmation_is_sent_again_only_to_an_unconfirmed_address(ctx):
    verified_user()
    accounts.create_user("new@example.org", password=PASSWORD)
    confirmed = accounts.request_email_verification("ana@example.org")
    assert confirmed.user is not None and confirmed.issued is None
    waiting = accounts.request_email_verification("new@example.org")
    assert waiting.issued is not None and waiting.issued.purpose is TokenPurpose.VERIFY_EMAIL


def test_reset_sets_the_password_ends_sessions_and_voids_waiting_links(ctx):
    user = verified_user()
    version = user.session_version
    waiting_sign_in = accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    other_reset = accounts.issue_password_reset(user, now=T0, config=current_app.config)
    reset = accounts.issue_password_reset(user, now=T0, config=current_app.config)
    accounts.reset_password(reset.token, "a brand new passphrase", now=T0)
    assert user.session_version == version + 1
    assert accounts.load_user_for_session(f"{user.id}:{version}") is None
    assert accounts.load_user_for_session(user.get_id()) is user
    for token in (waiting_sign_in.token, other_reset.token):
        with pytest.raises(InvalidLink):
            accounts.sign_in_with_link(token, now=T0) if token == waiting_sign_in.token else \
                accounts.reset_password(token, "another passphrase", now=T0)
    with pytest.raises(LinkUsed):
        accounts.reset_password(reset.token, "yet another passphrase", now=T0)
    assert accounts.authenticate("ana@example.org", "a brand new passphrase") is user


def test_a_refused_new_password_leaves_the_reset_link_usable(ctx):
    user = verified_user()
    reset = accounts.issue_password_reset(user, now=T0, config=current_app.config)
    with pytest.raises(PasswordTooShort):
        accounts.reset_password(reset.token, "short", now=T0)
    accounts.reset_password(reset.token, "long enough now", now=T0)


def test_an_expired_reset_link_is_refused_before_the_password_is_judged(ctx):
    reset = accounts.issue_password_reset(verified_user(), now=T0, config=current_app.config)
    with pytest.raises(LinkExpired):
        accounts.reset_password(reset.token, "short", now=T0 + dt.timedelta(days=1))


def test_change_password_needs_the_current_one_when_there_is_one(ctx):
    user = verified_user()
    version = user.session_version
    with pytest.raises(WrongPassword):
        accounts.change_password(user, current_password="wrong", new_password="a brand new passphrase")
    with pytest.raises(WrongPassword):
        accounts.change_password(user, current_password=None, new_password="a brand new passphrase")
    accounts.change_password(user, current_password=PASSWORD, new_password="a brand new passphrase")
    assert user.session_version == version + 1
    passwordless = accounts.create_user("links@example.org", verified=True)
    accounts.change_password(passwordless, current_password=None, new_password="my first password")
    assert accounts.authenticate("links@example.org", "my first password") is passwordless


def test_sign_out_everywhere_invalidates_every_session_id(ctx):
    user = verified_user()
    old = user.get_id()
    accounts.sign_out_everywhere(user)
    assert accounts.load_user_for_session(old) is None
    assert accounts.load_user_for_session(user.get_id()) is user


@pytest.mark.parametrize("session_id", ["", "1", "x:1", "1:x", ":", "1:1:1", "-1:1"])
def test_malformed_session_ids_load_nobody(ctx, session_id):
    verified_user()
    assert accounts.load_user_for_session(session_id) is None


def test_change_name_and_locale(ctx):
    user = verified_user()
    accounts.change_name(user, " Ana  Diallo ")
    accounts.change_locale(user, "fr")
    assert (user.name, user.locale) == ("Ana Diallo", "fr")
    with pytest.raises(InvalidLocale):
        accounts.change_locale(user, "de")
    with pytest.raises(InvalidName):
        accounts.change_name(user, " ")


def test_old_expired_links_are_purged_when_a_new_one_is_issued(ctx):
    user = verified_user()
    accounts.issue_sign_in_link(user, now=T0, config=current_app.config)
    recent = accounts.issue_sign_in_link(user, now=T0 + accounts.TOKEN_RETENTION, config=current_app.config)
    later = T0 + accounts.TOKEN_RETENTION + accounts.login_link_lifetime(current_app.config) + dt.timedelta(seconds=1)
    accounts.issue_sign_in_link(user, now=later, config=current_app.config)
    assert count(EmailToken) == 2
    with pytest.raises(LinkExpired):
        accounts.check_link(recent.token, TokenPurpose.SIGN_IN, now=later)
