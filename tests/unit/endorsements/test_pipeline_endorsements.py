"""The pipeline's endorsement step on our own endorsements: each embedded one is verified with its own report, a
changed one is detected, and a cycle (an endorsement repeating its container or a sibling) is refused."""

from __future__ import annotations

import json

from flask import current_app

from badgehub.db import utcnow
from badgehub.endorsements import service as endorsements
from badgehub.verification.pipeline import verify
from badgehub.verification.resolver import Resolver
from tests.factories import World


def _holder(world: World, *embedded: dict[str, object]) -> dict[str, object]:
    """A signed endorsement of ours that carries others, as a document embedding endorsements would."""
    made = endorsements.endorse_organisation(world.a, world.owner_a, world.b, comment="Partenaire.",
                                             config=current_app.config)
    document = json.loads(made.document_json)
    document["credentialSubject"]["endorsement"] = list(embedded)
    return document


def test_embedded_endorsements_are_verified_and_a_changed_one_is_detected(world: World, resolver: Resolver) -> None:
    good = json.loads(endorsements.endorse_achievement(world.b, world.owner_b, world.repair,
                                                       comment="Bien.", config=current_app.config).document_json)
    changed = json.loads(endorsements.endorse_achievement(world.b, world.owner_b, world.workshop,
                                                          comment="Bien.", config=current_app.config).document_json)
    changed["credentialSubject"]["endorsementComment"] = "Excellent."
    report = verify(_holder(world, good, changed), resolver, utcnow())
    assert [sub.verified for sub in report.endorsements] == [True, False]
    assert report.endorsements[1].check("proof").status.value == "failed"
    assert report.check("endorsements").code == "endorsements_unverified"


def test_a_cycle_of_endorsements_is_refused(world: World, resolver: Resolver) -> None:
    good = json.loads(endorsements.endorse_achievement(world.b, world.owner_b, world.repair,
                                                       comment="Bien.", config=current_app.config).document_json)
    holder = _holder(world, good, good)
    holder["credentialSubject"]["endorsement"].append(dict(holder, credentialSubject={"id": "x"}))
    report = verify(holder, resolver, utcnow())
    codes = [sub.checks[0].code for sub in report.endorsements]
    assert codes[1:] == ["endorsement_cycle", "endorsement_cycle"]
    assert report.endorsements[0].verified
