"""Migration ``i14_cell_key`` gives existing credentials and learners their record keys, and the cells their key
sums, so that ``badgehub observatory check`` holds right after it."""

from __future__ import annotations

from sqlalchemy import func, select

from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.stats import service
from badgehub.stats.models import StatsLearner, StatsRecordKey
from tests.unit.stats.dataset import build_dataset


def test_the_migration_draws_keys_for_existing_data(fresh_database, make_app, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            build_dataset()
            db.session.commit()
        downgrade(revision="i14_cell_key-1")  # as before the cell-key method: counts without keys
        upgrade()
        live = db.session.scalar(select(func.count()).select_from(IssuedCredential)
                                 .where(IssuedCredential.revoked_at.is_(None)))
        assert db.session.scalar(select(func.count()).select_from(StatsRecordKey)) == live
        keys = db.session.scalars(select(StatsLearner.record_key)).all()
        assert len(keys) == 12 and len(set(keys)) > 1  # drawn at random, one per learner
        assert service.stored() == service.recount()  # the key sums agree with the keys
        assert app.test_cli_runner().invoke(args=["observatory", "check"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()


def test_the_migration_packs_the_keys_of_existing_learners(fresh_database, make_app, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            build_dataset()
            db.session.commit()
        expected = service.stored()
        db.session.rollback()  # the migration's DROP waits for no open read of these tables
        downgrade(revision="i14_learner_keys-1")  # learners' keys only in stats_learners
        upgrade()
        assert service.stored() == expected == service.recount()
        db.session.remove()
        db.engine.dispose()
