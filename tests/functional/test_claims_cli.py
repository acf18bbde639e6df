"""``badgehub claims purge`` deletes the pending claims that can no longer be confirmed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from badgehub.claims import service as claims
from badgehub.claims.models import Claim
from badgehub.db import utcnow
from badgehub.extensions import db
from tests.factories import build_world


def test_purge_deletes_the_claims_of_a_campaign_closed_early(runner: Any, setup: Any, query: Any) -> None:
    def build() -> None:
        world = build_world()
        fields = claims.CampaignFields(achievement_public_id=world.repair.public_id,
                                       closes_at=utcnow() + dt.timedelta(hours=2))
        open_one = claims.create_campaign(world.a, world.owner_a, fields)
        closed = claims.create_campaign(world.a, world.owner_a, fields)
        claims.request_claim(open_one, "kept@example.net")
        claims.request_claim(closed, "gone@example.net")
        claims.close_campaign(closed, world.owner_a)

    setup(build)
    result = runner.invoke(args=["claims", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 pending claim(s) deleted"
    assert query(lambda: db.session.scalars(select(Claim.email)).all()) == ["kept@example.net"]
