"""The demo territory has endorsements a newcomer sees at once: by the territory's own issuer, between
organisations, and one the demo learner shows on their badge; seeding twice makes nothing twice."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from badgehub.db import utcnow
from badgehub.demo import TERRITORY_SLUG
from badgehub.endorsements.demo import seed_demo_endorsements
from badgehub.endorsements.models import Display, EndorsedKind, Endorsement
from badgehub.endorsements.territory_issuers import territory_issuer_of
from badgehub.extensions import db
from badgehub.territory.service import get_territory_by_slug
from badgehub.verification.pipeline import verify
from badgehub.verification.platform import build_resolver
from tests.factories import seeded_demo


def test_the_demo_has_verifiable_endorsements_of_every_kind(ctx: Flask, snapshot: Any) -> None:
    snapshot(seeded_demo)
    territory = get_territory_by_slug(TERRITORY_SLUG)
    city = territory_issuer_of(territory)
    assert city is not None
    made = list(db.session.scalars(select(Endorsement)))
    assert {endorsement.kind for endorsement in made} == {EndorsedKind.PROFILE, EndorsedKind.ACHIEVEMENT,
                                                          EndorsedKind.CREDENTIAL}
    assert any(endorsement.endorser_id == city.id for endorsement in made)
    assert all(endorsement.display is Display.SHOWN for endorsement in made)
    resolver = build_resolver(ctx)
    for endorsement in made:
        assert verify(json.loads(endorsement.document_json), resolver, utcnow()).verified
    seed_demo_endorsements(TERRITORY_SLUG, "coordination@ville.example.org", "lucas.petit@example.net", ctx.config)
    assert db.session.scalar(select(func.count(Endorsement.id))) == len(made)
