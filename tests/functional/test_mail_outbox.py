"""Mail exactly once: the outbox, a real SMTP server on loopback, and a sender killed with SIGKILL at each step.

Regression: killing the process after a chunk of a batch committed but before its mails were marked sent mailed
those people again after restart (303 mails for 300 people).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from badgehub import create_app
from badgehub.extensions import db
from badgehub.mail import Mail, read_outbox
from badgehub.outbox import sender, service
from badgehub.outbox.models import OutboxMessage
from tests.children import run_python
from tests.conftest import REPO_ROOT, TEST_KEK, base_test_config
from tests.functional.test_batch_jobs import make_batch

pytest.importorskip("aiosmtpd")


class Collector:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), str(message["Message-ID"])))
        return "250 OK"


def _free_port() -> int:
    # A port the system picks among the free ones: tests running in parallel do not race for the same one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    from aiosmtpd.controller import Controller

    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_app(fresh_database: Any, tmp_path: Path, smtp: tuple[Collector, int]) -> Iterator[Flask]:
    _collector, port = smtp
    app = create_app({**base_test_config(str(fresh_database()), tmp_path), "MAIL_BACKEND": "smtp",
                      "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# Runs in a child process: the app from the environment, with one step of the sender made fatal (SIGKILL, no
# clean-up of any kind), then the given action.
CHILD = """
import os, signal, sys
from badgehub import create_app
from badgehub.outbox import sender
import badgehub.mail as mail
import badgehub.jobs.tasks as tasks

step, action, arg = sys.argv[1], sys.argv[2], sys.argv[3]
calls = {"n": 0}
real_transmit, real_deliver_pending = mail.transmit, tasks.deliver_pending

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def transmit(raw, config):
    if step == "before_transmit":
        die()
    real_transmit(raw, config)
    if step == "after_transmit":
        die()

def deliver_pending(**kwargs):
    calls["n"] += 1
    if step == "after_chunk_commit" and calls["n"] == 2:  # the first call is the run's start-up round
        die()
    return real_deliver_pending(**kwargs)

sender.transmit = transmit
tasks.deliver_pending = deliver_pending
app = create_app()
with app.app_context():
    if action == "batch":
        tasks.run_task("batches.run", int(arg))
    else:
        sender.deliver_pending(config=app.config)
