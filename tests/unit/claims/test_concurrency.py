"""The cap of a claim campaign holds when many participants confirm at the same moment (PostgreSQL).

Each confirmation runs in its own process with its own app and connection pool, like gunicorn workers; a
barrier makes them start together. SQLite is skipped: it has a single writer, so there is no race to test.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import traceback
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub import create_app
from badgehub.claims import service as claims
from badgehub.claims.errors import CampaignFull
from badgehub.claims.models import Claim, ClaimCampaign, ClaimState
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from tests.conftest import base_test_config
from tests.factories import build_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("BADGEHUB_TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="concurrency needs PostgreSQL (set BADGEHUB_TEST_DATABASE_URL); SQLite has one writer"),
]

CAP = 5
PARTICIPANTS = 20
_CONTEXT = multiprocessing.get_context("fork")


def _confirm(url: str, instance: str, barrier: Any, results: Any, code: str, token: str) -> None:
    try:
        app = create_app(base_test_config(url, Path(instance)))
        with app.app_context():
            barrier.wait(timeout=60)
            try:
                done = claims.confirm_claim(code, token, config=current_app.config)
                db.session.commit()
                results.put(("issued", done.credential.public_id))
            except CampaignFull:
                db.session.rollback()
                results.put(("full", None))
            db.session.remove()
            db.engine.dispose()
    except BaseException:  # report everything to the parent, which fails the test with it
        results.put(("error", traceback.format_exc()))


def test_concurrent_confirmations_never_go_beyond_the_cap(fresh_database, tmp_path):
    url = str(fresh_database())
    app = create_app(base_test_config(url, tmp_path))
    with app.app_context():
        world = build_world()
        campaign = claims.create_campaign(world.a, world.issuer_a, claims.CampaignFields(
            achievement_public_id=world.repair.public_id, closes_at=utcnow() + dt.timedelta(hours=2),
            max_claims=CAP))
        tokens = [claims.request_claim(campaign, f"person{n}@example.net").token for n in range(PARTICIPANTS)]
        code = campaign.short_code
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    barrier = _CONTEXT.Barrier(PARTICIPANTS)
    results = _CONTEXT.Queue()
    processes = [_CONTEXT.Process(target=_confirm, args=(url, str(tmp_path), barrier, results, code, token))
                 for token in tokens]
    for process in processes:
        process.start()
    answers = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [detail for status, detail in answers if status == "error"]
    assert not errors, errors[0]
    outcomes = [status for status, _ in answers]
    assert outcomes.count("issued") == CAP and outcomes.count("full") == PARTICIPANTS - CAP

    with app.app_context():
        assert db.session.scalar(select(func.count(IssuedCredential.id))) == CAP
        assert db.session.scalar(select(func.count(Claim.id)).where(Claim.state == ClaimState.CONFIRMED)) == CAP
        assert db.session.scalars(select(ClaimCampaign.claimed_count)).one() == CAP
        db.session.remove()
        db.engine.dispose()
