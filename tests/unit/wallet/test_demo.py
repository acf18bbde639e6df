"""The demo learner's wallet: a share link of their badges and one badge imported from elsewhere, seeded once."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.verification import fetch as fetch_module
from badgehub.wallet import status as wallet_status
from badgehub.wallet.demo import IMPORTED_BADGE, SHARE_TITLE, seed_demo_wallet
from badgehub.wallet.models import ImportedCredential, WalletShare
from tests.factories import build_world


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


def test_the_demo_learner_gets_a_share_link_and_an_imported_badge_once(ctx: Flask) -> None:
    world = build_world()
    learner = create_user("lucas@example.net", verified=True)
    credential = issuing.issue_credential(organisation=world.a, achievement=world.repair,
                                          recipient_email="lucas@example.net", recipient_name="Lucas",
                                          actor_id=None, source="demo", config=current_app.config)
    share = seed_demo_wallet("lucas@example.net")
    assert share is not None and share.title == SHARE_TITLE and share.is_live()
    imported = db.session.scalars(select(ImportedCredential)).one()
    assert imported.user_id == learner.id and imported.raw == IMPORTED_BADGE.read_bytes()
    report = wallet_status.imported_report(ctx, imported)
    assert report is not None and report.verified
    assert {item.credential_id for item in share.items} == {credential.id, None}
    again = seed_demo_wallet("lucas@example.net")
    assert again is not None and again.id == share.id
    assert db.session.scalar(select(func.count(WalletShare.id))) == 1
    assert db.session.scalar(select(func.count(ImportedCredential.id))) == 1


def test_no_learner_no_wallet(ctx: Flask) -> None:
    assert seed_demo_wallet("nobody@example.net") is None
