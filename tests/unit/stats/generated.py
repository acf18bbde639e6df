"""A generated territory with many small cells, for the attacks on the observatory's public figures.

Eight member organisations: four community associations (two large, two small), two public-service libraries,
a school and a training centre (education), and one company alone in its sector. Each has two badges, one of
them tagged with the theme "Transition écologique" and aligned to competency ECO, the other aligned to SOC.
Through 2025 they issue credentials to a pool of 70 learners: the large ones every month, the small ones in a
few months only (cells of one or two credentials), with areas centre / gare / none. The credentials are written
as rows (placeholder documents: the attacks look at counts, not signatures) and counted by
:func:`badgehub.stats.service.rebuild`, the path of a bulk import; the record keys are then set from ``seed`` so
that a test run is reproducible (in production they come from the system's secure random source).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from badgehub.achievements import service as achievements
from badgehub.catalogue.themes import create_theme, set_achievement_themes
from badgehub.competencies.service import CompetencyFields, create_competency
from badgehub.extensions import db
from badgehub.issuing.models import CredentialSource, IssuedCredential, StatusList, StatusPurpose
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import ProfileFields, create_organisation
from badgehub.stats import queries, service
from badgehub.stats.models import StatsLearner, StatsRecordKey
from badgehub.stats.ptable import KEY_RANGE
from badgehub.territory.models import Territory
from badgehub.territory.service import decide_membership, request_membership
from tests.factories import BADGE_PNG, build_world

# name, type, sector, credentials per month (min, max), months active (None: all)
ORGANISATIONS = [
    ("Atelier Vélo", "association", "community", (4, 12), None),
    ("Maison des Jeunes", "association", "community", (3, 9), None),
    ("Jardin Partagé", "association", "community", (1, 2), {3, 4, 9}),
    ("Club Échecs", "association", "community", (1, 3), {1, 6, 7, 11}),
    ("Médiathèque", "library", "public_services", (2, 7), None),
    ("Bibliothèque de quartier", "library", "public_services", (1, 2), {2, 5, 10}),
    ("Collège Jean Moulin", "school", "education", (3, 8), {1, 2, 3, 4, 5, 6, 9, 10, 11, 12}),
    ("Centre de formation", "training_centre", "education", (1, 4), {3, 6, 9, 12}),
    ("Garage Solidaire", "company", "economic", (1, 2), {4, 8}),
]
LEARNERS = 70


@dataclass
class Generated:
    territory: Territory
    organisations: list[Organisation]
    theme_code: str


def build_generated(seed: int = 14) -> Generated:
    """Build the territory and its credentials (flushes), count them, and set the record keys from ``seed``."""
    from badgehub.accounts.service import create_user

    world = build_world("gen-")
    territory, coordinator = world.territory, world.coordinator
    eco = create_competency(territory, coordinator, "ECO", CompetencyFields(name="Écologie"))
    soc = create_competency(territory, coordinator, "SOC", CompetencyFields(name="Vie sociale"))
    theme = create_theme(territory, coordinator, "Transition écologique")
    areas = [world.area("centre").id, world.area("gare").id, None]
    rng = random.Random(seed)
    organisations, badges = [], []
    for number, (name, kind, sector, _, _) in enumerate(ORGANISATIONS):
        owner = create_user(f"gen-owner{number}@example.org", name=f"Owner {number}", verified=True)
        organisation = create_organisation(owner, ProfileFields(name=name, type=kind, sector=sector),
                                           config=current_app.config)
        decide_membership(request_membership(organisation, territory, owner, ""), "approve", coordinator)
        pair = []
        for label, competency in (("Éco", eco), ("Social", soc)):
            achievement = achievements.create_achievement(organisation, owner, achievements.AchievementFields(
                name=f"{label} {number}", description="Badge.", criteria_md="Done.", in_language="fr",
                competency_ids=[competency.id]), achievements.UploadedImage(BADGE_PNG))
            if competency is eco:
                set_achievement_themes(achievement, [theme.id], owner)
            pair.append(achievement)
        status_list = StatusList(organisation_id=organisation.id, number=1, purpose=StatusPurpose.REVOCATION,
                                 size=131072, bits=b"\0")
        db.session.add(status_list)
        organisations.append(organisation)
        badges.append((pair, status_list))
    db.session.flush()
    rows, index = [], 0
    for (pair, status_list), (_, _, _, (low, high), active) in zip(badges, ORGANISATIONS, strict=True):
        for month in range(1, 13):
            if active is not None and month not in active:
                continue
            for _ in range(rng.randint(low, high)):
                index += 1
                achievement = pair[rng.random() < 0.4]
                moment = dt.datetime(2025, month, rng.randint(1, 28), 12, tzinfo=dt.UTC)
                email = f"gen{rng.randrange(LEARNERS)}@example.org"
                rows.append(IssuedCredential(
                    public_id=f"gen{index:08d}", credential_id=f"urn:uuid:gen-{index}",
                    organisation_id=achievement.organisation_id, achievement_id=achievement.id,
                    achievement_version_id=achievement.current_version_id, recipient_email=email,
                    recipient_email_key=email, document_json="{}", vc_jwt="x", issued_at=moment, valid_from=moment,
                    awarded_date=moment, area_id=rng.choice(areas), source=CredentialSource.CLI,
                    status_list_id=status_list.id, status_index=index))
    db.session.add_all(rows)
    db.session.flush()
    service.rebuild()
    keys = random.Random(seed * 1_000_003)
    credentials = db.session.scalars(select(StatsRecordKey.credential_id).order_by(StatsRecordKey.credential_id))
    db.session.execute(update(StatsRecordKey), [{"credential_id": i, "record_key": keys.randrange(KEY_RANGE)}
                                                for i in credentials.all()])
    learners = db.session.scalars(select(StatsLearner.id).order_by(StatsLearner.id))
    db.session.execute(update(StatsLearner), [{"id": i, "record_key": keys.randrange(KEY_RANGE)}
                                              for i in learners.all()])
    service.rebuild()  # the same keys, the sums recomputed
    queries.clear_cache()
    return Generated(territory, organisations, theme.code)
