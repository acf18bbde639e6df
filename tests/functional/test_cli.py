from __future__ import annotations

import re

from sqlalchemy import func, select

from badgehub.accounts.models import User
from badgehub.cli import main
from badgehub.organisations.models import Organisation, Sector
from badgehub.territory.models import MembershipStatus, Territory, TerritoryCoordinator, TerritoryMembership


def test_create_territory_and_coordinator(runner, app):
    result = runner.invoke(args=["create-territory", "--name", "Ville apprenante", "--slug", "ville",
                                 "--area", "nord=Quartier nord", "--area", "sud=Quartier sud"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--email", "Coord@Example.org", "--coordinator", "ville"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from badgehub.extensions import db
        territory = db.session.scalar(select(Territory).where(Territory.slug == "ville"))
        assert [a.code for a in territory.areas] == ["nord", "sud"]
        user = db.session.scalar(select(User).where(User.email_key == "coord@example.org"))
        assert user.is_verified
        assert db.session.scalar(select(TerritoryCoordinator).where(TerritoryCoordinator.user_id == user.id))


def test_create_territory_reports_bad_input_without_traceback(runner):
    result = runner.invoke(args=["create-territory", "--name", "X", "--slug", "Not A Slug"])
    assert result.exit_code != 0
    assert "lower-case" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(args=["create-territory", "--name", "X", "--slug", "ok", "--area", "broken"])
    assert result.exit_code != 0 and "CODE=Name" in result.output


def test_create_user_refuses_duplicate_in_other_case(runner):
    assert runner.invoke(args=["create-user", "--email", "ana@example.org"]).exit_code == 0
    result = runner.invoke(args=["create-user", "--email", "ANA@example.org"])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_demo_seeds_every_sector_and_role_then_prints_working_links_and_serves(tmp_path, monkeypatch,
                                                                              fresh_database):
    """`badgehub demo` seeds once; run again, it only prints fresh links, and it serves the app (Flask ignores
    app.run() inside its CLI, which would leave the demo seeded but not served)."""
    from click.testing import CliRunner

    served = {}

    def fake_run_simple(host, port, application, **options):
        served.update(host=host, port=port, status=application.test_client().get("/").status_code)

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    url = fresh_database()
    monkeypatch.setenv("BADGEHUB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("BADGEHUB_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("BADGEHUB_DATABASE_URL", url)
    monkeypatch.setenv("BADGEHUB_BASE_URL", "http://localhost")

    first = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert served == {}
    second = CliRunner().invoke(main, ["demo", "--port", "5099"])  # idempotent: only fresh links, then served
    assert second.exit_code == 0, second.output
    assert served == {"host": "127.0.0.1", "port": 5099, "status": 200}
    links = re.findall(r"http://localhost/sign-in/link/\S+", second.output)
    assert len(links) >= 10

    from badgehub import create_app
    from badgehub.extensions import db

    app = create_app({"TESTING": True})  # a request would otherwise start the background worker
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Territory)) == 1
        sectors = set(db.session.scalars(select(Organisation.sector)))
        assert sectors == set(Sector)
        statuses = list(db.session.scalars(select(TerritoryMembership.status)))
        # Five demo organisations, the energy cooperative that declares skills demand (catalogue.demo), and the
        # territory's own issuer, which endorses (endorsements.demo).
        assert statuses.count(MembershipStatus.APPROVED) == 7
        assert statuses.count(MembershipStatus.PENDING) == 1
        db.engine.dispose()
    client = app.test_client()
    page = client.get(links[0].removeprefix("http://localhost"))
    assert page.status_code == 200
