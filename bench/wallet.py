"""The wallet page of a learner holding 50 credentials: cold (every card verified by the pipeline) and warm
(reports from the wallet's status cache), through the real blueprint and a signed-in test client.

Run: ``.venv/bin/python bench/wallet.py [--credentials 50] [--rounds 5] [--postgres URL]``

Each card's status comes from the verification pipeline over the stored document (Data Integrity proof with
eddsa-rdfc-2022, our DID document and status list answered from the database): the cold figure is that cost
times the number of credentials; the warm one is what a learner (or an employer opening a share link) pays
while the cache holds (``BADGEHUB_WALLET_STATUS_CACHE_SECONDS``, default 60). The share page ``/w/<token>``
with the same 50 credentials is measured too.

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import current_app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LEARNER = "learner@bench.example"


def _config(url: str, instance: Path, kek: str) -> dict[str, Any]:
    return {"SECRET_KEY": "bench", "KEK": kek, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
            "OUTBOX_DIR": instance / "outbox", "BASE_URL": "https://badges.example.org", "MAIL_BACKEND": "file",
            "LOG_LEVEL": "WARNING", "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_WALLET_SHARE": "100000/minute"}


def _prepare(app: Any, count: int) -> tuple[str, str]:
    """Migrate, create an organisation and a learner holding ``count`` credentials and a share of them all."""
    from flask_migrate import upgrade

    from badgehub.accounts.service import create_user
    from badgehub.achievements.images import Design
    from badgehub.achievements.service import AchievementFields, create_achievement
    from badgehub.issuing import service as issuing
    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.wallet import shares as wallet_shares

    with app.app_context():
        upgrade()
        owner = create_user("owner@bench.example", name="Owner", verified=True)
        learner = create_user(LEARNER, name="Learner", verified=True)
        organisation = create_organisation(owner, ProfileFields(
            name="Atelier Vélo Solidaire", type="association", sector="community"), config=current_app.config)
        achievement = create_achievement(organisation, owner, AchievementFields(
            name="Réparer une crevaison", description="Sait réparer une chambre à air crevée.",
            criteria_md="- démonter la roue", in_language="fr"),
            Design(shape="circle", background="#1d4ed8", foreground="#ffffff", pictogram="gear", text=""))
        signer = issuing.signer_for(organisation, app.config)
        ids = [issuing.issue_credential(organisation=organisation, achievement=achievement, recipient_email=LEARNER,
                                        recipient_name="Learner", actor_id=None, source="cli",
                                        signer=signer, config=current_app.config).public_id for _ in range(count)]
        share = wallet_shares.create_share(learner, title="Bench", credential_ids=ids)
        db.session.commit()
        return learner.get_id(), share.token


def _time(client: Any, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def _run(url: str, label: str, count: int, rounds: int) -> None:
    from badgehub.wallet.status import STATUS_CACHE_EXTENSION

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_config(url, Path(folder), secrets.token_hex(32)))
        session_id, token = _prepare(app, count)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
        cold, warm, share_cold, share_warm = [], [], [], []
        for _ in range(rounds):
            app.extensions.pop(STATUS_CACHE_EXTENSION, None)
            cold.append(_time(client, "/wallet"))
            warm.append(_time(client, "/wallet"))
            app.extensions.pop(STATUS_CACHE_EXTENSION, None)
            share_cold.append(_time(client, f"/w/{token}"))
            share_warm.append(_time(client, f"/w/{token}"))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    median = statistics.median
    print(f"{label:<10} /wallet with {count} credentials: cold {median(cold) * 1000:7.0f} ms "
          f"({median(cold) / count * 1000:5.1f} ms per card), warm {median(warm) * 1000:6.0f} ms")
    print(f"{label:<10} /w/<token> with {count} credentials: cold {median(share_cold) * 1000:7.0f} ms, "
          f"warm {median(share_warm) * 1000:6.0f} ms   (median of {rounds})")


def _postgres_database(server: str) -> tuple[str, Any] | None:
    try:
        admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
        name = f"bench_wallet_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: say so and skip
        print(f"PostgreSQL skipped ({exc.__class__.__name__})")
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}")
    with tempfile.TemporaryDirectory() as folder:
        _run(f"sqlite:///{folder}/bench.db", "SQLite", args.credentials, args.rounds)
    found = _postgres_database(args.postgres)
    if found is not None:
        url, drop = found
        try:
            _run(url, "PostgreSQL", args.credentials, args.rounds)
        finally:
            drop()


if __name__ == "__main__":
    main()
