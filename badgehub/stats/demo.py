"""Demo figures for the observatory: a year of genuine awards across the demo territory's members.

A few credentials per badge would leave every public figure under the privacy threshold ("< 5"), which shows
the rule but not the observatory. This issues, through the real service and with each organisation's keys
decrypted once, about a hundred credentials to invented participants (``example.net`` addresses) over the
past twelve months, spread over the territory's areas, so that the public page has figures to show and some
lines stay hidden. Idempotent: every award carries an idempotency key ``demo-observatory:…``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select

from badgehub import events
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import can_act
from badgehub.territory.models import MembershipStatus, Territory, TerritoryMembership

KEY_PREFIX: Final = "demo-observatory:"
PARTICIPANTS: Final = 36
AWARDS_PER_BADGE: Final = 7
MONTHS: Final = 12


def seed_demo_observatory(territory_slug: str, config: Mapping[str, Any]) -> int:
    """Issue the demo's spread of awards in the approved members of ``territory_slug``; return how many were
    issued (0 when already seeded or when the territory does not exist). Flushes; the caller commits."""
    territory = db.session.scalar(select(Territory).where(Territory.slug == territory_slug))
    if territory is None or db.session.scalar(select(IssuedCredential.id).where(
            IssuedCredential.idempotency_key.like(f"{KEY_PREFIX}%")).limit(1)) is not None:
        return 0
    members = db.session.scalars(
        select(Organisation).join(TerritoryMembership, TerritoryMembership.organisation_id == Organisation.id)
        .where(TerritoryMembership.territory_id == territory.id,
               TerritoryMembership.status == MembershipStatus.APPROVED).order_by(Organisation.id)).all()
    chance = random.Random(2026)  # invented demo data, the same on every run
    now = utcnow()
    areas = [area.id for area in territory.areas]
    issued = 0
    for organisation in members:
        badges = issuing.achievements_catalogue(organisation) if can_act(organisation) else []
        if not badges:
            continue
        signer = issuing.signer_for(organisation, config)
        with events.issued_together():
            for badge in badges:
                for number in range(AWARDS_PER_BADGE + chance.randrange(4)):
                    participant = chance.randrange(PARTICIPANTS)
                    when = now - dt.timedelta(days=chance.uniform(1, MONTHS * 30), hours=chance.uniform(0, 8))
                    issuing.issue_credential(
                        organisation=organisation, achievement=badge, actor_id=None, source=CredentialSource.DEMO,
                        recipient_email=f"participant.{participant:02d}@example.net",
                        recipient_name=f"Participant {participant:02d}", now=when, signer=signer, config=config,
                        idempotency_key=f"{KEY_PREFIX}{badge.public_id}:{number}",
                        area_id=chance.choice(areas) if areas and chance.random() < 0.8 else None)
                    issued += 1
    return issued
