"""Issuing throughput end to end: credentials per second through ``issue_credential``, committed.

Run: ``.venv/bin/python bench/issuing.py [--seconds 5] [--postgres URL] [--workers 2]``

Each figure issues credentials for at least ``--seconds`` through the real service on a freshly migrated
database: checks, status-list lock and random index, version lock, the OB 3.0 document, the Data Integrity
proof (eddsa-rdfc-2022), the RS256 VC-JWT over it, the row and its audit event. No e-mail is sent (that is
the caller's, after commit). Modes:

* ``one by one``: one transaction per credential, the keys decrypted for each (the award form, the API);
* ``batch of 50``: one :class:`~badgehub.issuing.service.Signer` and one commit per 50 credentials (what a CSV
  batch can do; each credential is still its own savepoint);
* ``N workers``: PostgreSQL only, ``--workers`` processes issuing one by one for the same organisation at once
  (they take turns on its status list row, so this shows the cost of that lock rather than a speed-up).

Then the wall time of a **CSV batch** of ``--csv-rows`` participants (default 1,000) through the real path:
reading the file and checking every row into a draft (the preview), then the job that issues it in committed
chunks and e-mails each person (file outbox), as :func:`badgehub.jobs.tasks.run_batch` does in production.

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.db import reset_write_intent, set_write_intent  # noqa: E402
from badgehub.extensions import db  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 50


def _config(url: str, instance: Path, kek: str) -> dict[str, Any]:
    return {"SECRET_KEY": "bench", "KEK": kek, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
            "OUTBOX_DIR": instance / "outbox", "BASE_URL": "https://badges.example.org", "MAIL_BACKEND": "file",
            "LOG_LEVEL": "WARNING", "RATELIMIT_STORAGE_URI": "memory://",
            # No scheduled refresh or purge in the background: it would write (and scan the outbox) mid-figure.
            "STATUS_LIST_REFRESH_SECONDS": 0}


def _prepare(url: str, instance: Path, kek: str) -> str:
    """Migrate and create one organisation with one achievement; return the achievement's public id."""
    from flask_migrate import upgrade

    from badgehub.accounts.service import create_user
    from badgehub.achievements.images import Design
    from badgehub.achievements.service import AchievementFields, create_achievement
    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.territory.service import create_territory, decide_membership, request_membership

    app = create_app(_config(url, instance, kek))
    with app.app_context():
        upgrade()
        create_territory(name="Bench", slug="bench", areas=[("centre", "Centre")])
        owner = create_user("owner@bench.example", name="Owner", verified=True)
        coordinator = create_user("coord@bench.example", name="Coordinator", verified=True)
        from badgehub.territory.service import add_coordinator, get_territory_by_slug

        add_coordinator(territory_slug="bench", user=coordinator, actor_id=None)
        organisation = create_organisation(owner, ProfileFields(
            name="Atelier Vélo Solidaire", type="association", sector="community", url="https://velo.example.org"),
            config=app.config)
        decide_membership(request_membership(organisation, get_territory_by_slug("bench"), owner, ""), "approve",
                          coordinator)
        achievement = create_achievement(organisation, owner, AchievementFields(
            name="Réparer une crevaison", description="Sait réparer une chambre à air crevée.",
            criteria_md="- démonter la roue\n- trouver le trou\n- poser une rustine", tags="vélo, réparation",
            in_language="fr", valid_for_days=365),
            Design(shape="circle", background="#1d4ed8", foreground="#ffffff", pictogram="gear", text=""))
        db.session.commit()
        public_id = str(achievement.public_id)
        db.session.remove()
        db.engine.dispose()
    return public_id


def _issue_for(url: str, instance: Path, kek: str, public_id: str, seconds: float, batch: bool,
               tag: str) -> tuple[int, float]:
    """Issue for ``seconds``; return (credentials, elapsed seconds)."""
    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import service as issuing

    app = create_app(_config(url, instance, kek))
    with app.app_context():
        achievement = public_achievement(public_id)
        organisation_id = achievement.organisation_id
        count = 0
        start = time.perf_counter()
        while True:
            achievement = public_achievement(public_id)
            signer = issuing.signer_for(achievement.organisation, app.config) if batch else None
            for _ in range(BATCH if batch else 1):
                issuing.issue_credential(
                    organisation=achievement.organisation, achievement=achievement,
                    recipient_email=f"p{tag}-{count}@example.net", recipient_name="Participant", actor_id=None,
                    source="csv" if batch else "api", signer=signer, config=app.config)
                count += 1
            db.session.commit()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        assert organisation_id
        db.session.remove()
        db.engine.dispose()
    return count, elapsed


