"""The README's backup and restore commands, run as written, on SQLite and on PostgreSQL: after a restore into
an empty place, a credential issued before still verifies and a new one can be signed (the KEK came back)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import current_app
from sqlalchemy.engine import make_url

from badgehub import create_app
from badgehub.cli import main
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from tests.conftest import REPO_ROOT, _drop_postgres_database
from tests.factories import build_world

README = REPO_ROOT / "README.md"
POSTGRES = os.environ.get("BADGEHUB_TEST_DATABASE_URL", "").startswith("postgresql")


def readme_block(title: str) -> str:
    """The shell block of the README whose first line is ``# <title>``."""
    found = re.search(r"```sh\n# " + re.escape(title) + r"[^\n]*\n(.*?)```", README.read_text(), re.S)
    assert found, f"no ```sh block '# {title}' in the README"
    return found.group(1)


def run_block(title: str, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block(title)], env=env, cwd=env["BACKUP_CWD"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{title}:\n{done.stdout}\n{done.stderr}"


def _issue_one(prefix: str) -> tuple[str, str]:
    world = build_world(prefix)
    credential = issuing.issue_credential(
        organisation=world.a, achievement=world.repair, recipient_email=f"{prefix}lea@example.net",
        recipient_name="Léa", actor_id=None, source="api", config=current_app.config)
    db.session.commit()
    return credential.public_id, credential.document_json


def _verified(app, public_id: str) -> bool:
    client = app.test_client()
    document = client.get(f"/c/{public_id}.json")
    assert document.status_code == 200
    answer = client.post("/api/v1/verify", json={"credential": json.loads(document.get_data(as_text=True))})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return bool(answer.get_json()["verified"])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_readme_backup_and_restore_bring_back_a_working_installation(backend, tmp_path, monkeypatch,
                                                                           fresh_database):
    if backend == "postgresql" and not POSTGRES:
        pytest.skip("needs BADGEHUB_TEST_DATABASE_URL on PostgreSQL")
    data, backup = tmp_path / "data", tmp_path / "backup"
    server_url = os.environ.get("BADGEHUB_TEST_DATABASE_URL", "")
    for name in [name for name in os.environ if name.startswith("BADGEHUB_") and "_TEST_" not in name]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BADGEHUB_CONFIG", str(tmp_path / "badgehub.cfg"))
    monkeypatch.setenv("BADGEHUB_DATA_DIR", str(data))
    monkeypatch.setenv("BADGEHUB_BASE_URL", "http://localhost")
    monkeypatch.setenv("BADGEHUB_MAIL_BACKEND", "file")
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(REPO_ROOT),
           "DATA": str(data), "BACKUP": str(backup), "BACKUP_CWD": str(tmp_path), "HOME": str(tmp_path)}
    if backend == "postgresql":
        url = make_url(fresh_database())
        monkeypatch.setenv("BADGEHUB_DATABASE_URL", url.render_as_string(hide_password=False))
        env.update(PGHOST=url.host or "127.0.0.1", PGPORT=str(url.port or 5432), PGUSER=url.username or "postgres",
                   PGDATABASE=str(url.database))
    env.update({name: value for name, value in os.environ.items() if name.startswith("BADGEHUB_")})

    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    app = create_app({"TESTING": True})  # no background worker against a database about to be dropped
    with app.app_context():
        before, document = _issue_one("b")
        db.engine.dispose()

    run_block(f"backup: {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}", env)
    assert {p.name for p in backup.iterdir()} >= {"secret_key", "kek"}

    # Lose everything: the data folder, and the database with it (or on its server).
    shutil.rmtree(data)
    if backend == "postgresql":
        _drop_postgres_database(server_url, env["PGDATABASE"])

    run_block(f"restore: {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}", env)
    restored = create_app({"TESTING": True})
    assert restored.config["KEK"] == (backup / "kek").read_text().strip()
    with restored.app_context():
        assert _verified(restored, before)
        assert restored.test_client().get(f"/c/{before}.json").get_data(as_text=True) == document
        after, _document = _issue_one("a")  # the organisations' private keys decrypt: signing works
        assert _verified(restored, after)
        db.engine.dispose()
