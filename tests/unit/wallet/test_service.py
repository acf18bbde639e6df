"""The wallet service: the matching rule, holder DIDs for later credentials, the status cache, erasure hooks."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from badgehub.accounts import addresses as wallet_addresses
from badgehub.accounts import holder as holders
from badgehub.accounts.errors import AddressIsYours, AddressTaken, InvalidAddressLink, InvalidEmail, InvalidHolderDid
from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.live import verify_issued
from badgehub.issuing.models import IssuedCredential
from badgehub.organisations.models import Invitation, Role
from badgehub.verification.report import CheckStatus
from badgehub.wallet import erasure
from badgehub.wallet import imports as wallet_imports
from badgehub.wallet import service as wallet
from badgehub.wallet import shares as wallet_shares
from badgehub.wallet import status as wallet_status
from badgehub.wallet.errors import (
    LastOwner,
    ShareGone,
    ShareNotFound,
)
from tests.factories import World, build_world

DID = did_key_from_ed25519(bytes(range(32)))


@pytest.fixture
def world(ctx: Flask, snapshot: Any) -> World:
    return snapshot(build_world)


def issue(world: World, email: str, **options: Any) -> IssuedCredential:
    options.setdefault("config", current_app.config)
    return issuing.issue_credential(organisation=world.a, achievement=world.repair, recipient_email=email,
                                    recipient_name="", actor_id=None, source="cli", **options)


def test_the_matching_rule_ignores_case_and_spaces_but_not_plus_tags(world: World) -> None:
    learner = create_user("Ana@Example.org", verified=True)
    same = issue(world, "  ANA@example.ORG ")
    tagged = issue(world, "ana+velo@example.org")
    held = {credential.id for credential in wallet.wallet_credentials(learner)}
    assert same.id in held and tagged.id not in held


def test_an_unverified_account_holds_nothing_until_it_is_verified(world: World) -> None:
    learner = create_user("new@example.org")
    issue(world, "new@example.org")
    assert wallet.wallet_credentials(learner) == []
    learner.verified_at = dt.datetime.now(dt.UTC)
    assert len(wallet.wallet_credentials(learner)) == 1


def test_an_address_joins_the_wallet_only_once_confirmed_by_its_own_account(world: World) -> None:
    ana = create_user("ana@example.org", verified=True)
    eve = create_user("eve@example.org", verified=True)
    credential = issue(world, "ana.work@example.org")
    link = wallet_addresses.add_address(ana, "Ana.Work@example.org")
    assert wallet.wallet_credentials(ana) == []
    with pytest.raises(InvalidAddressLink):
        wallet_addresses.confirm_address(eve, link.token)
    wallet_addresses.confirm_address(ana, link.token)
    assert [c.id for c in wallet.wallet_credentials(ana)] == [credential.id]
    with pytest.raises(InvalidAddressLink):  # used up
        wallet_addresses.confirm_address(ana, link.token)
    with pytest.raises(AddressTaken):
        wallet_addresses.confirm_address(eve, wallet_addresses.add_address(eve, "ana.work@example.org").token)
    with pytest.raises(AddressIsYours):
        wallet_addresses.add_address(ana, " ANA@example.org")
    with pytest.raises(InvalidEmail):
        wallet_addresses.add_address(ana, "not an address")


def test_an_expired_confirmation_link_is_refused(world: World) -> None:
    ana = create_user("ana@example.org", verified=True)
    then = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    link = wallet_addresses.add_address(ana, "old@example.org", now=then)
    with pytest.raises(InvalidAddressLink):
        wallet_addresses.confirm_address(ana, link.token, now=then + wallet_addresses.ADDRESS_LINK_LIFETIME)


@pytest.mark.parametrize("value", ["did:web:example.org", "did:key:zNotAKey", "did:key:z6Mk", "hello",
                                   "did:key:" + "z" * 600])
def test_only_an_ed25519_did_key_is_accepted_as_holder_did(world: World, value: str) -> None:
    ana = create_user("ana@example.org", verified=True)
    with pytest.raises(InvalidHolderDid):
        holders.set_holder_did(ana, value)


def test_credentials_issued_after_a_did_is_added_carry_it_and_verify(world: World, app: Flask) -> None:
    ana = create_user("ana@example.org", verified=True)
    link = wallet_addresses.add_address(ana, "ana@work.example.org")
    before = issue(world, "ana@work.example.org")
    wallet_addresses.confirm_address(ana, link.token)
    holders.set_holder_did(ana, DID)
    after_primary = issue(world, "ANA@example.org")
    after_extra = issue(world, "ana@work.example.org")
    given = issue(world, "ana@example.org", holder_did="did:example:given")
    subject = lambda c: json.loads(c.document_json)["credentialSubject"]  # noqa: E731
    assert "id" not in subject(before)
    assert subject(after_primary)["id"] == DID and subject(after_extra)["id"] == DID
    assert after_extra.holder_did == DID
    assert subject(given)["id"] == "did:example:given"  # an explicit DID wins
    report = verify_issued(app, after_extra).report
    assert report.verified and report.check("proof").status is CheckStatus.PASSED
    holders.set_holder_did(ana, "")
    assert "id" not in subject(issue(world, "ana@example.org"))


def test_the_status_cache_sees_a_revocation_at_once(world: World, app: Flask) -> None:
    credential = issue(world, "ana@example.org")
    assert verify_issued(app, credential).report.revoked is False
    issuing.revoke_credential(credential, note="erreur", actor_id=None, config=current_app.config)
    assert verify_issued(app, credential).report.revoked is True


def test_a_share_answers_only_while_live(world: World) -> None:
    ana = create_user("ana@example.org", verified=True)
    credential = issue(world, "ana@example.org")
    now = dt.datetime.now(dt.UTC)
    share = wallet_shares.create_share(ana, title="CV", credential_ids=[credential.public_id],
                                expires_at=now + dt.timedelta(hours=1), now=now)
    assert wallet_shares.public_share(share.token, now=now).id == share.id
    with pytest.raises(ShareGone):
        wallet_shares.public_share(share.token, now=now + dt.timedelta(hours=1))
    wallet_shares.revoke_share(ana, share.id, now=now)
    with pytest.raises(ShareGone):
        wallet_shares.public_share(share.token, now=now)
    with pytest.raises(ShareNotFound):
        wallet_shares.public_share("x" * 24)


def test_an_address_removed_takes_its_credentials_off_the_shares(world: World) -> None:
    ana = create_user("ana@example.org", verified=True)
    link = wallet_addresses.add_address(ana, "ana@work.example.org")
    wallet_addresses.confirm_address(ana, link.token)
    credential = issue(world, "ana@work.example.org")
    share = wallet_shares.create_share(ana, title="CV", credential_ids=[credential.public_id])
    assert wallet_shares.shared_items(share).credentials == [credential]
    wallet_addresses.remove_address(ana, link.address.id)
    assert wallet_shares.shared_items(share).credentials == []


def test_erasers_of_other_domains_are_resolved_lazily_and_missing_ones_skipped(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    # A library's logging setup earlier in the same worker may have disabled existing loggers: the records are
    # taken from the module's logger itself, whatever happened to propagation.
    monkeypatch.setattr(erasure.log, "disabled", False)
    erasure.log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG, logger="badgehub.wallet.erasure"):
            found = erasure.resolve_erasers(("badgehub.no_such_module:erase_personal_data",
                                             "badgehub.wallet.service:no_such_function",
                                             "badgehub.claims.service:erase_personal_data"))
    finally:
        erasure.log.removeHandler(caplog.handler)
    assert [function.__module__ for function in found] == ["badgehub.claims.service"]
    assert "module not found" in caplog.text and "function not found" in caplog.text
    assert len(erasure.resolve_erasers()) == len(erasure.PERSONAL_DATA_ERASERS)


def test_erasure_calls_every_other_domains_eraser_with_the_verified_keys(world: World,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ana = create_user("ana@example.org", verified=True)
    link = wallet_addresses.add_address(ana, "Ana@Work.example.org")
    wallet_addresses.confirm_address(ana, link.token)
    wallet_addresses.add_address(ana, "unproven@example.org")
    first, second, other = (issue(world, "ana@example.org"), issue(world, "ana@work.example.org"),
                            issue(world, "bob@example.org"))
    invitation = Invitation(organisation_id=world.a.id, email="Ana@Work.example.org ", role=Role.ISSUER,
                            token_hash="0" * 64, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    db.session.add(invitation)
    db.session.flush()
    seen: list[set[str]] = []
    monkeypatch.setattr(erasure, "resolve_erasers", lambda *args: [lambda keys: seen.append(keys) or 3])
    result = erasure.erase_account(ana, actor_id=ana.id, config=current_app.config)
    assert seen == [{"ana@example.org", "ana@work.example.org"}]  # an unproven address may be somebody else's
    assert result.other_rows == 3 and result.credentials_blanked == 2 and result.wallet["invitations"] == 1
    db.session.expire_all()
    tombstones = {first.recipient_email_key, second.recipient_email_key}
    # One random tombstone per erasure: it matches no address, and still counts as one learner.
    assert len(tombstones) == 1 and next(iter(tombstones)).startswith("erased:") and "@" not in tombstones.pop()
    assert (first.recipient_email, first.recipient_name, first.holder_did) == ("", "", None)
    assert other.recipient_email == "bob@example.org"
    assert db.session.scalar(select(Invitation.id)) is None


def test_the_only_owner_of_an_organisation_cannot_erase_the_account(world: World) -> None:
    with pytest.raises(LastOwner) as raised:
        erasure.erase_account(world.owner_b, actor_id=world.owner_b.id, config=current_app.config)
    assert raised.value.details == {"organisations": [world.b.slug]}
    assert db.session.get(User, world.owner_b.id) is not None


def test_an_imported_badge_is_kept_as_given_with_the_verdict_of_its_import(world: World, app: Flask) -> None:
    from badgehub.wallet.demo import IMPORTED_BADGE

    ana = create_user("ana@example.org", verified=True)
    then = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    row = wallet_imports.import_credential(app, ana, kind="file", data=IMPORTED_BADGE.read_bytes(), now=then)
    assert row.raw == IMPORTED_BADGE.read_bytes() and row.format == "json" and row.last_checked_at == then
    later = then + dt.timedelta(days=30)
    app.extensions.pop(wallet_status.STATUS_CACHE_EXTENSION)  # the cache has expired
    assert wallet_status.imported_report(app, row, now=later) is not None
    # Looking at it again verifies it again, and writes nothing.
    assert row.last_checked_at == then and row.last_verdict == "verified" and not db.session.is_modified(row)


def test_the_status_cache_sees_an_expiry_at_once(world: World, app: Flask) -> None:
    # The workshop badge is valid for a limited time: issued long enough ago, it expires a minute from now.
    days = world.workshop.current_version.valid_for_days
    assert days
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(days=days) + dt.timedelta(minutes=1)
    credential = issuing.issue_credential(organisation=world.a, achievement=world.workshop,
                                          recipient_email="ana@example.org", recipient_name="", actor_id=None,
                                          source="cli", now=issued, config=current_app.config)
    assert verify_issued(app, credential).report.expired is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert verify_issued(app, credential, now=later).report.expired is True
