"""Verification under load: ``/c/<id>`` and ``POST /api/v1/verify`` served by gunicorn (2 workers) at a fixed rate.

Run: ``.venv/bin/python bench/verify.py [--rates 100,200] [--seconds 20] [--credentials 300] [--postgres URL]
[--redis URL]``

For each backend (a SQLite file in a temporary folder; PostgreSQL when reachable, ``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, on a throw-away database created and dropped here):

1. migrate a fresh database and fill it like the demo: one territory, four organisations (three approved
   members, one suspended), two badges each, ``--credentials`` credentials spread over them, one in twenty
   revoked;
2. start ``gunicorn --workers 2`` on a free port of 127.0.0.1 (the app from :func:`bench_app`: the real
   ``create_app`` with the verification rate limit raised, since every request here comes from one address);
3. drive an **open-loop** load: requests are *scheduled* at each of ``--rates`` per second whatever the server does
   (``wrk2``-style, no coordinated omission), sent over ``--connections`` keep-alive connections, and each
   latency is measured from the request's scheduled time to the end of its response. A warm-up of a few
   seconds (each worker loads its JSON-LD contexts and schema once) is not counted.

Also printed, measured apart in this process through the WSGI test client: the median CPU time of one request
(what a worker spends on it, whatever else the machine does), and the machine's load average after each figure.

Targets: ``GET /c/<id>`` over every credential (the HTML page with its live verification), and
``POST /api/v1/verify`` with the stored JSON of a random credential. Printed: requests sent, rate achieved,
p50 / p95 / p99 / max latency, errors (anything but 200, or no answer). The goals: ``/c/<id>`` p95 < 20 ms at 200
requests per second on both databases, and at most 3 ms of CPU per view (the verdict is cached by what it depends
on, see :mod:`badgehub.issuing.live`). The machine is what it is: the figures include the load generator sharing
its CPUs with the two workers (and with whatever else runs).

Then **revoke during the load**: while ``/c/<id>`` is under the highest rate, one valid credential is revoked
(committed from this process, as a staff member's request would), and its page is asked for over fresh
connections until every worker has answered "Revoked" (``X-Bench-Worker`` names the worker). Printed: the time
from the commit to the last worker's first "Revoked" (goal: under 1 s) and the number of views after the commit
that still said "Valid" (must be 0: each view reads what its verdict depends on).

wrk is not used even when installed: it is closed-loop (its latencies hide queueing), and the point of the
target is latency at a fixed arrival rate.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import queue
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASE_URL = "https://badges.example.org"
UNLIMITED = {"RATELIMIT_VERIFY": "1000000 per minute", "RATELIMIT_HOLDER_CHECK": "1000000 per minute"}


def bench_app() -> Any:
    """The app gunicorn serves: ``create_app`` from the ``BADGEHUB_*`` environment, with the verification
    rate limit raised (the load comes from one address; the limit is not what is measured), and each answer
    saying which worker gave it (``X-Bench-Worker``), so that the revocation check can tell the workers apart."""
    from badgehub import create_app

    app = create_app(UNLIMITED)

    @app.after_request
    def _worker(response: Any) -> Any:
        response.headers["X-Bench-Worker"] = str(os.getpid())
        return response

    return app


def _in_process_app(url: str, instance: Path, kek: str) -> Any:
    from badgehub import create_app

    return create_app({"SECRET_KEY": "bench", "KEK": kek, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                       "BASE_URL": BASE_URL, "LOG_LEVEL": "WARNING", "RATELIMIT_STORAGE_URI": "memory://",
                       **UNLIMITED})



# ------------------------------------------------------------------------------------------------- data


def _prepare(url: str, instance: Path, kek: str, count: int) -> list[str]:
    """Migrate and fill the database; return the public ids of the issued credentials."""
    from flask_migrate import upgrade

    from badgehub import create_app
    from badgehub.accounts.service import create_user
    from badgehub.achievements.images import Design
    from badgehub.achievements.service import AchievementFields, create_achievement
    from badgehub.extensions import db
    from badgehub.issuing import service as issuing
    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership

    app = create_app({"SECRET_KEY": "bench", "KEK": kek, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                      "OUTBOX_DIR": instance / "outbox", "BASE_URL": BASE_URL, "LOG_LEVEL": "WARNING",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    ids: list[str] = []
    with app.test_request_context():
        upgrade()
        territory = create_territory(name="Val d'Orge", slug="val-d-orge", areas=[("centre", "Centre")])
        coordinator = create_user("coord@bench.example", name="Coordination", verified=True)
        add_coordinator(territory_slug=territory.slug, user=coordinator, actor_id=None)
        design = Design(shape="circle", background="#1d4ed8", foreground="#ffffff", pictogram="gear", text="")
        badges = []
        for n, (name, sector) in enumerate((("Atelier Vélo", "community"), ("Médiathèque", "public_services"),
                                            ("Lycée Pro", "education"), ("Garage Solidaire", "economic"))):
            owner = create_user(f"owner{n}@bench.example", name=f"Owner {n}", verified=True)
            organisation = create_organisation(owner, ProfileFields(name=name, type="association", sector=sector),
                                               config=current_app.config)
            membership = decide_membership(request_membership(organisation, territory, owner, ""), "approve",
                                           coordinator)
            for badge in ("Réparer une crevaison", "Animer un atelier"):
                badges.append(create_achievement(organisation, owner, AchievementFields(
                    name=f"{badge} ({name})", description="Sait faire ce qui est décrit dans les critères.",
                    criteria_md="- démonter la roue\n- trouver le trou\n- poser une rustine", in_language="fr",
                    valid_for_days=365 if badge.startswith("Animer") else None), design))
            db.session.commit()
        signers = {badge.organisation_id: issuing.signer_for(badge.organisation, app.config) for badge in badges}
        for index in range(count):
            badge = badges[index % len(badges)]
            credential = issuing.issue_credential(
                organisation=badge.organisation, achievement=badge, recipient_email=f"p{index}@bench.example",
                recipient_name=f"Participant {index}", actor_id=None, source="demo",
                signer=signers[badge.organisation_id], evidence_url="https://example.org/evidence",
                narrative="A réparé trois vélos en public.", config=current_app.config)
            ids.append(str(credential.public_id))
            if index % 20 == 19:
                issuing.revoke_credential(credential, reason="other", note="Bench: revoked", actor_id=None,
                                          config=current_app.config)
            if index % 50 == 49:
                db.session.commit()
        # The last organisation is suspended once it has issued: its pages say so.
        decide_membership(membership, "suspend", coordinator, "Bench: one suspended issuer")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


def _documents(url: str, instance: Path, kek: str, ids: Sequence[str]) -> list[bytes]:
    from badgehub import create_app
    from badgehub.extensions import db
    from badgehub.issuing import service as issuing

    app = create_app({"SECRET_KEY": "bench", "KEK": kek, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                      "BASE_URL": BASE_URL, "LOG_LEVEL": "WARNING", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        documents = [issuing.get_credential(public_id).document_json.encode("utf-8") for public_id in ids[:100]]
        db.session.remove()
        db.engine.dispose()
    return documents


def _service_times(url: str, instance: Path, kek: str, ids: Sequence[str], documents: Sequence[bytes],
                   count: int = 200) -> dict[str, float]:
    """Median CPU milliseconds per request, in this process through the WSGI test client (memo warm): what one
    request costs a worker, whatever else the machine is doing."""
    from badgehub.extensions import db

    app = _in_process_app(url, instance, kek)
    client = app.test_client()
    chooser = random.Random(3)
    figures: dict[str, float] = {}
    for name, make in _targets(ids, documents).items():
        for _ in range(3 * len(ids)):  # warm: nearly every document (95 %) at least once
            method, path, body, headers = make(chooser)
            client.open(path, method=method, data=body, headers=headers)
        times = []
        for _ in range(count):
            method, path, body, headers = make(chooser)
            start = time.process_time()
            response = client.open(path, method=method, data=body, headers=headers)
            times.append(time.process_time() - start)
            assert response.status_code == 200, (path, response.status_code)
        figures[name] = sorted(times)[len(times) // 2] * 1000
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


# ------------------------------------------------------------------------------------------------ server


def _free_port() -> int:
    # BENCH_PORTS (e.g. 5800-5899) keeps the server in a range of ports agreed on a shared machine.
    first, _, last = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port in BENCH_PORTS")


def _start_gunicorn(url: str, instance: Path, kek: str, workers: int, threads: int = 1,
                    redis_url: str | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {**os.environ, "BADGEHUB_DATABASE_URL": url, "BADGEHUB_INSTANCE_PATH": str(instance),
           "BADGEHUB_SECRET_KEY": "bench-" + secrets.token_hex(8), "BADGEHUB_KEK": kek, "BADGEHUB_BASE_URL": BASE_URL,
           "BADGEHUB_LOG_LEVEL": "WARNING"}
    env.pop("BADGEHUB_REDIS_URL", None)
    if redis_url:
        env["BADGEHUB_REDIS_URL"] = redis_url  # verdicts shared by the workers (and rate limits kept there)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning",
         "--pythonpath", f"{ROOT / 'bench'},{ROOT}", "verify:bench_app()"],
        env=env, cwd=instance)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


# ------------------------------------------------------------------------------------------------- load


Request = tuple[str, str, bytes | None, dict[str, str]]


@dataclass
class Figures:
    sent: int
    done: int
    errors: int
    seconds: float
    latencies: list[float]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def open_loop(port: int, make: Callable[[random.Random], Request], rate: float, seconds: float,
              connections: int) -> Figures:
    """Schedule ``rate × seconds`` requests at fixed intervals; workers send them over keep-alive connections.
    A latency runs from the scheduled time to the end of the response, so queueing counts."""
    jobs: queue.Queue[tuple[float, Request] | None] = queue.Queue()
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    last_done = 0.0

    def worker() -> None:
        nonlocal errors, last_done
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (job := jobs.get()) is not None:
            scheduled, (method, path, body, headers) = job
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            done = time.perf_counter()
            with lock:
                latencies.append(done - scheduled)
                last_done = max(last_done, done)
                if status != 200:
                    errors += 1
        connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    chooser = random.Random(7)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((scheduled, make(chooser)))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    return Figures(total, len(latencies), errors, max(last_done - start, 1e-9), latencies)


def _targets(ids: Sequence[str], documents: Sequence[bytes]) -> dict[str, Callable[[random.Random], Request]]:
    def page(chooser: random.Random) -> Request:
        return "GET", f"/c/{chooser.choice(ids)}", None, {"Accept-Language": "fr"}

    def api(chooser: random.Random) -> Request:
        return "POST", "/api/v1/verify", chooser.choice(documents), {"Content-Type": "application/json"}

    return {"GET /c/<id>": page, "POST /api/v1/verify": api}


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]] | None:
    """A throw-away database on the server and the function that drops it, or None if unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"badgehub_bench_{secrets.token_hex(4)}"
    try:
        admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}): skipped")
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


