"""Migration ``i14_earlier_endorsements`` counts the endorsements made before the observatory counted
recognition, exactly as their signals would have, so that ``badgehub observatory check`` holds after it."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, func, select

from badgehub.endorsements import service as endorsements
from badgehub.endorsements.models import Endorsement
from badgehub.endorsements.territory_issuers import ensure_territory_issuer
from badgehub.extensions import db
from badgehub.stats import recognition
from badgehub.stats.models import StatsRecognitionCell, StatsRecognitionUnit
from tests.factories import build_world

WHAT = (StatsRecognitionUnit.unit, StatsRecognitionUnit.month, StatsRecognitionUnit.organisation_id,
        StatsRecognitionUnit.other_id, StatsRecognitionUnit.territory_id, StatsRecognitionUnit.detail)


def test_endorsements_made_before_the_counting_are_counted_by_the_migration(fresh_database, make_app, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            world = build_world()
            config = current_app.config
            endorsements.endorse_achievement(world.b, world.owner_b, world.repair, comment="Sérieux.", config=config)
            issuer = ensure_territory_issuer(world.territory, world.coordinator, config=config)
            endorsements.endorse_organisation(issuer, world.coordinator, world.a, comment="Clé.", config=config)
            db.session.commit()
        signalled = sorted(db.session.execute(select(*WHAT)).tuples().all())
        assert len(signalled) == 2 and any(row[4] == world.territory.id and row[3] == 0 for row in signalled)
        db.session.rollback()  # the migration waits for no open read of these tables
        downgrade(revision="i14_earlier_endorsements-1")
        db.session.execute(delete(StatsRecognitionCell))  # as if made before the observatory counted them
        db.session.execute(delete(StatsRecognitionUnit))
        db.session.commit()
        upgrade()
        assert sorted(db.session.execute(select(*WHAT)).tuples().all()) == signalled
        assert db.session.scalar(select(func.count()).select_from(Endorsement)) == len(signalled)
        assert recognition.stored() == recognition.recount() != {}
        assert app.test_cli_runner().invoke(args=["observatory", "check"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()
