"""Recognition on the generated territory (:mod:`tests.unit.stats.generated`), sent as the signals of
:mod:`badgehub.events` directly, so these tests need neither the endorsement screens nor the request and pathway
domains: what the observatory counts is exactly what the signals say.

Through 2025: endorsements between the nine organisations (the large community associations endorse every
month, the small ones and the company a few times) and by the territory itself; recognition requests to every
organisation, each sent through its states (submitted, sometimes more evidence asked, then accepted or declined,
some left waiting); pathway completions of three organisations' pathways and of a territory pathway by learners
of the pool, some completing two. The choices come from ``seed``: a test run is reproducible.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from badgehub import events
from badgehub.extensions import db
from badgehub.stats import queries, recognition
from badgehub.stats.models import StatsRecognitionUnit
from badgehub.stats.ptable import KEY_RANGE
from tests.unit.stats.generated import LEARNERS, Generated

# How many endorsements each organisation makes per month (min, max) and in which months (None: all).
GIVING = [(1, 3, None), (1, 2, None), (1, 1, {3, 9}), (0, 1, {6}), (1, 2, None), (1, 1, {5}), (1, 2, {2, 6, 10}),
          (0, 1, {4}), (1, 1, {8})]
KINDS = ("achievement", "profile", "credential")


def _moment(rng: random.Random, month: int) -> dt.datetime:
    return dt.datetime(2025, month, rng.randint(1, 28), 15, tzinfo=dt.UTC)


def send_recognition(generated: Generated, seed: int = 17) -> None:
    """Send the signals (the receivers count them in the current transaction) and forget cached figures."""
    rng = random.Random(seed)
    organisations = [o.id for o in generated.organisations]
    territory_id = generated.territory.id
    number = 0
    for month in range(1, 13):
        for giver, (low, high, active) in zip(organisations, GIVING, strict=True):
            if active is not None and month not in active:
                continue
            for _ in range(rng.randint(low, high)):
                number += 1
                endorsed = rng.choice([o for o in organisations if o != giver])
                events.endorsement_issued.send(
                    None, endorsement_id=number, kind=rng.choice(KINDS), endorser_organisation_id=giver,
                    endorsed_organisation_id=endorsed, territory_id=None, occurred_at=_moment(rng, month))
        if month % 4 == 0:  # the territory itself endorses now and then
            number += 1
            events.endorsement_issued.send(
                None, endorsement_id=number, kind="achievement", endorser_organisation_id=None,
                endorsed_organisation_id=rng.choice(organisations), territory_id=territory_id,
                occurred_at=_moment(rng, month))
    for request_id in range(1, 91):
        month = rng.randint(1, 12)
        asked = rng.choice(organisations[:7] * 3 + organisations[7:])
        self_declared = rng.random() < 0.2
        states = ["submitted"]
        if rng.random() < 0.3:
            states.append("more_asked")
        roll = rng.random()
        if roll < 0.55:
            states.append("accepted")
        elif roll < 0.8:
            states.append("declined")
        elif roll < 0.85:
            states.append("withdrawn")
        for state in states:
            events.recognition_request_changed.send(
                None, request_id=request_id, organisation_id=asked, status=state, self_declared=self_declared,
                occurred_at=_moment(rng, month))
    owners = [organisations[0], organisations[4], organisations[6], None]  # Atelier Vélo, Médiathèque, Collège
    for pathway_id, owner in enumerate(owners, start=1):
        holders = rng.sample(range(LEARNERS), 14 if owner is not None else 9)
        for holder in holders:
            month = rng.randint(1, 12)
            key = f"gen{holder}@example.org"
            events.pathway_progressed.send(
                None, pathway_id=pathway_id, owner_organisation_id=owner,
                territory_id=territory_id if owner is None else None, holder_key=key, completed=False,
                occurred_at=_moment(rng, month))
            events.pathway_progressed.send(
                None, pathway_id=pathway_id, owner_organisation_id=owner,
                territory_id=territory_id if owner is None else None, holder_key=key, completed=True,
                occurred_at=_moment(rng, month))
    # The record keys from the seed, as the generated credentials' are: a test run is reproducible.
    keys = random.Random(seed * 1_000_003)
    for unit in db.session.scalars(select(StatsRecognitionUnit).order_by(StatsRecognitionUnit.kind,
                                                                         StatsRecognitionUnit.unit)):
        unit.record_key = keys.randrange(KEY_RANGE)
    recognition.rebuild()
    queries.clear_cache()
