"""Load and soak: real servers, real workers, a bounded mix of requests, and processes killed with SIGKILL.

Run: ``.venv/bin/python bench/soak.py [--minutes 2] [--rate 20] [--postgres URL] [--redis URL]``
     ``.venv/bin/python bench/soak.py --sqlite [--minutes 1] [--clients 30]``

**PostgreSQL + Redis** (the production shape): a throw-away database, two gunicorn servers on two loopback ports
and two ``badgehub worker`` processes on a throw-away Redis queue. Requests are sent open-loop at ``--rate`` per
second, spread over both servers (a request refused by a server that is down goes to the other, as a proxy
would), in this mix: issue one credential by the API (every award e-mailed, each with its idempotency key and
retried with it after a network error), a CSV batch of 5 rows through the web form (handed to the workers),
verify a credential, the credential page ``/c/<id>``, a shared wallet page, the observatory. Halfway through,
one server and one worker are killed with SIGKILL, then started again.

**SQLite** (``--sqlite``, the default of a laptop or a demo): one gunicorn server with the in-process job thread,
``--clients`` closed-loop clients sending the same mix, nothing killed.

E-mail goes to an SMTP server on loopback run by this script (aiosmtpd), which counts what it receives. At the
end (after waiting for the batches to finish) the script prints: the 5xx answers (target 0), the other failed
requests, the credentials issued against those asked (equal), the duplicate e-mails (0: the same person mailed
twice; a message re-sent after a crash mid-conversation keeps its Message-ID and is shown apart), the median
and p95 latency per route, and the resident memory of every process at start and end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402
from issuing import DEFAULT_POSTGRES, _config, _postgres_database, _prepare  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PORTS = range(5300, 5400)
PASSWORD = "soak test passphrase"
CSV_ROWS = 5


def _free_ports(count: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise SystemExit("no free port in 5300-5399")


class MailCounter:
    """An SMTP handler that remembers who got what."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received.append((recipient.lower(), str(message["Message-ID"])))
        return "250 OK"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    failovers: int = 0
    asked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[route].append(seconds)
            self.statuses[(route, status)] += 1


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (a gunicorn master and its worker)."""
    total = _rss_kib(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += _tree_rss_kib(int(child))
    return total


class Process:
    """A server or worker started in its own process group, so that SIGKILL takes all of it at once."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen[bytes] | None = None
        self.memory: list[int] = []

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=handle, stderr=handle,
                                      start_new_session=True)

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def sample_memory(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.memory.append(_tree_rss_kib(self.popen.pid))


def _wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server on port {port} did not start")


def _world(url: str, instance: Path, kek: str, public_id: str) -> dict[str, Any]:
    """The owner's password and API token, a credential to look at and verify, a wallet share."""
    from werkzeug.security import generate_password_hash

    from badgehub.accounts.service import create_user, get_user_by_email
    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import service as issuing
    from badgehub.tokens import service as tokens
    from badgehub.wallet.shares import create_share

    app = create_app(_config(url, instance, kek))
    with app.app_context():
        owner = get_user_by_email("owner@bench.example")
        owner.password_hash = generate_password_hash(PASSWORD)
        achievement = public_achievement(public_id)
        organisation = achievement.organisation
        _row, token = tokens.create_token(organisation, owner, name="soak", scopes=tokens.SCOPES)
        learner = create_user("learner@bench.example", name="Learner", verified=True)
        credential = issuing.issue_credential(organisation=organisation, achievement=achievement,
                                              recipient_email=learner.email, recipient_name="Learner",
                                              actor_id=None, source="api", config=current_app.config)
        share = create_share(learner, title="CV", credential_ids=[credential.public_id])
        db.session.commit()
        world = {"token": token, "slug": organisation.slug, "credential": credential.public_id,
                 "document": credential.document_json, "share": share.token, "achievement": public_id}
        db.session.remove()
        db.engine.dispose()
    return world


class Client:
    """One simulated client: a requests session signed in as the organisation's owner, and the mix."""

    def __init__(self, ports: list[int], alive: dict[int, bool], world: dict[str, Any], tally: Tally) -> None:
        self.ports, self.alive, self.world, self.tally = ports, alive, world, tally
        self.session = requests.Session()
        self.signed_in = False

    def _send(self, route: str, method: str, path: str, **options: Any) -> requests.Response | None:
        order = self.ports[:]
        random.shuffle(order)
        order.sort(key=lambda port: not self.alive.get(port, True))
        for attempt, port in enumerate(order):
            start = time.perf_counter()
            try:
                response = self.session.request(method, f"http://127.0.0.1:{port}{path}", timeout=60,
                                                allow_redirects=False, **options)
            except requests.ConnectionError:
                with self.tally.lock:
                    self.tally.failovers += 1
                continue
            except requests.RequestException as error:
                with self.tally.lock:
                    self.tally.failures[f"{route}: {type(error).__name__}"] += 1
                return None
            self.tally.record(route, response.status_code, time.perf_counter() - start)
            del attempt
            return response
        with self.tally.lock:
            self.tally.failures[f"{route}: no server answered"] += 1
        return None

    def _sign_in(self) -> None:
        page = self._send("sign-in", "GET", "/sign-in")
        token = _csrf(page)
        if token is None:
            return
        answer = self._send("sign-in", "POST", "/sign-in", data={
            "csrf_token": token, "email": "owner@bench.example", "password": PASSWORD})
        self.signed_in = answer is not None and answer.status_code == 302

    def issue_one(self) -> None:
        key = secrets.token_hex(8)
        body = {"achievement": self.world["achievement"], "idempotency_key": f"soak-{key}",
                "recipient": {"email": f"api-{key}@example.net", "name": "Participant"}}
        with self.tally.lock:
            self.tally.asked += 1
        for _ in range(3):  # a lost answer is asked again with the same key: still one credential
            answer = self._send("POST /api/v1/credentials", "POST", "/api/v1/credentials", json=body,
                                headers={"Authorization": f"Bearer {self.world['token']}"})
            if answer is not None and answer.status_code in (200, 201):
                return

    def csv_batch(self) -> None:
        if not self.signed_in:
            self._sign_in()
        slug = self.world["slug"]
        token = _csrf(self._send("GET batches/new", "GET", f"/organisations/{slug}/batches/new"))
        if token is None:
            return
        tag = secrets.token_hex(6)
        pasted = "email,name\n" + "".join(f"csv-{tag}-{n}@example.net,P {n}\n" for n in range(CSV_ROWS))
        draft = self._send("POST batches/new", "POST", f"/organisations/{slug}/batches/new", data={
            "csrf_token": token, "achievement": self.world["achievement"], "pasted": pasted})
        if draft is None or draft.status_code != 302:
            return
        detail = draft.headers["Location"]
        token = _csrf(self._send("GET batch", "GET", detail))
        if token is None:
            return
        confirmed = self._send("POST batch confirm", "POST", detail.rstrip("/") + "/confirm",
                               data={"csrf_token": token})
        if confirmed is not None and confirmed.status_code == 302:
            with self.tally.lock:
                self.tally.asked += CSV_ROWS

    def verify(self) -> None:
        self._send("POST /api/v1/verify", "POST", "/api/v1/verify", data=self.world["document"],
                   headers={"Content-Type": "application/json"})

    def credential_page(self) -> None:
        self._send("GET /c/<id>", "GET", f"/c/{self.world['credential']}")

    def wallet(self) -> None:
        self._send("GET /w/<token>", "GET", f"/w/{self.world['share']}")

    def observatory(self) -> None:
        self._send("GET /t/<slug>/observatory", "GET", "/t/bench/observatory")

    def one_of_the_mix(self) -> None:
        action: Callable[[], None] = random.choices(
            [self.issue_one, self.csv_batch, self.verify, self.credential_page, self.wallet, self.observatory],
            weights=[30, 5, 15, 25, 15, 10])[0]
        action()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf(page: requests.Response | None) -> str | None:
    if page is None or page.status_code != 200:
        return None
    found = _CSRF.search(page.text)
    return found.group(1) if found else None


def _environment(url: str, instance: Path, kek: str, smtp_port: int, redis: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BADGEHUB_")}
    env.update(PYTHONPATH=str(ROOT), BADGEHUB_DATABASE_URL=url, BADGEHUB_SECRET_KEY="soak", BADGEHUB_KEK=kek,
               BADGEHUB_INSTANCE_PATH=str(instance), BADGEHUB_BASE_URL="http://127.0.0.1",
               BADGEHUB_SMTP_HOST="127.0.0.1", BADGEHUB_SMTP_PORT=str(smtp_port), BADGEHUB_SMTP_SECURITY="none",
               BADGEHUB_LOG_LEVEL="WARNING", BADGEHUB_BATCH_INLINE_ROWS="0", BADGEHUB_JOB_LEASE_SECONDS="20",
               BADGEHUB_RATELIMIT_API="100000 per minute", BADGEHUB_RATELIMIT_SIGNIN="100000 per minute",
               BADGEHUB_RATELIMIT_VERIFY="100000 per minute", BADGEHUB_RATELIMIT_PUBLIC_PAGES="100000 per minute",
               BADGEHUB_RATELIMIT_WALLET_SHARE="100000 per minute")
    if redis:
        env["BADGEHUB_REDIS_URL"] = redis
    return env


def _gunicorn(port: int, threads: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads",
            str(threads), "--worker-class", "gthread", "--timeout", "120", "badgehub:create_app()"]


def _worker() -> list[str]:
    return [sys.executable, "-c", "from badgehub.cli import main; main()", "worker"]


def _drain(url: str, instance: Path, kek: str, timeout: float) -> tuple[int, int]:
    """Wait for the batches to finish and the outbox to empty; return (credentials issued, batches unfinished)."""
    from sqlalchemy import func, select

    from badgehub.issuing.models import BatchState, IssueBatch, IssuedCredential
    from badgehub.outbox.models import OutboxMessage

    app = create_app(_config(url, instance, kek))
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            unfinished = db.session.scalar(select(func.count()).select_from(IssueBatch).where(
                IssueBatch.state.in_((BatchState.QUEUED, BatchState.RUNNING)))) or 0
            unsent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))) or 0
            db.session.rollback()
            if (not unfinished and not unsent) or time.monotonic() > deadline:
                break
            time.sleep(1)
        issued = db.session.scalar(select(func.count()).select_from(IssuedCredential).where(
            IssuedCredential.recipient_email.like("%@example.net"))) or 0
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.attempts > 1)):
            print(f"outbox message {row.id} ({row.ref}) took {row.attempts} attempts: {row.last_error}")
        db.session.remove()
        db.engine.dispose()
    return int(issued), int(unfinished)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _report(tally: Tally, mails: MailCounter, processes: list[Process], issued: int, unfinished: int,
            seconds: float) -> bool:
    total = sum(tally.statuses.values())
    server_errors = sum(count for (route, status), count in tally.statuses.items() if status >= 500)
    print(f"\n{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s); load: {os.getloadavg()[0]:.1f}")
    print(f"5xx answers: {server_errors}")
    for (route, status), count in sorted(tally.statuses.items()):
        if status >= 400:
            print(f"  {route}: {count} × {status}")
    print(f"requests without an answer: {sum(tally.failures.values())} {dict(tally.failures) or ''}")
    print(f"refused connections sent to the other server: {tally.failovers}")
    print(f"credentials asked {tally.asked}, issued {issued}; batches unfinished {unfinished}")
    by_person = Counter(recipient for recipient, _mid in mails.received if recipient.endswith("@example.net"))
    same_id = Counter(mails.received)
    resent = sum(count - 1 for count in same_id.values() if count > 1)
    duplicates = sum(count - 1 for count in by_person.values() if count > 1) - resent
    print(f"e-mails received {len(mails.received)} for {len(by_person)} people; duplicates {duplicates}; "
          f"re-sent after a crash with the same Message-ID {resent}")
    print("\nroute                               n   median ms   p95 ms")
    for route, values in sorted(tally.latencies.items()):
        print(f"{route:34} {len(values):4}   {statistics.median(values) * 1000:8.0f}   "
              f"{_percentile(values, 0.95) * 1000:6.0f}")
    print("\nprocess        RSS at start   RSS at end (MiB)")
    for process in processes:
        if process.memory:
            print(f"{process.name:14} {process.memory[0] / 1024:10.0f}   {process.memory[-1] / 1024:10.0f}")
    return server_errors == 0 and issued == tally.asked and duplicates == 0


