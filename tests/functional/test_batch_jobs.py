"""Batches in the background: the in-process worker, RQ on a real Redis, and a worker process killed in the
middle of a batch. Whatever happens, each valid row is issued exactly once and none is forgotten."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select

from badgehub import create_app, jobs
from badgehub.accounts.service import get_user_by_email
from badgehub.achievements.service import public_achievement
from badgehub.extensions import db
from badgehub.issuing import batches
from badgehub.issuing.models import BatchState, IssueBatch, IssuedCredential
from tests.conftest import REPO_ROOT, TEST_KEK, base_test_config
from tests.factories import build_world

REDIS_URL = os.environ.get("BADGEHUB_TEST_REDIS_URL")


def participants(count: int) -> str:
    return "email,name\n" + "".join(f"p{i:04d}@example.net,P {i}\n" for i in range(count))


def make_batch(count: int, *, confirm: bool = True) -> int:
    """A world and a confirmed batch of ``count`` rows (flushed; the caller commits)."""
    world = build_world()
    batch = batches.create_draft(world.a, world.repair, participants(count), actor_id=world.issuer_a.id,
                                 config=current_app.config)
    if confirm:
        batches.confirm(batch, actor_id=world.issuer_a.id)
    return batch.id


def issued_emails(batch_id: int) -> list[str]:
    return sorted(db.session.scalars(select(IssuedCredential.recipient_email)
                                     .where(IssuedCredential.batch_id == batch_id)))


@pytest.fixture
def committed_app(fresh_database: Any, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own (threads and processes see what is committed)."""
    app = create_app(base_test_config(str(fresh_database()), tmp_path))
    yield app
    worker = app.extensions.get(jobs.EXTENSION)
    if worker is not None:
        worker.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_in_process_worker_resumes_unfinished_batches_then_runs_new_ones(committed_app):
    app = committed_app
    app.config.update(JOB_BACKEND="thread", BATCH_CHUNK_ROWS=7)
    with app.app_context():
        left_over = make_batch(20)  # confirmed by a process that stopped before running it
        db.session.commit()
    worker = jobs.start_in_process_worker(app)
    worker.wait()
    with app.app_context():
        assert issued_emails(left_over) == [f"p{i:04d}@example.net" for i in range(20)]
        assert db.session.get(IssueBatch, left_over).state is BatchState.DONE
        achievement = public_achievement(db.session.get(IssueBatch, left_over).achievement.public_id)
        user = get_user_by_email("issuer_a@example.org")
        batch = batches.create_draft(achievement.organisation, achievement, "email\nnew@example.net\n",
                                     actor_id=user.id, config=current_app.config)
        batches.confirm(batch, actor_id=user.id)
        db.session.commit()
        jobs.enqueue(app, "batches.run", batch.id)
        batch_id = batch.id
    worker.wait()
    with app.app_context():
        assert issued_emails(batch_id) == ["new@example.net"]
        assert db.session.scalar(select(func.count(IssuedCredential.id))) == 21


@pytest.mark.skipif(not REDIS_URL, reason="set BADGEHUB_TEST_REDIS_URL to run the RQ path against Redis")
def test_rq_queue_and_worker_issue_a_batch(app, ctx, outbox):
    from rq import SimpleWorker

    app.config.update(REDIS_URL=REDIS_URL, JOB_BACKEND=None, JOB_QUEUE=f"badgehub-test-{secrets.token_hex(4)}")
    assert jobs.backend(app) == "rq"
    batch_id = make_batch(12)
    db.session.commit()
    jobs.enqueue(app, "batches.run", batch_id)
    queue = jobs.rq_queue(app)
    try:
        assert queue.count == 1
        assert SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert queue.count == 0
        assert issued_emails(batch_id) == [f"p{i:04d}@example.net" for i in range(12)]
        assert db.session.get(IssueBatch, batch_id).state is BatchState.DONE
        assert len(outbox()) == 12
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from badgehub.cli import main; main()", *args]


