"""The JSON API end to end: what a client of ``/api/v1`` gets per second, through the WSGI app.

Run: ``.venv/bin/python bench/api.py [--count 50] [--batch 100] [--postgres URL]``
or:  ``.venv/bin/python bench/api.py --open-loop --rate 20 --seconds 15 [--email] [--workers 2] [--port 5601]``

On a freshly migrated database (the organisation and achievement of ``bench/issuing.py``) with one API token,
through Flask's test client (no network, so the figures are the application's: token check, JSON parsing,
the issuing service with both proofs, the commit, the JSON answer):

* ``POST /credentials``: ``--count`` awards one by one, without e-mail (``send_email: false``) and with it
  (file outbox: the baked PNG is made and attached);
* ``POST /credentials/batch``: first a batch of ``--batch`` awards without e-mail in a process whose signing pool
  is not running ("pool starting": it signs in the issuing process until the pool is ready); then, the pools
  running, one batch without e-mail and one with (all checked first, signed on the pool of signing processes,
  one commit);
* ``GET /credentials?limit=100``: pages of the list once they exist.

**Open loop** (``--open-loop``): the figures above are closed-loop (the next request waits for the previous
answer), which hides queueing. This mode starts the production server (gunicorn, ``--workers`` sync workers,
on 127.0.0.1:``--port``) and sends ``POST /credentials`` at a fixed ``--rate`` for ``--seconds``, each request
at its scheduled time whether or not the previous ones have been answered (one thread per request). Latency is
counted from the scheduled time, so a server that falls behind shows it; the percentiles (p50, p90, p95, p99,
max) are printed with the achieved rate and the load average. ``--email`` asks for the e-mail too (file
outbox: the baked PNG is made and written).

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from issuing import DEFAULT_POSTGRES, _config, _postgres_database, _prepare  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402
from badgehub.issuing import parallel  # noqa: E402


def _token(url: str, instance: Path, kek: str) -> str:
    from badgehub.accounts.service import get_user_by_email
    from badgehub.organisations.service import organisations_of
    from badgehub.tokens import service as tokens

    app = create_app(_config(url, instance, kek))
    with app.app_context():
        owner = get_user_by_email("owner@bench.example")
        organisation = organisations_of(owner)[0].organisation
        _row, token = tokens.create_token(organisation, owner, name="bench", scopes=tokens.SCOPES)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def _measure(url: str, instance: Path, kek: str, public_id: str, count: int,
             batch: int) -> list[tuple[str, float, str]]:
    token = _token(url, instance, kek)
    app = create_app({**_config(url, instance, kek), "RATELIMIT_API": "100000 per minute"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    figures: list[tuple[str, float, str]] = []

    def award(n: Any, send_email: bool) -> dict[str, Any]:
        return {"achievement": public_id, "recipient": {"email": f"p{n}@example.net", "name": "Participant"},
                "idempotency_key": f"bench-{n}", "send_email": send_email}

    for send_email in (False, True):
        start = time.perf_counter()
        for n in range(count):
            response = client.post("/api/v1/credentials", headers=headers, json=award(f"{send_email}-{n}", send_email))
            assert response.status_code == 201, response.get_json()
        elapsed = time.perf_counter() - start
        label = "POST /credentials, one by one" + (", e-mailed" if send_email else ", no e-mail")
        figures.append((label, count / elapsed, "credentials/s"))
    # A process's first batch finds no signing pool ready: it signs here while the pool starts (seconds, once).
    parallel.shutdown()
    start = time.perf_counter()
    response = client.post("/api/v1/credentials/batch", headers=headers,
                           json={"items": [award(f"cold-{n}", False) for n in range(batch)]})
    elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.get_json()
    figures.append((f"POST /credentials/batch of {batch}, no e-mail, pool starting", elapsed, "s wall"))
    # The figures below are a process whose pools run: a batch waits for them to be ready (SIGNING_POOL_FROM 2).
    pool_from = app.config.get("SIGNING_POOL_FROM")
    app.config["SIGNING_POOL_FROM"] = 2
    warm = client.post("/api/v1/credentials/batch", headers=headers,
                       json={"items": [award(f"warm-{n}", True) for n in range(4)]})
    assert warm.status_code == 201, warm.get_json()
    app.config["SIGNING_POOL_FROM"] = pool_from
    for send_email in (False, True):
        start = time.perf_counter()
        response = client.post("/api/v1/credentials/batch", headers=headers,
                               json={"items": [award(f"batch-{send_email}-{n}", send_email) for n in range(batch)]})
        elapsed = time.perf_counter() - start
        assert response.status_code == 201, response.get_json()
        figures.append((f"POST /credentials/batch of {batch}, {'e-mailed' if send_email else 'no e-mail'}",
                        elapsed, "s wall"))
        figures.append(("  (same batch, per credential)", batch / elapsed, "credentials/s"))
    pages = 20
    start = time.perf_counter()
    for _ in range(pages):
        assert client.get("/api/v1/credentials?limit=100", headers=headers).status_code == 200
    elapsed = time.perf_counter() - start
    figures.append(("GET /credentials?limit=100", pages / elapsed, "pages/s"))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def _wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _open_loop(url: str, instance: Path, kek: str, public_id: str, *, rate: float, seconds: float, email: bool,
               workers: int, port: int) -> list[tuple[str, float, str]]:
    """Serve the app with gunicorn and send awards at a fixed rate; return the latency percentiles in ms."""
    token = _token(url, instance, kek)
    settings = _config(url, instance, kek)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BADGEHUB_DATABASE_URL": url, "BADGEHUB_KEK": kek,
           "BADGEHUB_SECRET_KEY": "bench", "BADGEHUB_INSTANCE_PATH": str(instance),
           "BADGEHUB_OUTBOX_DIR": str(settings["OUTBOX_DIR"]), "BADGEHUB_BASE_URL": settings["BASE_URL"],
           "BADGEHUB_MAIL_BACKEND": "file", "BADGEHUB_LOG_LEVEL": "WARNING",
           "BADGEHUB_RATELIMIT_API": "1000000 per minute", "BADGEHUB_REDIS_URL": "",
           "BADGEHUB_STATUS_LIST_REFRESH_SECONDS": "0"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log_path = instance / "server.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen([str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                   "--log-level", "warning", "badgehub:create_app()"], env=env, cwd=str(ROOT),
                                  stdout=log_file, stderr=subprocess.STDOUT)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def award(tag: str) -> bytes:
        return json.dumps({"achievement": public_id, "recipient": {"email": f"{tag}@example.net", "name": "P"},
                           "idempotency_key": tag, "send_email": email}).encode()

    def send(tag: str, scheduled: float | None) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/api/v1/credentials", body=award(tag), headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as exc:  # a time-out: the server is that far behind
            status = 0
            if scheduled is not None:
                with lock:
                    failures.append(type(exc).__name__)
        finally:
            connection.close()
        if scheduled is not None:
            with lock:
                if status == 201:
                    latencies.append(time.perf_counter() - scheduled)
                elif status:
                    failures.append(str(status))

    try:
        _wait_for_port(port, server)
        for n in range(2 * workers):  # each worker loads its contexts and keys once before the clock starts
            send(f"warm-{n}", None)
        threads: list[threading.Thread] = []
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=send, args=(f"open-{n}", scheduled), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    if any(failure != "TimeoutError" for failure in failures):
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{len(failures)} requests failed: {sorted(set(failures))}; server log ends:\n{tail}")
    # A request that timed out counts as the slowest there is: the percentiles above it read "inf".
    values = sorted([latency * 1000 for latency in latencies] + [math.inf] * len(failures))
    label = f"open loop {rate:g}/s, {'e-mailed' if email else 'no e-mail'}"
    figures = [(f"{label}: sent", float(len(values)), "requests"),
               (f"{label}: timed out (60 s)", float(len(failures)), "requests"),
               (f"{label}: answered per second", len(latencies) / elapsed, "requests/s")]
    for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        figures.append((f"{label}: {name}", _percentile(values, fraction), "ms"))
    return figures


def main() -> int:
    """Measure, print the table, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="Awards one by one, per mode.")
    parser.add_argument("--batch", type=int, default=100, help="Awards in the batch figure.")
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL", DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip).")
    parser.add_argument("--open-loop", action="store_true", help="Fixed-rate POST /credentials through gunicorn.")
    parser.add_argument("--rate", type=float, default=20.0, help="Open loop: requests per second.")
    parser.add_argument("--seconds", type=float, default=15.0, help="Open loop: how long to send.")
    parser.add_argument("--email", action="store_true", help="Open loop: ask for the e-mail too.")
    parser.add_argument("--workers", type=int, default=2, help="Open loop: gunicorn workers.")
    parser.add_argument("--port", type=int, default=5601, help="Open loop: port on 127.0.0.1.")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        backends: list[tuple[str, str, Any]] = [("SQLite", f"sqlite:///{Path(folder) / 'SQLite' / 'bench.db'}", None)]
        if options.postgres:
            made = _postgres_database(options.postgres)
            if made is not None:
                backends.append(("PostgreSQL", made[0], made[1]))
        for name, url, drop in backends:
            instance = Path(folder) / name
            instance.mkdir(exist_ok=True)
            try:
                public_id = _prepare(url, instance, kek)
                if options.open_loop:
                    figures = _open_loop(url, instance, kek, public_id, rate=options.rate, seconds=options.seconds,
                                         email=options.email, port=options.port,
                                         workers=options.workers)
                else:
                    figures = _measure(url, instance, kek, public_id, options.count, options.batch)
                for label, value, unit in figures:
                    print(f"{name:<10} {label:<45} {value:>8.2f} {unit}")
                print(f"{name:<10} load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
            finally:
                if drop is not None:
                    drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
