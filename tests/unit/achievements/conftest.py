"""Builders for the achievement service tests: people, organisations, a territory with a framework."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub.accounts.service import create_user
from badgehub.competencies.models import Competency, CompetencyFramework
from badgehub.extensions import db
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.organisations.staff import add_member
from badgehub.territory.models import TerritoryCoordinator
from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership

_counter = itertools.count(1)


@pytest.fixture
def make_user(ctx: Any) -> Any:
    def make(email: str | None = None) -> Any:
        address = email or f"person{next(_counter)}@example.org"
        return create_user(address, name=address.split("@")[0], verified=True)

    return make


@pytest.fixture
def make_org(make_user: Any) -> Any:
    def make(name: str = "Atelier Vélo", *, owner: Any = None) -> Any:
        return create_organisation(owner or make_user(), ProfileFields(name=name, type="association",
                                                                       sector="community"), config=current_app.config)

    return make


@pytest.fixture
def member_with(make_user: Any) -> Any:
    """Add a new user to ``organisation`` with ``role`` through its owner ``owner``; return the user."""

    def add(organisation: Any, owner: Any, role: str) -> Any:
        user = make_user()
        add_member(organisation, owner, user, role)
        return user

    return add


@pytest.fixture
def make_territory(make_user: Any) -> Any:
    """A territory with a coordinator and a framework of competencies given as (code, name, parent code)."""

    def make(slug: str = "evry", competencies: tuple[tuple[str, str, str | None], ...] = (
            ("CIT", "Citoyenneté", None), ("CIT-1", "Prendre la parole en public", "CIT"),
            ("NUM", "Numérique", None), ("NUM-2", "Protéger ses données", "NUM"))) -> Any:
        territory = create_territory(name=slug.title(), slug=slug, areas=[("centre", "Centre")])
        coordinator = make_user()
        add_coordinator(territory_slug=slug, user=coordinator, actor_id=None)
        framework = CompetencyFramework(territory_id=territory.id, name=f"Référentiel {slug.title()}")
        db.session.add(framework)
        db.session.flush()
        by_code: dict[str, Competency] = {}
        for code, name, parent in competencies:
            competency = Competency(framework_id=framework.id, code=code, name=name,
                                    description=f"Description de {name}",
                                    parent_id=by_code[parent].id if parent else None)
            db.session.add(competency)
            db.session.flush()
            by_code[code] = competency
        return territory

    return make


@pytest.fixture
def join() -> Any:
    """Make ``organisation`` an approved member of ``territory``; ``suspend=True`` then suspends it."""

    def run(organisation: Any, territory: Any, owner: Any, *, suspend: bool = False, approve: bool = True) -> Any:
        coordinator = db.session.scalars(select(TerritoryCoordinator).where(
            TerritoryCoordinator.territory_id == territory.id)).first().user
        membership = request_membership(organisation, territory, owner, "Bonjour")
        if approve:
            decide_membership(membership, "approve", coordinator)
        if suspend:
            decide_membership(membership, "suspend", coordinator, "Badges sans preuves")
        return membership

    return run


def competency(territory: Any, code: str) -> Competency:
    from badgehub.competencies.service import get_competency_in

    return get_competency_in(territory, code)
