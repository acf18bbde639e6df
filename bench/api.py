"""The JSON API end to end: what a client of ``/api/v1`` gets per second, through the WSGI app.

Run: ``.venv/bin/python bench/api.py [--count 50] [--batch 100] [--postgres URL]``

On a freshly migrated database (the organisation and achievement of ``bench/issuing.py``) with one API token,
through Flask's test client (no network, so the figures are the application's: token check, JSON parsing,
the issuing service with both proofs, the commit, the JSON answer):

* ``POST /credentials``: ``--count`` awards one by one, without e-mail (``send_email: false``) and with it
  (file outbox: the baked PNG is made and attached);
* ``POST /credentials/batch``: one batch of ``--batch`` awards (all checked first, one signer, one commit);
* ``GET /credentials?limit=100``: pages of the list once they exist.

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from issuing import DEFAULT_POSTGRES, _config, _postgres_database, _prepare  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402


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
    start = time.perf_counter()
    response = client.post("/api/v1/credentials/batch", headers=headers,
                           json={"items": [award(f"batch-{n}", False) for n in range(batch)]})
    elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.get_json()
    figures.append((f"POST /credentials/batch of {batch}, no e-mail", elapsed, "s wall"))
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


def main() -> int:
    """Measure, print the table, return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="Awards one by one, per mode.")
    parser.add_argument("--batch", type=int, default=100, help="Awards in the batch figure.")
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL", DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip).")
    options = parser.parse_args()
    kek = secrets.token_hex(32)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
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
                for label, value, unit in _measure(url, instance, kek, public_id, options.count, options.batch):
                    print(f"{name:<10} {label:<45} {value:>8.2f} {unit}")
            finally:
                if drop is not None:
                    drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
