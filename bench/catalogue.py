"""Catalogue response times: ``/t/<slug>`` and ``/t/<slug>/badges`` with many badges on offer.

Run: ``.venv/bin/python bench/catalogue.py [--organisations 200] [--badges 5000] [--runs 7] [--postgres URL]``

A territory with a framework of 5 domains × 6 competencies, the 6 UNESCO themes and 5 local ones,
``--organisations`` approved members and ``--badges`` badges among them (each aligned to two competencies and
tagged with one or two themes; one in ten archived; a suspended member's badges on top) is written straight
into a freshly migrated database (bulk inserts: this measures the pages, not the services that create badges).
Then each page is fetched ``--runs`` times through the Flask test client (full request: routing, queries,
template) and the median and worst times are printed. The catalogue never reads issued credentials, so their
number does not matter here; the size that matters is the number of badge definitions of one territory.

Backends: a SQLite file in a temporary folder, and PostgreSQL when reachable (``--postgres``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a throw-away database is created and dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from badgehub import create_app  # noqa: E402
from badgehub.extensions import db  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLUG = "bench"
WORDS = ("vélo", "réparation", "lecture", "numérique", "jardin", "cuisine", "théâtre", "menuiserie", "musique",
         "citoyenneté", "écologie", "premiers secours", "couture", "photographie", "programmation")
PAGES = (
    ("/t/bench", "territory page"),
    ("/t/bench/badges", "catalogue, no filter"),
    ("/t/bench/badges?q=velo", "search 'velo'"),
    ("/t/bench/badges?q=Ecologie+jardin", "search two words"),
    ("/t/bench/badges?q=zzzz", "search, no result"),
    ("/t/bench/badges?domain=D2&theme=local-1", "domain + theme"),
    ("/t/bench/badges?competency=D3.4&sector=economic&area=a2", "competency + sector + area"),
    ("/t/bench/badges?page=100", "page 100"),
)


def _config(url: str, instance: Path) -> dict[str, Any]:
    return {"SECRET_KEY": "bench", "KEK": "0f" * 32, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
            "OUTBOX_DIR": instance / "outbox", "BASE_URL": "https://badges.example.org", "MAIL_BACKEND": "file",
            "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://"}


def _populate(organisations: int, badges: int) -> None:
    """Write the territory, its framework, themes, members and badges with bulk inserts."""
    from badgehub.achievements.models import Achievement, AchievementCompetency, AchievementVersion
    from badgehub.catalogue.models import CatalogueText, Theme, ThemeKind, achievement_themes, catalogue_text_values
    from badgehub.catalogue.themes import UNESCO_ENGLISH
    from badgehub.competencies.models import Competency, CompetencyFramework
    from badgehub.organisations.models import Organisation, OrganisationType, Sector
    from badgehub.territory.models import Area, MembershipStatus, Territory, TerritoryMembership

    rng = random.Random(8)
    now = dt.datetime.now(dt.UTC)
    session = db.session
    territory = Territory(slug=SLUG, name="Bench", description="", charter="", default_locale="fr")
    territory.areas = [Area(code=f"a{i}", name=f"Quartier {i}") for i in range(8)]
    session.add(territory)
    session.flush()
    framework = CompetencyFramework(territory_id=territory.id, name="Référentiel")
    session.add(framework)
    session.flush()
    competency_ids: list[int] = []
    for d in range(1, 6):
        domain = Competency(framework_id=framework.id, code=f"D{d}", name=f"Domaine {d}")
        session.add(domain)
        session.flush()
        for c in range(1, 7):
            child = Competency(framework_id=framework.id, code=f"D{d}.{c}", name=f"Compétence {d}.{c}",
                               parent_id=domain.id)
            session.add(child)
            session.flush()
            competency_ids.append(child.id)
    themes = [Theme(territory_id=territory.id, kind=ThemeKind.UNESCO, code=code, name=name, position=i)
              for i, (code, name) in enumerate(UNESCO_ENGLISH.items())]
    themes += [Theme(territory_id=territory.id, kind=ThemeKind.LOCAL, code=f"local-{i}", name=f"Thème {i}",
                     position=6 + i) for i in range(5)]
    session.add_all(themes)
    session.flush()
    theme_ids = [t.id for t in themes]
    areas = [a.id for a in territory.areas]
    sectors, types = list(Sector), list(OrganisationType)
    organisation_ids = []
    for i in range(organisations + 1):
        organisation = Organisation(slug=f"org-{i}", name=f"Organisation {i}", type=types[i % len(types)],
                                    sector=sectors[i % len(sectors)], area_id=areas[i % len(areas)])
        session.add(organisation)
        session.flush()
        # The last one is suspended: its badges must not show.
        status = MembershipStatus.SUSPENDED if i == organisations else MembershipStatus.APPROVED
        session.add(TerritoryMembership(territory_id=territory.id, organisation_id=organisation.id, status=status,
                                        member_since=now))
        organisation_ids.append(organisation.id)
    session.flush()

    image = b"\x89PNG\r\n\x1a\n" + b"0" * 2000
    total = badges + badges // organisations
    rows = [{"organisation_id": organisation_ids[i % len(organisation_ids)], "public_id": secrets.token_hex(5),
             "archived_at": now if i % 10 == 9 else None, "created_at": now} for i in range(total)]
    session.execute(insert(Achievement), rows)
    achievement_ids = list(session.scalars(select(Achievement.id).order_by(Achievement.id)))
    versions = []
    for number, achievement_id in enumerate(achievement_ids):
        words = rng.sample(WORDS, 3)
        versions.append({
            "achievement_id": achievement_id, "number": 1, "name": f"Badge {number} : {words[0]}",
            "description": f"Apprendre {words[1]} avec les habitants du quartier. " * 3,
            "criteria_md": f"- participer à trois ateliers de {words[2]}\n- présenter son travail\n" * 4,
            "achievement_type": rng.choice(("Badge", "Course", "CommunityService")), "tags": words,
            "in_language": "fr", "evidence_expected": "", "image": image, "image_media_type": "image/png",
            "image_sha256": "0" * 64, "image_source": "upload", "created_at": now, "locked_at": now})
    session.execute(insert(AchievementVersion), versions)
    version_of = dict(session.execute(select(AchievementVersion.achievement_id, AchievementVersion.id)).tuples().all())
    session.execute(update(Achievement), [{"id": a, "current_version_id": version_of[a]} for a in achievement_ids])
    alignments, tags = [], []
    for achievement_id in achievement_ids:
        for position, competency_id in enumerate(rng.sample(competency_ids, 2)):
            alignments.append({"achievement_version_id": version_of[achievement_id],
                               "competency_id": competency_id, "position": position})
        for theme_id in rng.sample(theme_ids, rng.choice((1, 2))):
            tags.append({"achievement_id": achievement_id, "theme_id": theme_id})
    # What the model's events store for versions written through the ORM (and migration 0011 for old ones).
    session.execute(insert(CatalogueText), [
        {"achievement_version_id": version_of[v["achievement_id"]],
         **catalogue_text_values(v["name"], v["description"], v["criteria_md"], v["tags"])} for v in versions])
    session.execute(insert(AchievementCompetency), alignments)
    session.execute(insert(achievement_themes), tags)
    session.commit()


def _time(get: Callable[[], Any], runs: int) -> tuple[float, float]:
    get()  # warm up: templates compiled, caches filled
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = get()
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings), max(timings)


def run(label: str, url: str, options: argparse.Namespace) -> None:
    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(_config(url, Path(folder)))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            with app.test_request_context():
                _populate(options.organisations, options.badges)
            print(f"\n{label}: {options.badges} badges of {options.organisations} organisations written in "
                  f"{time.perf_counter() - started:.1f} s")
            client = app.test_client()
            for path, name in PAGES:
                median, worst = _time(lambda path=path: client.get(path), options.runs)
                print(f"  {name:<30} median {median:7.1f} ms   worst {worst:7.1f} ms   {path}")
            db.session.remove()
            db.engine.dispose()


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]] | None:
    name = f"badgehub_bench_{secrets.token_hex(4)}"
    try:
        admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: skip PostgreSQL, say why
        print(f"PostgreSQL skipped: {error.__class__.__name__}")
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--badges", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("BADGEHUB_BENCH_DATABASE_URL", DEFAULT_POSTGRES),
                        help="PostgreSQL server URL ('' to skip)")
    parser.add_argument("--no-sqlite", action="store_true")
    options = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    if not options.no_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", options)
    if options.postgres:
        found = _postgres_database(options.postgres)
        if found:
            url, drop = found
            try:
                run("PostgreSQL", url, options)
            finally:
                drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