def _csv_batch(url: str, instance: Path, kek: str, public_id: str,
               rows: int) -> tuple[float, float, float, float, int]:
    """Upload ``rows`` participants as a cp1252 semicolon file (Excel in French), preview, confirm and issue;
    return (preview seconds, issuing seconds, CPU seconds of this process for both, CPU seconds of the signing and
    QR processes, credentials issued)."""
    import resource

    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import batches, parallel
    from badgehub.jobs import tasks

    parallel.shutdown()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)

    data = ("Prénom;Nom;Courriel;Date;Quartier\r\n" + "".join(
        f"Élise;Participant {n};csv-{n}@example.net;01/03/2025;centre\r\n" for n in range(rows))).encode("cp1252")
    # A list over the default limit of rows per file (5,000) is the operator's to allow (BADGEHUB_CSV_MAX_ROWS).
    app = create_app({**_config(url, instance, kek), "CSV_MAX_ROWS": max(rows, 5000)})
    with app.app_context():
        achievement = public_achievement(public_id)
        cpu = time.process_time()
        start = time.perf_counter()
        # Written as the upload's request and the job write: the write lock taken when a transaction begins.
        intent = set_write_intent(True)
        batch = batches.create_draft(achievement.organisation, achievement, data, filename="bench.csv",
                                     actor_id=None, config=app.config)
        db.session.commit()
        preview = time.perf_counter() - start
        assert batch.valid_rows == rows, (batch.valid_rows, rows)
        start = time.perf_counter()
        batches.confirm(batch, actor_id=None)
        db.session.commit()
        state = tasks.run_batch(batch.id)
        issuing = time.perf_counter() - start
        cpu = time.process_time() - cpu
        reset_write_intent(intent)
        assert state == "done", state
        issued = batch.issued_count
        db.session.remove()
        db.engine.dispose()
    parallel.shutdown()  # the pools' processes end and are waited for: their CPU time is then the children's
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    pools = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return preview, issuing, cpu, pools, issued


def _worker(args: tuple[str, str, str, str, float, str]) -> tuple[int, float]:
    url, instance, kek, public_id, seconds, tag = args
    return _issue_for(url, Path(instance), kek, public_id, seconds, False, tag)


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]] | None:
    """A throw-away database on the server and the function that drops it, or None if unreachable."""
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


def main() -> int:
    """Measure, print the table, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Minimum duration of each figure.")
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL", DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip).")
    parser.add_argument("--workers", type=int, default=2, help="Parallel processes for the PostgreSQL figure.")
    parser.add_argument("--csv-rows", type=int, default=1000, help="Participants in the CSV batch figure (0: skip).")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    rows: list[tuple[str, str, int, float]] = []
    csv_figures: list[tuple[str, float, float, float, float, int]] = []
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        backends: list[tuple[str, str, Callable[[], None] | None]] = [
            ("SQLite", f"sqlite:///{instance / 'bench.db'}", None)]
        if options.postgres:
            found = _postgres_database(options.postgres)
            if found is not None:
                backends.append(("PostgreSQL", found[0], found[1]))
        try:
            for label, url, _drop in backends:
                public_id = _prepare(url, instance, kek)
                for mode, batch in (("one by one", False), (f"batch of {BATCH}", True)):
                    count, elapsed = _issue_for(url, instance, kek, public_id, options.seconds, batch, mode[:3])
                    rows.append((label, mode, count, elapsed))
                if label == "PostgreSQL" and options.workers > 1:
                    context = multiprocessing.get_context("spawn")
                    with context.Pool(options.workers) as pool:
                        start = time.perf_counter()
                        results = pool.map(_worker, [(url, str(instance), kek, public_id, options.seconds, f"w{n}")
                                                     for n in range(options.workers)])
                        elapsed = time.perf_counter() - start
                    rows.append((label, f"{options.workers} workers", sum(r[0] for r in results), elapsed))
                if options.csv_rows > 0:
                    csv_figures.append((label, *_csv_batch(url, instance, kek, public_id, options.csv_rows)))
        finally:
            for _label, _url, drop in backends:
                if drop is not None:
                    drop()
    print(f"\nBadgeHub issuing, end to end and committed (Python {platform.python_version()}, "
          f"{os.cpu_count()} CPU, {platform.machine()})")
    print(f"{'database':<11} {'mode':<12} {'credentials':>11} {'seconds':>8} {'per second':>11}")
    for label, mode, count, elapsed in rows:
        print(f"{label:<11} {mode:<12} {count:>11} {elapsed:>8.1f} {count / elapsed:>11.1f}")
    if csv_figures:
        print(f"\nCSV batch of {options.csv_rows} rows (cp1252, semicolons; preview = read + check every row; "
              "issue = signed, stored, committed in chunks, e-mailed)")
        print(f"{'database':<11} {'preview s':>9} {'issue s':>8} {'total s':>8} {'CPU s':>6} {'pools CPU s':>11} "
              f"{'issued':>7}")
        for label, preview, issuing, cpu, pools, issued in csv_figures:
            print(f"{label:<11} {preview:>9.1f} {issuing:>8.1f} {preview + issuing:>8.1f} {cpu:>6.1f} {pools:>11.1f} "
                  f"{issued:>7}")
        print("(CPU s: this process only; pools CPU s: its signing and QR processes; the machine is shared, so wall "
              "time also shows other load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