"""


def _run_child(app: Flask, tmp_path: Path, step: str, action: str, arg: str = "0") -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(BADGEHUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], BADGEHUB_SECRET_KEY="test",
               BADGEHUB_KEK=TEST_KEK, BADGEHUB_INSTANCE_PATH=str(tmp_path), BADGEHUB_BASE_URL="http://localhost",
               BADGEHUB_SMTP_HOST="127.0.0.1", BADGEHUB_SMTP_PORT=str(app.config["SMTP_PORT"]),
               BADGEHUB_SMTP_SECURITY="none", BADGEHUB_LOG_LEVEL="ERROR", BADGEHUB_BATCH_INLINE_ROWS="0")
    returncode, _output = run_python(CHILD, [step, action, arg], env, REPO_ROOT, timeout=120)
    return returncode


def _expire_claims(app: Flask) -> None:
    # What the passing of CLAIM does: the dead sender's hold on its message runs out.
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                           .values(claimed_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.session.commit()


@pytest.mark.parametrize("step", ["after_chunk_commit", "after_transmit"])
def test_a_batch_killed_while_mailing_mails_each_person_once(smtp_app, smtp, tmp_path, step):
    collector, _port = smtp
    app = smtp_app
    with app.app_context():
        batch_id = make_batch(6)
        db.session.commit()
    assert _run_child(app, tmp_path, step, "batch", str(batch_id)) == -9
    with app.app_context():
        # The e-mails were committed with the chunk that issued the credentials.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 6
    before = list(collector.received)
    assert len(before) == (1 if step == "after_transmit" else 0)
    _expire_claims(app)
    with app.app_context():
        from badgehub.jobs import tasks

        assert tasks.run_task("batches.run", batch_id) == "done"
    recipients = sorted({rcpt for rcpts, _mid in collector.received for rcpt in rcpts})
    assert recipients == [f"p{i:04d}@example.net" for i in range(6)]
    message_ids = [mid for _rcpts, mid in collector.received]
    assert len(set(message_ids)) == 6
    # Only a message handed over at the very moment of the crash can leave twice, with its Message-ID.
    assert len(message_ids) == 6 + len(before)


@pytest.mark.parametrize("step", ["before_transmit", "after_transmit"])
def test_a_sender_killed_at_any_step_sends_the_rest_once_with_stable_ids(smtp_app, smtp, tmp_path, step):
    collector, _port = smtp
    app = smtp_app
    with app.app_context():
        queued = [service.queue(Mail(to=f"r{i}@example.net", subject=f"Hello {i}", text="Hi."), config=app.config)
                  for i in range(3)]
        ids = {row.message_id for row in queued}
        db.session.commit()
    assert _run_child(app, tmp_path, step, "deliver") == -9
    first = list(collector.received)
    assert len(first) == (1 if step == "after_transmit" else 0)
    _expire_claims(app)
    with app.app_context():
        assert sender.deliver_pending(config=app.config).sent == 3
        assert sender.deliver_pending(config=app.config).sent == 0  # a restart sends only what is unsent
        assert db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    received_ids = [mid for _rcpts, mid in collector.received]
    assert set(received_ids) == ids
    if step == "after_transmit":
        # The one message whose hand-over could not be marked left twice, recognisably: the same Message-ID.
        assert len(received_ids) == 4 and received_ids.count(first[0][1]) == 2
    else:
        assert len(received_ids) == 3


def test_sent_mail_is_kept_the_retention_period_then_deleted(app, ctx):
    old_id = service.queue(Mail(to="old@example.net", subject="Old", text="Hi."), config=app.config).id
    db.session.commit()
    assert sender.deliver_pending(config=app.config).sent == 1
    fresh_id = service.queue(Mail(to="new@example.net", subject="New", text="Hi."), config=app.config).id
    db.session.commit()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert service.purge_old(config=app.config, now=later) == 1
    remaining = db.session.scalars(select(OutboxMessage.id)).all()
    assert old_id not in remaining and fresh_id in remaining
    assert list(Path(ctx.config["OUTBOX_DIR"]).glob("*.eml")) == []  # the file backend's copy went too


def test_the_purge_command_and_job_forget_only_what_is_past_the_retention(app, runner):
    with app.app_context():
        old_id = service.queue(Mail(to="old@example.net", subject="Old", text="Hi."), config=app.config).id
        waiting_id = service.queue(Mail(to="wait@example.net", subject="Waiting", text="Hi."), config=app.config).id
        db.session.commit()
        assert sender.deliver_by_id(old_id, config=app.config)
        # Delivered 40 days ago; the other one is queued (never purged, however old).
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
        db.session.execute(update(OutboxMessage).values(created_at=long_ago))
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == old_id).values(sent_at=long_ago))
        db.session.commit()
    app.config["MAIL_RETENTION_DAYS"] = 60
    result = runner.invoke(args=["mail", "purge"])
    assert result.exit_code == 0 and "0 e-mail(s) deleted" in result.output
    app.config["MAIL_RETENTION_DAYS"] = 30
    result = runner.invoke(args=["mail", "purge"])
    assert result.exit_code == 0 and "1 e-mail(s) deleted" in result.output
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.id)).all() == [waiting_id]
        from badgehub import jobs
        from badgehub.jobs import tasks

        assert "mail.purge" in jobs.SCHEDULED and tasks.run_task("mail.purge") == 0


def _outbox_updates(app: Flask) -> tuple[list[str], Any]:
    """The UPDATE statements on the outbox run while the returned listener is attached (remove it after)."""
    from sqlalchemy import event

    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "mail_outbox" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return seen, note


def test_the_file_backend_claims_and_marks_a_group_in_two_statements(app, ctx):
    from sqlalchemy import event

    ids = {service.queue(Mail(to=f"r{i}@example.net", subject=f"Hello {i}", text="Hi."), config=app.config)
           .message_id for i in range(5)}
    db.session.commit()
    updates, listener = _outbox_updates(app)
    try:
        delivery = sender.deliver_pending(config=app.config)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert delivery.sent == 5 and len(delivery.sent_ids) == 5
    # One claim of the five, one mark of the five (not one mark per message).
    assert len(updates) == 2
    assert db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    written = [message["Message-ID"] for message in read_outbox(Path(app.config["OUTBOX_DIR"]))]
    assert sorted(written) == sorted(ids)
    assert sender.deliver_pending(config=app.config).sent == 0


def test_smtp_marks_each_message_as_it_leaves(smtp_app, smtp):
    from sqlalchemy import event

    collector, _port = smtp
    with smtp_app.app_context():
        for i in range(3):
            service.queue(Mail(to=f"r{i}@example.net", subject=f"Hello {i}", text="Hi."), config=smtp_app.config)
        db.session.commit()
        updates, listener = _outbox_updates(smtp_app)
        try:
            assert sender.deliver_pending(config=smtp_app.config).sent == 3
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    # Each message claimed just before its conversation and marked just after it.
    assert len(updates) == 6
    assert len(collector.received) == 3
