"""Builders for the organisation and registry service tests: users, territories, organisations, memberships."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import create_user
from badgehub.extensions import db
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member
from badgehub.territory.models import TerritoryCoordinator
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership

_counter = itertools.count(1)


@pytest.fixture
def make_user(ctx: Any) -> Any:
    def make(email: str | None = None, *, verified: bool = True, admin: bool = False, name: str = "") -> Any:
        address = email or f"person{next(_counter)}@example.org"
        return create_user(address, name=name or address.split("@")[0], verified=verified, is_admin=admin)

    return make


@pytest.fixture
def make_org(make_user: Any) -> Any:
    def make(name: str = "Atelier Vélo", *, owner: Any = None, sector: str = "community",
             type: str = "association") -> Any:
        return create_organisation(owner or make_user(), ProfileFields(name=name, type=type, sector=sector),
                                   config=current_app.config)

    return make


@pytest.fixture
def make_territory(make_user: Any) -> Any:
    def make(slug: str = "evry", *, coordinator: Any = None) -> Any:
        territory = create_territory(name=slug.title(), slug=slug, areas=[("centre", "Centre"), ("nord", "Nord")])
        add_coordinator(territory_slug=slug, user=coordinator or make_user(), actor_id=None)
        return territory

    return make


@pytest.fixture
def coordinator_of() -> Any:
    """The first coordinator of a territory (made by ``make_territory``)."""

    def find(territory: Any) -> Any:
        return db.session.scalars(select(TerritoryCoordinator).where(
            TerritoryCoordinator.territory_id == territory.id)).first().user

    return find


@pytest.fixture
def member_with(make_user: Any) -> Any:
    """Add a new user to ``organisation`` with ``role``, through the owner ``owner``."""

    def add(organisation: Any, owner: Any, role: str) -> Any:
        user = make_user()
        add_member(organisation, owner, user, role)
        return user

    return add


@pytest.fixture
def suspend(coordinator_of: Any) -> Any:
    """Put ``organisation`` in ``territory`` as an approved member, then suspend it; returns the membership."""

    def run(organisation: Any, territory: Any, owner: Any) -> Any:
        coordinator = coordinator_of(territory)
        membership = request_membership(organisation, territory, owner, "Hello")
        decide_membership(membership, "approve", coordinator)
        return decide_membership(membership, "suspend", coordinator, "Badges issued without evidence")

    return run
