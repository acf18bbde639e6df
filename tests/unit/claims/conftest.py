"""Fixtures of the claims service tests: the issuing world and a campaign helper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from badgehub.claims import service as claims
from badgehub.db import utcnow
from tests.factories import World, build_world


@pytest.fixture
def world(ctx: Flask, snapshot: Any) -> World:
    return snapshot(build_world)


@pytest.fixture
def campaign(world: World) -> Callable[..., Any]:
    """Create a campaign of organisation A's "repair" badge, open for a day from an hour ago."""

    def run(**options: Any) -> Any:
        now = utcnow()
        fields = claims.CampaignFields(
            achievement_public_id=options.pop("achievement", world.repair).public_id,
            title=options.pop("title", "Atelier du samedi"),
            opens_at=options.pop("opens_at", now - dt.timedelta(hours=1)),
            closes_at=options.pop("closes_at", now + dt.timedelta(days=1)),
            max_claims=options.pop("max_claims", None))
        return claims.create_campaign(options.pop("organisation", world.a), options.pop("actor", world.issuer_a),
                                      fields, **options)

    return run
