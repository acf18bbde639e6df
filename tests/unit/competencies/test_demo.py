"""The demo framework: five domains of a learning city, in French, seeded through the coordinators' services."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from badgehub.competencies.demo import COMPETENCIES, FRAMEWORK_NAME, seed_demo_framework
from badgehub.competencies.models import Competency
from badgehub.competencies.service import alignment_for, framework_of, framework_tree
from badgehub.extensions import db


def test_demo_framework_has_five_domains_and_about_twenty_competencies(world):
    seeded = seed_demo_framework(world.evry, world.coordinator)
    assert len(seeded) == len(COMPETENCIES) >= 20
    tree = framework_tree(world.evry)
    assert [node.competency.code for node in tree] == ["CIT", "COO", "ECO", "NUM", "TEC"]
    assert all(len(node.children) >= 3 for node in tree)
    assert framework_of(world.evry).name == FRAMEWORK_NAME
    assert all(competency.description for competency in seeded)
    assert [alignment_for(c, current_app.config).target_url for c in seeded][5] == "http://localhost/competencies/evry/CIT.1"


def test_demo_framework_seeding_is_idempotent(world):
    first = seed_demo_framework(world.evry, world.coordinator)
    second = seed_demo_framework(world.evry, world.coordinator)
    assert [c.id for c in first] == [c.id for c in second]
    assert len(db.session.scalars(select(Competency)).all()) == len(COMPETENCIES)
