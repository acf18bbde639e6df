"""Fixtures of the recognition tests: the world of Évry and a learner with a confirmed address."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from badgehub.accounts.models import User
from badgehub.accounts.service import create_user
from badgehub.verification.platform import build_resolver
from badgehub.verification.resolver import Resolver
from tests.factories import World, build_world


@pytest.fixture
def world(ctx: Flask, snapshot: Any) -> World:
    return snapshot(build_world)


@pytest.fixture
def learner(world: World) -> User:
    user = create_user("lea@example.net", name="Léa", verified=True)
    user.locale = "fr"
    return user


def no_network(url: str) -> bytes:
    raise AssertionError(f"the verification tried to reach {url}")


@pytest.fixture
def resolver(ctx: Flask) -> Resolver:
    return build_resolver(ctx, fetch=no_network)