def _environment(database_url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(BADGEHUB_DATABASE_URL=database_url, BADGEHUB_SECRET_KEY="test", BADGEHUB_KEK=TEST_KEK,
               BADGEHUB_INSTANCE_PATH=str(instance), BADGEHUB_BASE_URL="http://localhost",
               BADGEHUB_OUTBOX_DIR=str(instance / "outbox"), BADGEHUB_LOG_LEVEL="WARNING")
    return env


@pytest.mark.slow
def test_worker_killed_mid_batch_then_resumed_issues_each_row_exactly_once(committed_app, tmp_path):
    app = committed_app
    total = 120
    with app.app_context():
        batch_id = make_batch(total)
        db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = _environment(url, tmp_path)
    worker = subprocess.Popen(_cli("batches", "run", str(batch_id), "--chunk-rows", "5"),
                              env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Kill it as soon as a chunk is committed (a crash at an arbitrary point of the batch).
        deadline = time.monotonic() + 120
        issued = 0
        while time.monotonic() < deadline and worker.poll() is None:
            with app.app_context():
                issued = db.session.scalar(select(func.count(IssuedCredential.id))
                                           .where(IssuedCredential.batch_id == batch_id)) or 0
                db.session.remove()
            if issued >= 10:
                break
            time.sleep(0.05)
        assert worker.poll() is None, ("the worker ended before it could be killed", worker.communicate())
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    with app.app_context():
        stopped = db.session.get(IssueBatch, batch_id)
        assert stopped.state is BatchState.RUNNING
        assert 10 <= len(issued_emails(batch_id)) < total
        db.session.remove()
    resumed = subprocess.run(_cli("batches", "resume"), env=env, cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed 1 batch(es): {batch_id}" in resumed.stdout
    with app.app_context():
        assert issued_emails(batch_id) == [f"p{i:04d}@example.net" for i in range(total)]
        batch = db.session.get(IssueBatch, batch_id)
        assert (batch.state, batch.issued_count, batch.failed_count) == (BatchState.DONE, total, 0)


@pytest.mark.skipif(not REDIS_URL, reason="set BADGEHUB_TEST_REDIS_URL to run the RQ path against Redis")
def test_badgehub_worker_command_resumes_and_runs_queued_batches(app, ctx, runner):
    app.config.update(REDIS_URL=REDIS_URL, JOB_BACKEND=None, JOB_QUEUE=f"badgehub-test-{secrets.token_hex(4)}")
    left_over = make_batch(3)  # confirmed, never enqueued (its web process died): the worker resumes it
    db.session.commit()
    queue = jobs.rq_queue(app)
    try:
        result = runner.invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        assert db.session.get(IssueBatch, left_over).state is BatchState.DONE
        assert len(issued_emails(left_over)) == 3
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


def test_worker_command_needs_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 1
    assert "BADGEHUB_REDIS_URL is not set" in result.output


def test_two_runs_of_one_batch_never_mail_a_person_twice(committed_app):
    import threading

    from badgehub.issuing.service import signer_for
    from badgehub.mail import read_outbox
    from badgehub.mails.awards import award_mail
    from badgehub.outbox.sender import deliver_pending

    app = committed_app
    with app.app_context():
        batch_id = make_batch(6)
        db.session.commit()
        batch = db.session.get(IssueBatch, batch_id)
        batches.start_running(batch)
        batches.issue_pending_rows(batch, signer=signer_for(batch.organisation, app.config), mailer=award_mail,
                                   config=app.config, limit=6)
        db.session.commit()  # the six e-mails are in the outbox with their credentials
        assert batches.rows_to_mail(batch) == []
        db.session.remove()
    start = threading.Barrier(2)
    sent: list[int] = []

    def a_run() -> None:
        with app.app_context():
            start.wait()
            sent.append(deliver_pending(config=app.config, ref_prefix=f"batch:{batch_id}:").sent)
            db.session.remove()

    threads = [threading.Thread(target=a_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Each message is claimed by exactly one of the two runs.
    assert sum(sent) == 6
    assert sorted(str(message["To"]) for message in read_outbox(Path(app.config["OUTBOX_DIR"]))) == \
        [f"p{i:04d}@example.net" for i in range(6)]


def test_a_batch_whose_worker_died_is_handed_over_when_its_lease_runs_out(committed_app):
    # Regression: a batch whose run died stayed "running" with nothing issued until the server restarted.
    import datetime as dt

    app = committed_app
    app.config.update(JOB_BACKEND="sync", BATCH_CHUNK_ROWS=5)
    with app.app_context():
        batch_id = make_batch(8)
        batch = db.session.get(IssueBatch, batch_id)
        batch.state = BatchState.RUNNING  # a worker took it, then was killed
        batch.lease_owner = "dead-host:1234:abcd"
        batch.lease_expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
        db.session.commit()
    assert jobs.sweep(app) == []  # its lease still runs: the worker may be alive
    with app.app_context():
        assert jobs.tasks.run_batch(batch_id) == "running"  # a second run leaves a live lease alone
        assert issued_emails(batch_id) == []
        db.session.get(IssueBatch, batch_id).lease_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert jobs.sweep(app) == [batch_id]
    with app.app_context():
        batch = db.session.get(IssueBatch, batch_id)
        assert batch.state is BatchState.DONE and batch.lease_owner is None
        assert issued_emails(batch_id) == [f"p{i:04d}@example.net" for i in range(8)]
    assert jobs.sweep(app) == []


def test_a_confirmed_batch_whose_job_was_lost_is_handed_over(committed_app):
    import datetime as dt

    app = committed_app
    app.config.update(JOB_BACKEND="sync", JOB_LEASE_SECONDS=30)
    with app.app_context():
        batch_id = make_batch(3)
        db.session.get(IssueBatch, batch_id).queued_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        db.session.commit()
    assert jobs.sweep(app) == [batch_id]
    with app.app_context():
        assert db.session.get(IssueBatch, batch_id).state is BatchState.DONE


def test_a_batch_started_while_the_database_is_busy_waits_its_turn(committed_app):
    # Regression: a batch started while other writes went on died on its first chunk ("database is locked").
    import threading

    app = committed_app
    with app.app_context():
        batch_id = make_batch(6)
        db.session.commit()
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's single writer lock")
        url = db.engine.url
    from sqlalchemy import create_engine

    blocker = create_engine(url)
    connection = blocker.connect()
    connection.exec_driver_sql("UPDATE issue_batches SET filename = filename")  # holds the write lock
    release = threading.Timer(1.0, lambda: (connection.commit(), connection.close()))
    release.start()
    try:
        with app.app_context():
            assert jobs.tasks.run_task("batches.run", batch_id) == "done"
            assert len(issued_emails(batch_id)) == 6
    finally:
        release.join()
        blocker.dispose()
