"""Claim campaigns: how fast participants get their badge, and what a crowd confirming at once costs.

Run: ``.venv/bin/python bench/claims.py [--seconds 5] [--crowd 40] [--postgres URL]``

* ``one by one``: a participant asks (``request_claim``, committed), then follows the link
  (``confirm_claim``: campaign row lock, count under the lock, the credential issued with both proofs,
  committed). No e-mail is sent. Figure: confirmed claims per second.
* ``crowd``: PostgreSQL only. ``--crowd`` processes (one per participant, like gunicorn workers serving
  phones) confirm their links at the same instant against a cap of half of them; the figure is the wall time
  from the start signal until the last one answered, and how many were issued (must be the cap).

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (see bench/issuing.py, whose
set-up this script reuses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
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

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_issuing", ROOT / "bench" / "issuing.py")
assert _spec is not None and _spec.loader is not None
issuing_bench: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(issuing_bench)

_FORK = multiprocessing.get_context("fork")


def _campaign(url: str, instance: Path, kek: str, public_id: str, cap: int | None) -> str:
    """Create a campaign of the achievement ``public_id`` open for two hours; return its short code."""
    from badgehub.achievements.service import public_achievement
    from badgehub.claims import service as claims
    from badgehub.db import utcnow
    from badgehub.organisations.service import members_of

    app = create_app(issuing_bench._config(url, instance, kek))
    with app.app_context():
        achievement = public_achievement(public_id)
        owner = members_of(achievement.organisation)[0].user
        campaign = claims.create_campaign(achievement.organisation, owner, claims.CampaignFields(
            achievement_public_id=public_id, closes_at=utcnow() + dt.timedelta(hours=2), max_claims=cap))
        db.session.commit()
        code = str(campaign.short_code)
        db.session.remove()
        db.engine.dispose()
    return code


def _one_by_one(url: str, instance: Path, kek: str, code: str, seconds: float) -> tuple[int, float]:
    from badgehub.claims import service as claims

    app = create_app(issuing_bench._config(url, instance, kek))
    with app.app_context():
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            asked = claims.request_claim(claims.find_campaign(code), f"p{count}@example.net", "Participant")
            db.session.commit()
            assert asked.token is not None
            claims.confirm_claim(code, asked.token, config=current_app.config)
            db.session.commit()
            count += 1
        elapsed = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return count, elapsed


def _tokens(url: str, instance: Path, kek: str, code: str, people: int) -> list[str]:
    from badgehub.claims import service as claims

    app = create_app(issuing_bench._config(url, instance, kek))
    with app.app_context():
        campaign = claims.find_campaign(code)
        tokens = [str(claims.request_claim(campaign, f"crowd{n}@example.net").token) for n in range(people)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


def _confirm_one(url: str, instance: str, kek: str, code: str, token: str, barrier: Any, results: Any) -> None:
    from badgehub.claims import service as claims
    from badgehub.claims.errors import CampaignFull

    app = create_app(issuing_bench._config(url, Path(instance), kek))
    with app.app_context():
        barrier.wait(timeout=120)
        try:
            claims.confirm_claim(code, token, config=current_app.config)
            db.session.commit()
            outcome = "issued"
        except CampaignFull:
            db.session.rollback()
            outcome = "full"
        results.put((outcome, time.time()))
        db.session.remove()
        db.engine.dispose()


def _crowd(url: str, instance: Path, kek: str, public_id: str, people: int) -> tuple[float, int]:
    """``people`` processes confirm at once against a cap of half of them: (wall seconds, issued)."""
    code = _campaign(url, instance, kek, public_id, cap=max(1, people // 2))
    tokens = _tokens(url, instance, kek, code, people)
    barrier = _FORK.Barrier(people + 1)
    results = _FORK.Queue()
    processes = [_FORK.Process(target=_confirm_one, args=(url, str(instance), kek, code, token, barrier, results))
                 for token in tokens]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    start = time.time()
    answers = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return max(moment for _, moment in answers) - start, sum(1 for outcome, _ in answers if outcome == "issued")


def main() -> int:
    """Measure, print the table, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Minimum duration of the one-by-one figure.")
    parser.add_argument("--crowd", type=int, default=40, help="Participants confirming at once (PostgreSQL).")
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL",
                                                             issuing_bench.DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip).")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        backends: list[tuple[str, str, Callable[[], None] | None]] = [
            ("SQLite", f"sqlite:///{instance / 'bench.db'}", None)]
        if options.postgres:
            found = issuing_bench._postgres_database(options.postgres)
            if found is not None:
                backends.append(("PostgreSQL", found[0], found[1]))
        try:
            for label, url, _drop in backends:
                public_id = issuing_bench._prepare(url, instance, kek)
                code = _campaign(url, instance, kek, public_id, cap=None)
                count, elapsed = _one_by_one(url, instance, kek, code, options.seconds)
                lines.append(f"{label:<11} one by one (ask + confirm)    {count / elapsed:7.1f} claims/s "
                             f"({count} in {elapsed:.1f} s)")
                if label == "PostgreSQL" and options.crowd > 1:
                    wall, issued = _crowd(url, instance, kek, public_id, options.crowd)
                    lines.append(f"{label:<11} crowd of {options.crowd}, cap {max(1, options.crowd // 2):<4}       "
                                 f"{wall:7.2f} s wall, {issued} issued")
        finally:
            for _label, _url, drop in backends:
                if drop is not None:
                    drop()
    print(f"Claims bench on {platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
