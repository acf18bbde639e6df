"""Fixtures of the issuing service tests: the world of ``tests/factories.py``, a resolver that never leaves the
process, and a helper that issues with sensible defaults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, current_app

from badgehub.issuing import service as issuing
from badgehub.verification.platform import build_resolver
from badgehub.verification.resolver import Resolver
from tests.factories import World, build_world


@pytest.fixture
def world(ctx: Flask, snapshot: Any) -> World:
    return snapshot(build_world)


def no_network(url: str) -> bytes:
    raise AssertionError(f"the verification tried to reach {url}")


@pytest.fixture
def resolver(ctx: Flask) -> Resolver:
    """The platform's own resolver (our documents from the database first), with a fetcher that fails the test."""
    return build_resolver(ctx, fetch=no_network)


@pytest.fixture
def issue(world: World) -> Callable[..., Any]:
    def run(achievement: Any = None, email: str = "lea@example.net", **options: Any) -> Any:
        chosen = achievement or world.repair
        options.setdefault("recipient_name", "Léa Martin")
        options.setdefault("actor_id", world.issuer_a.id)
        options.setdefault("source", "single")
        options.setdefault("config", current_app.config)
        return issuing.issue_credential(organisation=chosen.organisation, achievement=chosen,
                                        recipient_email=email, **options)

    return run


def days_ago(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
