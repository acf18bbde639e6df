"""The JavaScript interop peer: one ``node peer.mjs`` process per test session, spoken to in JSON lines.

Install it with ``npm ci --prefix tests/interop --no-audit --no-fund`` (``scripts/test.sh`` does).
Without ``tests/interop/node_modules`` (or without ``node``) the interop tests are skipped with that
hint — except under ``CI`` (any non-empty value but ``0``/``false``), where a missing harness FAILS.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
INSTALL_HINT = "npm ci --prefix tests/interop --no-audit --no-fund"
_TIMEOUT = 60.0


class PeerError(RuntimeError):
    """The JavaScript peer answered with an error (e.g. its safe mode refused a document)."""


class JsPeer:
    """A long-lived ``node peer.mjs``; :meth:`call` sends one request and waits for its answer."""

    def __init__(self, node: str) -> None:
        self._process = subprocess.Popen(
            [node, str(HERE / "peer.mjs")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        self._next_id = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, args=(self._process.stdout, self._answers.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self._process.stderr, self._stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, sink: Any) -> None:
        for line in stream:
            sink(line)

    def call(self, op: str, **arguments: Any) -> Any:
        """Run ``op`` in the peer and return its result; raises :class:`PeerError` on a peer error."""
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps({"id": request_id, "op": op, **arguments}) + "\n")
            self._process.stdin.flush()
            try:
                line = self._answers.get(timeout=_TIMEOUT)
            except queue.Empty:
                raise RuntimeError(
                    f"JS peer did not answer {op} in {_TIMEOUT}s; stderr: {''.join(self._stderr)[-2000:]}"
                ) from None
        answer = json.loads(line)
        assert answer["id"] == request_id, answer
        if not answer["ok"]:
            raise PeerError(answer["error"])
        return answer["result"]

    def close(self) -> None:
        """Close stdin and wait for the peer to exit (killing it if it hangs)."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_harness() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules").is_dir():
        return f"tests/interop/node_modules is missing; install the JS peer with `{INSTALL_HINT}`"
    return None


@pytest.fixture(scope="session")
def js_peer() -> Iterator[JsPeer]:
    """The session's JavaScript peer (skipped locally, failed under CI, when it is not installed)."""
    problem = _missing_harness()
    if problem is not None:
        if _ci():
            pytest.fail(f"interop harness missing under CI: {problem}")
        pytest.skip(problem)
    node = shutil.which("node")
    assert node is not None
    peer = JsPeer(node)
    try:
        peer.call("ping")
        yield peer
    finally:
        peer.close()


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` that runs the npm clients of tests/interop (skipped locally, failed under CI, when missing)."""
    problem = _missing_harness()
    if problem is not None:
        if _ci():
            pytest.fail(f"interop harness missing under CI: {problem}")
        pytest.skip(problem)
    found = shutil.which("node")
    assert found is not None
    return found


def run_node(node: str, script: str, payload: Any) -> Any:
    """Run ``script`` (a file of tests/interop) with ``payload`` as JSON on stdin; return its JSON stdout."""
    completed = subprocess.run([node, str(HERE / script)], input=json.dumps(payload), capture_output=True,
                               text=True, cwd=HERE, timeout=_TIMEOUT, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)