_TITLE = re.compile(r'id="verdict-title"[^>]*>(.*?)</h1>', re.S)


def _title(html: str) -> str:
    match = _TITLE.search(html)
    return re.sub(r"<[^>]+>|[✓✗!?]", "", match.group(1)).strip() if match else ""


def _revoke_during_load(url: str, instance: Path, kek: str, port: int, ids: Sequence[str],
                        options: argparse.Namespace) -> tuple[float, int, int, float]:
    """Under the page load at the highest rate, revoke one valid credential through the database (as a staff
    member's request would) and poll its page over fresh connections until every worker has shown "Revoked".
    Returns the seconds from the commit to the last worker's first "Revoked", the number of views after the commit
    that still said "Valid" (must be 0), how many workers answered, and the median latency of those views (on a
    saturated machine the first number is mostly that: the wait behind the queued load)."""
    from badgehub.extensions import db
    from badgehub.issuing import service as issuing

    target = next(public_id for index, public_id in enumerate(ids) if index % 20 != 19)
    page = _targets(ids, [b"{}"])["GET /c/<id>"]
    load = threading.Thread(target=open_loop, args=(port, page, max(options.rates), 6.0, options.connections),
                            daemon=True)
    load.start()
    time.sleep(2.0)
    app = _in_process_app(url, instance, kek)
    with app.test_request_context():
        issuing.revoke_credential(issuing.get_credential(target), reason="other", note="Bench: revoked under load",
                                   actor_id=None, config=current_app.config)
        db.session.commit()
        committed = time.perf_counter()
        db.session.remove()
        db.engine.dispose()
    first_revoked: dict[str, float] = {}
    waits: list[float] = []
    stale = 0
    deadline = committed + 10
    while time.perf_counter() < deadline and len(first_revoked) < options.workers:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sent = time.perf_counter()
        connection.request("GET", f"/c/{target}", headers={"Accept-Language": "en", "Connection": "close"})
        response = connection.getresponse()
        title = _title(response.read().decode("utf-8", "replace"))
        seen = time.perf_counter()
        waits.append(seen - sent)
        worker = response.getheader("X-Bench-Worker") or "?"
        connection.close()
        if title == "Revoked":
            first_revoked.setdefault(worker, seen - committed)
        elif title == "Valid":
            stale += 1
    load.join()
    latest = max(first_revoked.values()) if len(first_revoked) >= options.workers else float("nan")
    return latest, stale, len(first_revoked), sorted(waits)[len(waits) // 2] if waits else float("nan")


def _measure(label: str, url: str, instance: Path, kek: str, options: argparse.Namespace) -> None:
    """Prepare one backend, serve it with gunicorn, print one row per target and rate as soon as it is measured,
    then the revocation check."""
    instance.mkdir()
    ids = _prepare(url, instance, kek, options.credentials)
    documents = _documents(url, instance, kek, ids)
    services = _service_times(url, instance, kek, ids, documents)
    process, port = _start_gunicorn(url, instance, kek, options.workers, options.threads, options.redis)
    try:
        for rate in options.rates:
            for name, make in _targets(ids, documents).items():
                open_loop(port, make, rate, options.warmup, options.connections)
                figures = open_loop(port, make, rate, options.seconds, options.connections)
                print(f"{label:<11} {name:<20} {rate:>5g} {figures.sent:>6} {figures.done / figures.seconds:>7.1f} "
                      f"{figures.percentile(0.50):>8.1f} {figures.percentile(0.95):>8.1f} "
                      f"{figures.percentile(0.99):>8.1f} {max(figures.latencies, default=0) * 1000:>8.1f} "
                      f"{figures.errors:>7} {services[name]:>10.1f} {os.getloadavg()[0]:>8.2f}", flush=True)
        seconds, stale, workers, wait = _revoke_during_load(url, instance, kek, port, ids, options)
        print(f"{label:<11} revoke during the load ({max(options.rates):g}/s): every worker shows 'Revoked' "
              f"{seconds * 1000:.0f} ms after the commit ({workers} workers seen; median latency of these views "
              f"{wait * 1000:.0f} ms); views still 'Valid' after the commit: {stale}; "
              f"load avg {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    """Measure, print the table row by row, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=lambda text: [float(part) for part in text.split(",")],
                        default=[100.0, 200.0], help="Requests per second (open loop), comma-separated.")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="Give the workers this Redis (BADGEHUB_REDIS_URL): verdicts shared between them.")
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured duration of each figure.")
    parser.add_argument("--warmup", type=float, default=4.0, help="Unmeasured warm-up before each figure.")
    parser.add_argument("--credentials", type=int, default=300, help="Credentials issued (the pages requested).")
    parser.add_argument("--connections", type=int, default=32, help="Keep-alive connections of the load generator.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument("--threads", type=int, default=1,
                        help="Threads per worker (more than 1: gunicorn's gthread worker, which overlaps the waits "
                             "for PostgreSQL).")
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL", DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip).")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="Measure one backend only.")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    rates = ", ".join(f"{rate:g}" for rate in options.rates)
    print(f"BadgeHub verification under an open-loop load of {rates} requests/s for {options.seconds:g} s "
          f"(gunicorn {options.workers} workers × {options.threads} thread(s), {options.connections} keep-alive "
          f"connections; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU, {platform.machine()})")
    print("CPU ms/req: median CPU time of one request in one process (memo warm), measured apart from the load; "
          "load avg: the machine's 1-minute load average at the end of the figure (its CPUs are shared by the "
          "workers, the load generator and anything else running).")
    print(f"{'database':<11} {'target':<20} {'rate':>5} {'sent':>6} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'errors':>7} {'CPU ms/req':>10} {'load avg':>8}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        backends: list[tuple[str, str, Callable[[], None] | None]] = []
        if options.only in (None, "sqlite"):
            backends.append(("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", None))
        if options.postgres and options.only in (None, "postgresql"):
            found = _postgres_database(options.postgres)
            if found is not None:
                backends.append(("PostgreSQL", found[0], found[1]))
        try:
            for label, url, _drop in backends:
                try:
                    _measure(label, url, Path(folder) / label.lower(), kek, options)
                except Exception as exc:  # one backend failing (say, a migration in progress) leaves the other's
                    print(f"{label:<11} failed: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
        finally:
            for _label, _url, drop in backends:
                if drop is not None:
                    drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
