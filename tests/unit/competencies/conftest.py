"""Builders for the competency service tests: two territories with their coordinators, and people without rights."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from badgehub.accounts.service import create_user
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.territory.service import add_coordinator, create_territory

_counter = itertools.count(1)


@dataclass
class Territories:
    evry: Any
    lyon: Any
    coordinator: Any
    lyon_coordinator: Any
    admin: Any
    stranger: Any


@pytest.fixture
def world(ctx: Any) -> Territories:
    evry = create_territory(name="Évry ville apprenante", slug="evry")
    lyon = create_territory(name="Lyon", slug="lyon")
    coordinator = create_user("coord@example.org", name="Sophie", verified=True)
    lyon_coordinator = create_user("lyon@example.org", verified=True)
    add_coordinator(territory_slug="evry", user=coordinator, actor_id=None)
    add_coordinator(territory_slug="lyon", user=lyon_coordinator, actor_id=None)
    admin = create_user("admin@example.org", verified=True, is_admin=True)
    stranger = create_user("stranger@example.org", verified=True)
    return Territories(evry, lyon, coordinator, lyon_coordinator, admin, stranger)


@pytest.fixture
def add(world: Territories) -> Any:
    """Create a competency in Évry as its coordinator: ``add("CIT.1", "Name", parent_code="CIT")``."""

    def make(code: str, name: str | None = None, **values: Any) -> Any:
        return create_competency(world.evry, world.coordinator, code,
                                 CompetencyFields(name=name or f"Competency {code}", **values))

    return make
