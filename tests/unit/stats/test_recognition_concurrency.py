"""Recognition counted by several processes at the same moment on PostgreSQL: the first units of a month in a
cell arrive together (two learners ask the same organisation, two people endorse it), and none of the
transactions fails on the cell the others create; every unit is counted once.

Unlike credentials, these signals are not serialised by any lock of the sending domain (a request or a
personal endorsement takes no organisation-wide lock), so the cell row is the only place they meet.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from badgehub import events
from badgehub.extensions import db
from badgehub.stats import recognition
from badgehub.stats.models import StatsRecognitionCell
from tests.factories import build_world
from tests.unit.issuing.test_concurrency import WORKERS, _read, run_in_parallel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("BADGEHUB_TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="concurrency needs PostgreSQL (set BADGEHUB_TEST_DATABASE_URL); SQLite has one writer"),
]

PER_WORKER = 6


@pytest.fixture
def database(fresh_database: Any, tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    """A database of its own (the workers commit), with an organisation committed in it."""
    from badgehub import create_app
    from tests.conftest import base_test_config

    url = str(fresh_database())
    app = create_app(base_test_config(url, tmp_path))
    with app.app_context():
        organisation_id = build_world().a.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield url, tmp_path, organisation_id


def _requests(organisation_id: int, worker: int) -> Callable[[], Any]:
    def work() -> int:
        assert current_app
        for n in range(PER_WORKER):  # every request of every worker in the same month, the same state
            events.recognition_request_changed.send(
                None, request_id=worker * 1_000 + n, organisation_id=organisation_id, status="submitted",
                self_declared=False, occurred_at=dt.datetime(2026, 3 + n, 2, tzinfo=dt.UTC))
            db.session.commit()
        return PER_WORKER

    return work


def test_requests_arriving_together_all_count_in_the_cells_they_create(database):
    url, instance, organisation_id = database
    counted = run_in_parallel(url, instance, lambda worker: _requests(organisation_id, worker))
    assert sum(counted) == WORKERS * PER_WORKER

    def read() -> Any:
        units = db.session.scalars(select(StatsRecognitionCell.units).where(
            StatsRecognitionCell.kind == recognition.REQUEST)).all()
        return sorted(units), recognition.stored() == recognition.recount()

    units, agree = _read(url, instance, read)
    assert units == [WORKERS] * PER_WORKER and agree