def _show_logged_errors(processes: list[Process]) -> None:
    """The distinct errors the processes logged (what to look at when a figure is not the target)."""
    seen: Counter[str] = Counter()
    for process in processes:
        for line in process.log.read_text(errors="replace").splitlines():
            if re.search(r"(Error|Exception)\b", line) and not line.startswith(" "):
                seen[f"{process.name}: {line.split(': ', 1)[-1][:160]}"] += 1
    if seen:
        print("\nlogged errors:")
        for line, count in seen.most_common(12):
            print(f"  {count} × {line}")


def _load(clients: list[Client], *, seconds: float, rate: float | None, midway: Callable[[], None] | None,
          sample: Callable[[], None]) -> float:
    start = time.monotonic()
    stop_at = start + seconds
    fired_midway = False
    next_sample = start
    if rate is None:  # closed loop: every client sends, waits for the answer, sends again
        def loop(client: Client) -> None:
            while time.monotonic() < stop_at:
                client.one_of_the_mix()

        threads = [threading.Thread(target=loop, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if time.monotonic() >= next_sample:
                sample()
                next_sample += 10
            time.sleep(0.5)
        return time.monotonic() - start
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        free: list[Client] = list(clients)
        lock = threading.Lock()

        def run(client: Client) -> None:
            try:
                client.one_of_the_mix()
            finally:
                with lock:
                    free.append(client)

        sent = 0
        while (now := time.monotonic()) < stop_at:
            if midway is not None and not fired_midway and now >= start + seconds / 2:
                fired_midway = True
                threading.Thread(target=midway).start()
            if now >= next_sample:
                sample()
                next_sample += 10
            due = int((now - start) * rate)
            while sent < due:
                with lock:
                    client = free.pop() if free else None
                if client is None:
                    break  # every client busy: the backlog is bounded, the rate drops instead
                pool.submit(run, client)
                sent += 1
            time.sleep(0.01)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second (PostgreSQL run)")
    parser.add_argument("--sqlite", action="store_true", help="the SQLite default: one server, closed loop")
    parser.add_argument("--clients", type=int, default=30, help="concurrent clients of the SQLite run")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    seconds = args.minutes * 60
    kek = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="badgehub-soak-") as folder:
        instance = Path(folder)
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if args.sqlite:
            url = f"sqlite:///{instance / 'badgehub.db'}"
        else:
            made = _postgres_database(args.postgres)
            if made is None:
                print(f"PostgreSQL is not reachable at {args.postgres}")
                return 1
            url, drop = made
        smtp_port, *web_ports = _free_ports(3 if not args.sqlite else 2)
        if args.sqlite:
            web_ports = web_ports[:1]
        mails = MailCounter()
        smtp = Controller(mails, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        processes: list[Process] = []
        try:
            public_id = _prepare(url, instance, kek)
            world = _world(url, instance, kek, public_id)
            redis = None if args.sqlite else args.redis
            if redis:
                import redis as redis_module

                redis_module.Redis.from_url(redis).flushdb()
            env = _environment(url, instance, kek, smtp_port, redis)
            threads = args.clients if args.sqlite else 8
            for number, port in enumerate(web_ports, 1):
                processes.append(Process(f"web {number}", _gunicorn(port, threads), env, instance / f"web{number}.log"))
            if not args.sqlite:
                for number in (1, 2):
                    processes.append(Process(f"worker {number}", _worker(), env, instance / f"worker{number}.log"))
            for process in processes:
                process.start()
            for port in web_ports:
                _wait_up(port)
            alive = {port: True for port in web_ports}
            tally = Tally()
            count = args.clients if args.sqlite else max(8, int(args.rate * 2))
            clients = [Client(web_ports, alive, world, tally) for _ in range(count)]

            def sample() -> None:
                for process in processes:
                    process.sample_memory()

            def midway() -> None:
                web, worker = processes[0], processes[2]
                print(f"[{time.strftime('%H:%M:%S')}] SIGKILL to {web.name} and {worker.name}")
                alive[web_ports[0]] = False
                web.kill()
                worker.kill()
                time.sleep(5)
                web.start()
                worker.start()
                _wait_up(web_ports[0])
                alive[web_ports[0]] = True
                print(f"[{time.strftime('%H:%M:%S')}] {web.name} and {worker.name} started again")

            shape = (f"SQLite, {count} concurrent clients" if args.sqlite
                     else f"PostgreSQL + Redis, {args.rate:g} requests/s")
            print(f"{shape} for {args.minutes:g} min")
            elapsed = _load(clients, seconds=seconds, rate=None if args.sqlite else args.rate,
                            midway=None if args.sqlite else midway, sample=sample)
            issued, unfinished = _drain(url, instance, kek, timeout=180)
            sample()
            time.sleep(2)  # the last e-mails' SMTP conversations
            ok = _report(tally, mails, processes, issued, unfinished, elapsed)
            _show_logged_errors(processes)
        finally:
            for process in processes:
                process.stop()
            smtp.stop()
            if not args.sqlite:
                drop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
