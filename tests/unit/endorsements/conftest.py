"""Fixtures of the endorsement tests: the issuing world (two organisations of Évry) and a credential of A's."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, current_app

from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.verification.platform import build_resolver
from badgehub.verification.resolver import Resolver
from tests.factories import World, build_world


@pytest.fixture
def world(ctx: Flask, snapshot: Any) -> World:
    return snapshot(build_world)


@pytest.fixture
def credential(world: World) -> IssuedCredential:
    return issuing.issue_credential(
        organisation=world.a, achievement=world.repair, recipient_email="lea@example.net", recipient_name="Léa",
        actor_id=world.issuer_a.id, source="single", config=current_app.config)


def no_network(url: str) -> bytes:
    raise AssertionError(f"the verification tried to reach {url}")


@pytest.fixture
def resolver(ctx: Flask) -> Resolver:
    return build_resolver(ctx, fetch=no_network)
