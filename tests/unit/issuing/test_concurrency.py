"""Several processes issuing and revoking at the same moment on PostgreSQL: no shared status index, no shared
id, one credential per idempotency key, no lost revocation bit.

Each worker is a separate process with its own app and connection pool, like gunicorn workers; a barrier
makes them start together. SQLite is skipped: it has a single writer, so there is no race to test (and a
second process would wait on the database lock rather than on a row lock).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from badgehub import create_app
from badgehub.achievements.service import public_achievement
from badgehub.credentials.status_list import decode_status_list, get_bit
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing import status_lists
from badgehub.issuing.models import IssuedCredential, StatusList
from badgehub.issuing.status_lists import signed_status_list
from tests.conftest import base_test_config
from tests.factories import build_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("BADGEHUB_TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="concurrency needs PostgreSQL (set BADGEHUB_TEST_DATABASE_URL); SQLite has one writer"),
]

WORKERS = 4
PER_WORKER = 8
_CONTEXT = multiprocessing.get_context("fork")


def _worker(url: str, instance: str, barrier: Any, results: Any, work: Callable[[], Any]) -> None:
    try:
        app = create_app(base_test_config(url, Path(instance)))
        with app.app_context():
            barrier.wait(timeout=60)
            results.put(("ok", work()))
            db.session.remove()
            db.engine.dispose()
    except BaseException:  # report everything to the parent, which fails the test with it
        results.put(("error", traceback.format_exc()))


def run_in_parallel(url: str, instance: Path, work: Callable[[int], Callable[[], Any]]) -> list[Any]:
    """Run ``work(n)()`` in WORKERS processes started together; return their results (or fail with the first
    worker's traceback)."""
    barrier = _CONTEXT.Barrier(WORKERS)
    results = _CONTEXT.Queue()
    processes = [_CONTEXT.Process(target=_worker, args=(url, str(instance), barrier, results, work(n)))
                 for n in range(WORKERS)]
    for process in processes:
        process.start()
    answers = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [detail for status, detail in answers if status == "error"]
    assert not errors, errors[0]
    return [detail for _, detail in answers]


@pytest.fixture
def database(fresh_database: Any, tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """A database of its own (the workers commit), with the issuing world committed in it."""
    url = str(fresh_database())
    app = create_app(base_test_config(url, tmp_path))
    with app.app_context():
        world = build_world()
        ids = {"repair": world.repair.public_id, "workshop": world.workshop.public_id}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield url, tmp_path, ids


def _issue(public_id: str, worker: int, *, key: str | None = None, count: int = PER_WORKER) -> Callable[[], Any]:
    def work() -> list[str]:
        issued = []
        for n in range(count):
            achievement = public_achievement(public_id)
            credential = issuing.issue_credential(
                organisation=achievement.organisation, achievement=achievement,
                recipient_email=f"person{worker}-{n}@example.net", recipient_name="", actor_id=None, source="api",
                idempotency_key=key, config=current_app.config)
            db.session.commit()
            issued.append(credential.public_id)
        return issued

    return work


def _read(url: str, instance: Path, read: Callable[[], Any]) -> Any:
    app = create_app(base_test_config(url, instance))
    with app.app_context():
        try:
            return read()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_parallel_workers_never_share_a_status_index_or_an_id(database):
    url, instance, ids = database
    # Half the workers award one badge, half the other: one organisation, one status list, created in the race.
    issued = run_in_parallel(url, instance, lambda n: _issue(ids["repair" if n % 2 else "workshop"], n))
    public_ids = [public_id for batch in issued for public_id in batch]
    assert len(public_ids) == len(set(public_ids)) == WORKERS * PER_WORKER

    def read() -> dict[str, Any]:
        rows = db.session.scalars(select(IssuedCredential)).all()
        lists = db.session.scalars(select(StatusList)).all()
        return {
            "slots": [(row.status_list_id, row.status_index) for row in rows],
            "documents": [json.loads(row.document_json)["credentialStatus"]["statusListIndex"] for row in rows],
            "indexes": [str(row.status_index) for row in rows],
            "credential_ids": {row.credential_id for row in rows},
            "lists": [(item.number, item.allocated) for item in lists],
        }

    found = _read(url, instance, read)
    assert len(found["slots"]) == len(set(found["slots"])) == WORKERS * PER_WORKER
    assert found["documents"] == found["indexes"]
    assert len(found["credential_ids"]) == WORKERS * PER_WORKER
    assert found["lists"] == [(1, WORKERS * PER_WORKER)]


def test_parallel_workers_open_one_list_at_a_time(database, monkeypatch):
    url, instance, ids = database
    # Lists of four credentials fill up at once: the workers keep racing to open the next one. The forked
    # workers inherit the lowered size.
    monkeypatch.setattr(status_lists, "LIST_SIZE", 4)
    run_in_parallel(url, instance, lambda n: _issue(ids["repair"], n))

    def read() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        lists = db.session.scalars(select(StatusList).order_by(StatusList.number)).all()
        rows = db.session.scalars(select(IssuedCredential)).all()
        by_id = {item.id: item.number for item in lists}
        return [(item.number, item.allocated) for item in lists], [(by_id[r.status_list_id], r.status_index)
                                                                  for r in rows]

    lists, slots = _read(url, instance, read)
    total = WORKERS * PER_WORKER
    assert lists == [(number, 4) for number in range(1, total // 4 + 1)]
    assert len(set(slots)) == total and all(0 <= index < 4 for _, index in slots)


def test_parallel_retries_with_one_idempotency_key_issue_once(database):
    url, instance, ids = database

    def same_award(_n: int) -> Callable[[], Any]:
        def work() -> list[str]:
            achievement = public_achievement(ids["repair"])
            credential = issuing.issue_credential(
                organisation=achievement.organisation, achievement=achievement, recipient_email="lea@example.net",
                recipient_name="", actor_id=None, source="api", idempotency_key="order-42", config=current_app.config)
            db.session.commit()
            return [credential.public_id]

        return work

    answers = run_in_parallel(url, instance, same_award)
    assert len({answer[0] for answer in answers}) == 1
    assert _read(url, instance, lambda: db.session.scalar(select(func.count(IssuedCredential.id)))) == 1


def test_parallel_revocations_lose_no_bit(database):
    url, instance, ids = database
    issued = run_in_parallel(url, instance, lambda n: _issue(ids["repair"], n, count=3))

    def revoke(n: int) -> Callable[[], Any]:
        def work() -> int:
            for public_id in issued[n]:
                issuing.revoke_credential(issuing.get_credential(public_id), note="Erreur", actor_id=None,
                                          config=current_app.config)
                db.session.commit()
            return len(issued[n])

        return work

    run_in_parallel(url, instance, revoke)

    def read() -> tuple[list[bool], int]:
        status_list = db.session.scalars(select(StatusList)).one()
        signed = signed_status_list(status_list, config=current_app.config)
        bits = decode_status_list(json.loads(signed.text)["credentialSubject"]["encodedList"])
        rows = db.session.scalars(select(IssuedCredential)).all()
        return [get_bit(bits, row.status_index) for row in rows], status_list.version

    bits, version = _read(url, instance, read)
    assert bits == [True] * (WORKERS * 3)
    assert version == 1 + WORKERS * 3
