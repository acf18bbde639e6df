"""Two web nodes and two workers on one PostgreSQL and one Redis, as in production; then one worker is killed.

Run: ``.venv/bin/python bench/two_nodes.py [--seconds 15] [--clients 8] [--batch-rows 400]``

On a throw-away PostgreSQL database (``--postgres``) and an empty Redis database (``--redis``, default db 12),
starts two gunicorn instances with ``deploy/gunicorn.conf.py`` (2 workers × 2 threads each, their own control
sockets) and two ``badgehub worker`` processes, then prints:

* steady load: ``--clients`` threads issue credentials through ``POST /api/v1/credentials`` (no e-mail),
  alternating between the nodes for ``--seconds``: answers per second, median and 95th percentile latency,
  errors;
* 20 simultaneous duplicates (one ``Idempotency-Key``, 10 per node): the statuses, credentials, e-mails;
* a CSV batch of ``--batch-rows`` rows handed to the queue; the worker running it is killed (SIGKILL) once some
  rows are issued. The script watches whether the other worker goes on with it, then starts a replacement
  worker the way systemd's ``Restart=always`` would (5 s later); it prints the time to finish and checks that
  each row was issued once and each person mailed once;
* what ``/readyz`` and ``/metrics`` of each node say at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api import _token  # noqa: E402
from issuing import DEFAULT_POSTGRES, _config, _postgres_database, _prepare  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402

KEK = "5a" * 32
PORTS = (5730, 5731)


def _env(url: str, redis_url: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(BADGEHUB_DATABASE_URL=url, BADGEHUB_REDIS_URL=redis_url, BADGEHUB_SECRET_KEY="bench",
               BADGEHUB_KEK=KEK, BADGEHUB_DATA_DIR=str(data), BADGEHUB_CONFIG=str(data / "badgehub.cfg"),
               BADGEHUB_BASE_URL="https://badges.example.org", BADGEHUB_LOG_LEVEL="WARNING",
               BADGEHUB_RATELIMIT_API="100000 per minute", BADGEHUB_METRICS_TOKEN="bench",
               PYTHONPATH=str(ROOT))
    return env


def _call(port: int, path: str, token: str | None = None, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any]:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=sent,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            raw = answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _call(port, "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"node on port {port} never became ready")


def _steady(token: str, achievement: str, seconds: float, clients: int) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        sent = 0
        while time.monotonic() < stop:
            port = PORTS[(number + sent) % 2]
            body = {"achievement": achievement, "send_email": False,
                    "recipient": {"email": f"c{number}-{sent}@example.net", "name": "Bench"}}
            started = time.perf_counter()
            status, _answer = _call(port, "/api/v1/credentials", token, body)
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
            sent += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    print(f"steady load, {clients} clients over 2 nodes, {elapsed:.1f} s: {len(ordered)} answers "
          f"({len(ordered) / elapsed:.1f}/s), median {statistics.median(ordered) * 1000:.0f} ms, "
          f"p95 {ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms, statuses {statuses}")


def _duplicates(token: str, achievement: str, outbox: Path) -> None:
    before = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    barrier = threading.Barrier(20)
    answers: list[tuple[int, Any]] = []
    body = {"achievement": achievement, "recipient": {"email": "dup@example.net", "name": "Dup"}}

    def fire(port: int) -> None:
        barrier.wait()
        answers.append(_call(port, "/api/v1/credentials", token, body, {"Idempotency-Key": "bench-dup"}))

    threads = [threading.Thread(target=fire, args=(PORTS[i % 2],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in answers)
    ids = {answer.get("id") for _, answer in answers if isinstance(answer, dict)}
    mails = len(list(outbox.glob("*.eml"))) - before
    print(f"20 simultaneous duplicates at 2 nodes: {statuses.count(201)}×201, {statuses.count(200)}×200, "
          f"others {[s for s in statuses if s not in (200, 201)]}; credentials {len(ids)}; e-mails {mails}")


def _batch_progress(app: Any, batch_id: int) -> tuple[str, int]:
    from badgehub.issuing.models import IssueBatch

    with app.app_context():
        batch = db.session.get(IssueBatch, batch_id)
        state, issued = batch.state.value, batch.issued_count
        db.session.remove()
    return state, issued


def _busy_worker_pid(redis_url: str) -> int | None:
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    for worker in Worker.all(connection=connection):
        if worker.get_current_job_id() is not None:
            return int(worker.pid) if worker.pid else None
    return None


def _killed_worker(url: str, redis_url: str, data: Path, achievement: str, rows: int,
                   workers: list[subprocess.Popen[bytes]], env: dict[str, str]) -> None:
    from sqlalchemy import func, select

    from badgehub import jobs
    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import batches
    from badgehub.issuing.models import IssuedCredential

    app = create_app({**_config(url, data, KEK), "REDIS_URL": redis_url, "OUTBOX_DIR": data / "outbox"})
    with app.app_context():
        badge = public_achievement(achievement)
        csv = "email,name\n" + "".join(f"b{i:04d}@example.net,B {i}\n" for i in range(rows))
        batch = batches.create_draft(badge.organisation, badge, csv, actor_id=None, config=current_app.config)
        batches.confirm(batch, actor_id=None)
        batch_id = batch.id
        db.session.commit()
        db.session.remove()
    outbox = data / "outbox"
    mails_before = len(list(outbox.glob("*.eml")))
    started = time.monotonic()
    jobs.enqueue(app, "batches.run", batch_id)
    victim = None
    while time.monotonic() - started < 120:
        state, issued = _batch_progress(app, batch_id)
        if issued >= min(50, rows // 4):
            victim = _busy_worker_pid(redis_url)
            if victim is not None:
                break
        time.sleep(0.1)
    if victim is None:
        print("killed worker: no worker was seen running the batch")
        return
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    _state, issued_at_kill = _batch_progress(app, batch_id)
    print(f"batch of {rows} rows: worker pid {victim} killed after {killed_at - started:.1f} s, "
          f"{issued_at_kill} rows issued")
    time.sleep(15)
    state, issued = _batch_progress(app, batch_id)
    print(f"  15 s later, with the other worker alive: state {state}, {issued} rows issued "
          f"({'the surviving worker went on' if issued > issued_at_kill else 'nobody went on'})")
    if state != "done":
        print("  starting a replacement worker (systemd Restart=always would, after RestartSec=5)")
        workers.append(subprocess.Popen([sys.executable, "-c", "from badgehub.cli import main; main()", "worker"],
                                        env=env, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    while time.monotonic() - killed_at < 300:
        state, issued = _batch_progress(app, batch_id)
        if state == "done":
            break
        time.sleep(0.2)
    finished = time.monotonic()
    with app.app_context():
        credentials = db.session.scalar(select(func.count(IssuedCredential.id))
                                        .where(IssuedCredential.batch_id == batch_id))
        distinct = db.session.scalar(select(func.count(func.distinct(IssuedCredential.recipient_email)))
                                     .where(IssuedCredential.batch_id == batch_id))
        db.session.remove()
        db.engine.dispose()
    mails = len(list(outbox.glob("*.eml"))) - mails_before
    print(f"  state {state} {finished - killed_at:.1f} s after the kill ({finished - started:.1f} s in all); "
          f"credentials {credentials} for {distinct} people (rows {rows}); e-mails {mails}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch-rows", type=int, default=400)
    args = parser.parse_args()
    from redis import Redis

    if Redis.from_url(args.redis).dbsize():
        print(f"{args.redis} is not empty: give an unused Redis database with --redis")
        return 1
    made = _postgres_database(args.postgres)
    if made is None:
        return 1
    url, drop = made
    processes: list[subprocess.Popen[bytes]] = []
    workers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="badgehub-two-nodes-") as folder:
        data = Path(folder)
        try:
            achievement = _prepare(url, data, KEK)
            token = _token(url, data, KEK)
            env = _env(url, args.redis, data)
            for port in PORTS:
                node_env = {**env, "BADGEHUB_GUNICORN_BIND": f"127.0.0.1:{port}",
                            "BADGEHUB_GUNICORN_INSTANCE": f"bench-{port}", "BADGEHUB_GUNICORN_WORKERS": "2",
                            "RUNTIME_DIRECTORY": str(data / f"run-{port}")}
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                     "badgehub:create_app()"], env=node_env, cwd=data,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for _ in range(2):
                workers.append(subprocess.Popen(
                    [sys.executable, "-c", "from badgehub.cli import main; main()", "worker"], env=env, cwd=data,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for port in PORTS:
                _wait_ready(port)
            sockets = sorted(str(p.relative_to(data)) for p in data.glob("run-*/gunicorn.ctl"))
            print(f"nodes ready on {PORTS}; control sockets {sockets}")
            _steady(token, achievement, args.seconds, args.clients)
            _duplicates(token, achievement, data / "outbox")
            _killed_worker(url, args.redis, data, achievement, args.batch_rows, workers, env)
            for port in PORTS:
                status, body = _call(port, "/readyz")
                _s, metrics = _call(port, "/metrics", headers={"Authorization": "Bearer bench"})
                requests = sum(float(line.rsplit(" ", 1)[1]) for line in str(metrics).splitlines()
                               if line.startswith("badgehub_http_requests_total{"))
                print(f"node {port}: /readyz {status} {body.get('status') if isinstance(body, dict) else body}; "
                      f"/metrics counts {requests:.0f} requests over its workers")
        finally:
            for process in [*processes, *workers]:
                if process.poll() is None:
                    process.terminate()
            for process in [*processes, *workers]:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            Redis.from_url(args.redis).flushdb()  # checked empty at the start: only this run's keys
            drop()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"(uptime), {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
