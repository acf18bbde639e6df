"""Where an award's time goes: cProfile over awards through the API and over a CSV batch.

Run: ``.venv/bin/python bench/profile_award.py [--count 50] [--batch 100 --batches 5] [--csv-rows 200]
[--postgres URL] [--top 30]``

On a freshly migrated database (the organisation and achievement of ``bench/issuing.py``), after a few warm-up
awards (so the one-off costs of a new process, such as loading the JSON-LD contexts, are not counted):

* ``--count`` awards one by one through ``POST /api/v1/credentials`` (Flask's test client), e-mailed through
  the file outbox, profiled together;
* ``--batches`` API batches of ``--batch`` awards without e-mail (``POST /api/v1/credentials/batch``), after
  one warm-up batch, profiled together (the signatures made on the pool's processes are not in the profile:
  the wait for them is);
* one CSV batch of ``--csv-rows`` rows, preview and issue, profiled together.

For each, the table groups the cumulative time by the parts the issue names (signatures, key loading, SQL,
audit, observatory, e-mail and PNG baking, status lists), then prints the ``--top`` functions by cumulative
time. Figures are per award. SQLite only unless ``--postgres`` is given.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api import _token  # noqa: E402
from issuing import _config, _postgres_database, _prepare  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.db import writing  # noqa: E402
from badgehub.extensions import db  # noqa: E402

# (label, file fragment, function name): the cumulative time of the first match on the stack is the figure.
PARTS: list[tuple[str, str, str]] = [
    ("whole award (view or batch job)", "", ""),
    ("issue_one (a single award: read, then write)", "mails/awards.py", "issue_one"),
    ("  in the write transaction (store, queue, commit)", "mails/awards.py", "store"),
    ("  e-mail written before it (recipient_mail)", "mails/awards.py", "recipient_mail"),
    ("issue_credential (service)", "issuing/service.py", "issue_credential"),
    ("issue_or_replay (service)", "issuing/service.py", "issue_or_replay"),
    ("  signer_for (keys, identity, profile)", "issuing/service.py", "signer_for"),
    ("    load_private_key (decrypt + check)", "keys/service.py", "load_private_key"),
    ("  sign_data_integrity", "credentials/data_integrity.py", "sign_data_integrity"),
    ("    canonicalize (2 per award)", "credentials/canonical.py", "canonicalize"),
    ("      JSON-LD expansion (pyld)", "credentials/canonical.py", "_expand_safe"),
    ("      toRDF (pyld)", "credentials/canonical.py", "_to_quads"),
    ("      RDFC-1.0", "credentials/canonical.py", "canonicalize_quads"),
    ("  sign_vc_jwt (RS256)", "credentials/vc_jwt.py", "sign_vc_jwt"),
    ("  build_credential", "credentials/documents.py", "build_credential"),
    ("  lock_open_list (status list)", "issuing/status_lists.py", "lock_open_list"),
    ("  draw_free_index", "issuing/status_lists.py", "draw_free_index"),
    ("  lock_version", "achievements/service.py", "lock_version"),
    ("  achievement_definition", "achievements/service.py", "achievement_definition"),
    ("  audit record", "audit/service.py", "record"),
    ("  observatory (count_issued)", "stats/service.py", "count_issued"),
    ("notify_recipient (e-mail)", "mails/awards.py", "notify_recipient"),
    ("queue_notification (API e-mail)", "mails/awards.py", "queue_notification"),
    ("create_draft (CSV preview)", "issuing/batches.py", "create_draft"),
    ("bulk.plan (checks, replays, indexes)", "issuing/bulk.py", "plan"),
    ("bulk.sign (waiting for the pool)", "issuing/bulk.py", "sign"),
    ("  waiting for a chunk's signatures", "issuing/bulk.py", "finish"),
    ("bulk.store (rows, counts, audit)", "issuing/bulk.py", "store"),
    ("queue_row_mail (CSV e-mail, queued)", "issuing/batches.py", "queue_row_mail"),
    ("_queue_rows_mail (a chunk's e-mails)", "issuing/batches.py", "_queue_rows_mail"),
    ("  award_notices (links, locales, offers)", "issuing/notify.py", "award_notices"),
    ("    QR codes not drawn with the signatures", "issuing/parallel.py", "qr_pngs"),
    ("  award_notice (links, locale, offer)", "issuing/notify.py", "award_notice"),
    ("    QR code of the wallet offer", "printing/qr.py", "qr_png"),
    ("    PNG baking", "credentials/baking.py", "bake_png"),
    ("  award_mail (templates)", "mails/awards.py", "award_mail"),
    ("  build_message (MIME)", "badgehub/mail.py", "build_message"),
    ("  as_bytes (MIME to bytes)", "email/message.py", "as_bytes"),
    ("  outbox queue (MIME bytes, row)", "outbox/service.py", "queue"),
    ("deliver_pending (outbox to files)", "outbox/sender.py", "deliver_pending"),
    ("  claims", "outbox/sender.py", "_claim"),
    ("  marks (file backend: one per claimed group)", "outbox/sender.py", "_mark_sent"),
    ("SQL execute (all)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
]


def _cumulative(stats: pstats.Stats, fragment: str, name: str) -> tuple[float, int]:
    total, calls = 0.0, 0
    for (filename, _line, function), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and fragment in filename.replace("\\", "/"):
            total += ct
            calls += nc
    return total, calls


def _report(title: str, profile: cProfile.Profile, awards: int, wall: float, top: int) -> None:
    stats = pstats.Stats(profile)
    folder = os.environ.get("BADGEHUB_PROFILE_DUMP")  # a folder: each profile saved there for pstats or snakeviz
    if folder:
        profile.dump_stats(Path(folder) / (title.split(",")[0].replace("/", "_") + ".prof"))
    print(f"\n{title}: {awards} awards, {wall / awards * 1000:.1f} ms each under the profiler")
    print(f"{'part':<42} {'ms/award':>9} {'share':>6} {'calls/award':>12}")
    for label, fragment, name in PARTS:
        if not fragment:
            total, calls = wall, awards
        else:
            total, calls = _cumulative(stats, fragment, name)
        if calls:
            print(f"{label:<42} {total / awards * 1000:>9.2f} {total / wall * 100:>5.0f}% {calls / awards:>12.2f}")
    if top:
        stats.sort_stats("cumulative").print_stats(top)


def _run_profiled(work: Callable[[], int]) -> tuple[cProfile.Profile, int, float]:
    import time

    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    awards = work()
    profile.disable()
    return profile, awards, time.perf_counter() - start


def _profile_api(url: str, instance: Path, kek: str, public_id: str, count: int, top: int) -> None:
    token = _token(url, instance, kek)
    app = create_app({**_config(url, instance, kek), "RATELIMIT_API": "100000 per minute"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def award(tag: str, n: int) -> None:
        response = client.post("/api/v1/credentials", headers=headers, json={
            "achievement": public_id, "recipient": {"email": f"{tag}{n}@example.net", "name": "Participant"},
            "idempotency_key": f"{tag}-{n}", "send_email": True})
        assert response.status_code == 201, response.get_json()

    for n in range(5):
        award("warm", n)

    def work() -> int:
        for n in range(count):
            award("p", n)
        return count

    profile, awards, wall = _run_profiled(work)
    _report("POST /api/v1/credentials, e-mailed", profile, awards, wall, top)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _profile_batch(url: str, instance: Path, kek: str, public_id: str, size: int, batches: int, top: int) -> None:
    token = _token(url, instance, kek)
    app = create_app({**_config(url, instance, kek), "RATELIMIT_API": "100000 per minute"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def batch(tag: str) -> None:
        response = client.post("/api/v1/credentials/batch", headers=headers, json={"items": [
            {"achievement": public_id, "recipient": {"email": f"{tag}-{n}@example.net", "name": "Participant"},
             "idempotency_key": f"{tag}-{n}", "send_email": False} for n in range(size)]})
        assert response.status_code == 201, response.get_json()

    batch("warm")

    def work() -> int:
        for round_ in range(batches):
            batch(f"b{round_}")
        return size * batches

    profile, awards, wall = _run_profiled(work)
    _report(f"POST /api/v1/credentials/batch of {size}, no e-mail, {batches} batches", profile, awards, wall, top)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _profile_csv(url: str, instance: Path, kek: str, public_id: str, rows: int, top: int) -> None:
    from badgehub.achievements.service import public_achievement
    from badgehub.issuing import batches
    from badgehub.jobs import tasks

    data = ("Prénom;Nom;Courriel;Date;Quartier\r\n" + "".join(
        f"Élise;Participant {n};prof-{n}@example.net;01/03/2025;centre\r\n" for n in range(rows))).encode("cp1252")
    app = create_app(_config(url, instance, kek))
    with app.app_context():
        achievement = public_achievement(public_id)

        def work() -> int:
            # Written as the upload's request and the job write: the write lock taken when a transaction begins.
            with writing():
                return _upload_and_run()

        def _upload_and_run() -> int:
            batch = batches.create_draft(achievement.organisation, achievement, data, filename="p.csv", actor_id=None,
                                         config=current_app.config)
            db.session.commit()
            batches.confirm(batch, actor_id=None)
            db.session.commit()
            assert tasks.run_batch(batch.id) == "done"
            return int(batch.issued_count)

        profile, awards, wall = _run_profiled(work)
        _report(f"CSV batch of {rows} rows (preview + issue + e-mail)", profile, awards, wall, top)
        db.session.remove()
        db.engine.dispose()


def main() -> int:
    """Profile, print the tables, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="API awards profiled.")
    parser.add_argument("--batch", type=int, default=0, help="Awards per profiled API batch (0: skip).")
    parser.add_argument("--batches", type=int, default=5, help="API batches profiled.")
    parser.add_argument("--csv-rows", type=int, default=200, help="Rows of the profiled CSV batch (0: skip).")
    parser.add_argument("--postgres", default="", help="PostgreSQL server URL (default: SQLite only).")
    parser.add_argument("--top", type=int, default=0, help="Also print this many functions by cumulative time.")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as folder:
        backends: list[tuple[str, str, Any]] = [("SQLite", f"sqlite:///{Path(folder) / 'SQLite' / 'bench.db'}", None)]
        if options.postgres:
            made = _postgres_database(options.postgres)
            if made is not None:
                backends = [("PostgreSQL", made[0], made[1])]
        for name, url, drop in backends:
            instance = Path(folder) / name
            instance.mkdir(exist_ok=True)
            try:
                public_id = _prepare(url, instance, kek)
                print(f"== {name} (load: {os.getloadavg()[0]:.2f})")
                if options.count:
                    _profile_api(url, instance, kek, public_id, options.count, options.top)
                if options.batch:
                    _profile_batch(url, instance, kek, public_id, options.batch, options.batches, options.top)
                if options.csv_rows:
                    _profile_csv(url, instance, kek, public_id, options.csv_rows, options.top)
            finally:
                if drop is not None:
                    drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
