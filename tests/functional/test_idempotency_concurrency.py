"""Duplicates racing each other: 20 identical awards at once, with one Idempotency-Key, at two app processes
sharing one PostgreSQL database (the case an operator saw give four 201s and four e-mails)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from badgehub.extensions import db
from badgehub.issuing.models import IssuedCredential
from badgehub.mail import read_outbox
from tests.conftest import REPO_ROOT, TEST_KEK
from tests.functional.api_helpers import award, build_api_world

DUPLICATES = 20


def _free_port() -> int:
    for port in range(5700, 5800):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5700-5799")


def _serve(database_url: str, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(BADGEHUB_DATABASE_URL=database_url, BADGEHUB_SECRET_KEY="test", BADGEHUB_KEK=TEST_KEK,
               BADGEHUB_DATA_DIR=str(data), BADGEHUB_BASE_URL="http://localhost", BADGEHUB_LOG_LEVEL="WARNING",
               BADGEHUB_CONFIG=str(data / "badgehub.cfg"), BADGEHUB_RATELIMIT_API="1000 per minute",
               PYTHONPATH=str(REPO_ROOT))
    code = ("from werkzeug.serving import run_simple; from badgehub import create_app; "
            f"run_simple('127.0.0.1', {port}, create_app(), threaded=True)")
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "server died")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"the server on port {port} never became ready")


def _post(port: int, token: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/credentials", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.postgres
@pytest.mark.slow
def test_twenty_simultaneous_duplicates_at_two_nodes_issue_and_mail_once(fresh_database, make_app, tmp_path):
    if not os.environ.get("BADGEHUB_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("two app processes writing at once need PostgreSQL (SQLite has one writer)")
    url = fresh_database()
    app = make_app(url, tmp_path)
    with app.app_context():
        world = build_api_world()
        db.session.commit()
        db.engine.dispose()
    nodes = []
    try:
        for _ in range(2):
            port = _free_port()
            nodes.append((port, _serve(url, tmp_path, port)))
            _wait_ready(port, nodes[-1][1])
        body = award(world["repair"], "lea@example.net")
        start = threading.Barrier(DUPLICATES)
        answers: list[tuple[int, dict[str, Any]]] = []

        def fire(port: int) -> None:
            start.wait()
            answers.append(_post(port, world["token_a"], body, "race-1"))

        threads = [threading.Thread(target=fire, args=(nodes[i % 2][0],)) for i in range(DUPLICATES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
    finally:
        for _port, process in nodes:
            process.terminate()
            process.wait(10)

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * (DUPLICATES - 1) + [201], statuses
    assert len({answer["id"] for _status, answer in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
            IssuedCredential.idempotency_key == "race-1")) == 1
        db.engine.dispose()
    assert len(read_outbox(tmp_path / "outbox")) == 1
