"""Migration 0012 counts the credentials issued before it: upgrading a database that already holds credentials
gives the same pre-aggregates as a live recount."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from badgehub.extensions import db
from badgehub.stats import service
from tests.unit.stats.dataset import build_dataset


def test_upgrading_counts_the_credentials_already_issued(fresh_database, make_app, tmp_path):
    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            build_dataset()
            db.session.commit()
            before = service.stored()
        db.session.remove()
        downgrade(revision="0011")
        upgrade()
        with app.test_request_context():
            after = service.stored()
            assert after == service.recount()
            # Counts equal; the key sums differ, since going below the cell-key migration drops the record keys
            # and coming back draws new ones.
            assert _counts(after[0]) == _counts(before[0]) and _counts(after[1]) == _counts(before[1])
            assert after[2] == before[2] and after[2]
        db.session.remove()
        db.engine.dispose()


def _counts(cells):
    return {cell: values[:2] for cell, values in cells.items()}
