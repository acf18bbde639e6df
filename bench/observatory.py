"""Observatory and catalogue response times on a million issued credentials (PostgreSQL).

Run: ``.venv/bin/python bench/observatory.py [--credentials 1000000] [--requests 20] [--postgres URL]``

On a throw-away database (created on the server, dropped at the end whatever happens) it creates one territory
through the real services (organisations of every sector and type, a competency framework of domains and
competencies, achievements aligned to them and tagged with themes, skills demand), then bulk-loads
``--credentials`` issued credentials with one ``INSERT … SELECT … generate_series`` (placeholder documents:
this measures queries, not signatures) spread like a real territory: popular and rare badges, learners with one
to many badges, growth over 36 months, most awards recorded in one of 12 areas, 1 % revoked. It then builds the
pre-aggregates (:func:`badgehub.stats.service.rebuild`), sends 6,000 endorsements, 4,000 recognition requests
and 3,000 pathway completions as the recognition services' signals, and times, through the Flask test client, each
page and export ``--requests`` times, after one request of each (templates compiled): the first request after
:func:`badgehub.stats.queries.clear_cache` (``cold``: nothing of the figures is cached in the process) and
p50 / p95 of the others (served from the per-process cache of figures). ``--credentials 100000`` builds in
about a minute; ``--keep`` keeps the database, ``--reuse URL`` times it again (``--only TEXT``: only the pages
whose label contains TEXT). Like a gunicorn worker of ``deploy/gunicorn.conf.py``, the process freezes what it
loaded out of the garbage collector's sight before timing (``--no-gc-freeze``: not).
"""

from __future__ import annotations

import argparse
import gc
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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
SLUG = "bench"
ORGANISATIONS = 60
ACHIEVEMENTS = 300
AREAS = 12
LEARNERS = 250_000
MONTHS = 36


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (30, 90, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def _config(url: str, instance: Path) -> dict[str, Any]:
    return {"SECRET_KEY": "bench", "KEK": "0f" * 32, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
            "OUTBOX_DIR": instance / "outbox", "BASE_URL": "https://badges.example.org", "MAIL_BACKEND": "file",
            "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
            # No in-process worker: its scheduled tasks (signing status lists) would run beside the timings.
            "JOB_BACKEND": "sync"}


def _postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    name = f"badgehub_bench_{secrets.token_hex(4)}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def _world() -> dict[str, Any]:
    """The territory, its members, framework, badges, themes and demand, through the services."""
    from badgehub.accounts.service import create_user
    from badgehub.achievements.service import AchievementFields, UploadedImage, create_achievement
    from badgehub.catalogue.demand import declare_demand
    from badgehub.catalogue.themes import add_unesco_themes, create_theme, set_achievement_themes
    from badgehub.competencies.service import CompetencyFields, create_competency
    from badgehub.organisations.models import OrganisationType, Sector
    from badgehub.organisations.service import ProfileFields, create_organisation
    from badgehub.territory.service import add_coordinator, create_territory, decide_membership, request_membership

    territory = create_territory(name="Bench", slug=SLUG, areas=[(f"a{n}", f"Quartier {n}") for n in range(AREAS)])
    coordinator = create_user("coord@bench.example", name="Coordinator", verified=True)
    add_coordinator(territory_slug=SLUG, user=coordinator, actor_id=None)
    domains = [create_competency(territory, coordinator, f"D{d}", CompetencyFields(name=f"Domaine {d}"))
               for d in range(8)]
    competencies = [create_competency(territory, coordinator, f"D{d}-{c}", CompetencyFields(
        name=f"Compétence {d}.{c}", parent_code=f"D{d}")) for d in range(len(domains)) for c in range(6)]
    themes = add_unesco_themes(territory, coordinator) + [
        create_theme(territory, coordinator, name) for name in ("Transition écologique", "Citoyenneté")]
    sectors, types = list(Sector), list(OrganisationType)
    png = _png()
    achievements = []
    for number in range(ORGANISATIONS):
        owner = create_user(f"owner{number}@bench.example", name=f"Owner {number}", verified=True)
        organisation = create_organisation(owner, ProfileFields(
            name=f"Organisation {number}", type=types[number % len(types)].value,
            sector=sectors[number % len(sectors)].value, area_id=territory.areas[number % AREAS].id),
            config=current_app.config)
        decide_membership(request_membership(organisation, territory, owner, ""), "approve", coordinator)
        for badge in range(ACHIEVEMENTS // ORGANISATIONS):
            aligned = [competencies[(number * 7 + badge * 3 + k) % len(competencies)].id for k in range(2)]
            achievement = create_achievement(organisation, owner, AchievementFields(
                name=f"Badge {number}.{badge}", description="Bench badge.", criteria_md="Done.", in_language="fr",
                competency_ids=aligned), UploadedImage(png))
            set_achievement_themes(achievement, [themes[(number + badge) % len(themes)].id], owner)
            achievements.append(achievement)
        if number % 5 == 0:
            for k in range(3):
                declare_demand(organisation, competencies[(number * 5 + k) % len(competencies)].id, "", owner)
    db.session.flush()
    return {"territory": territory, "coordinator": coordinator}


LOAD = """
INSERT INTO status_lists (organisation_id, number, purpose, size, bits, allocated, version, created_at, updated_at)
SELECT id, 1, 'revocation', 2000000, decode(repeat('00', 250000), 'hex'), 0, 1, now(), now() FROM organisations;

CREATE TEMP TABLE bench_badges AS
SELECT row_number() OVER (ORDER BY a.id) - 1 AS n, a.id AS achievement_id, a.current_version_id AS version_id,
       a.organisation_id, s.id AS status_list_id
FROM achievements a JOIN status_lists s ON s.organisation_id = a.organisation_id;
CREATE TEMP TABLE bench_areas AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM areas;

INSERT INTO issued_credentials (public_id, credential_id, organisation_id, achievement_id, achievement_version_id,
    recipient_email, recipient_email_key, recipient_name, document_json, vc_jwt, issued_at, valid_from, awarded_date,
    area_id, source, status_list_id, status_index, revoked_at, revocation_reason)
SELECT substr(md5(g::text), 1, 12), 'urn:uuid:' || md5('c' || g)::uuid, b.organisation_id, b.achievement_id,
       b.version_id, 'learner' || l || '@example.org', 'learner' || l || '@example.org', '', '{}', 'x',
       t, t, t, CASE WHEN r.area < 0.85 THEN ar.id END, 'demo', b.status_list_id, g,
       CASE WHEN r.rev < 0.01 THEN t + interval '3 days' END, CASE WHEN r.rev < 0.01 THEN 'bench' END
FROM generate_series(1, :count) AS g
CROSS JOIN LATERAL (SELECT random() AS badge, random() AS learner, random() AS month, random() AS area,
                           random() AS rev, g AS keep) AS r
JOIN bench_badges b ON b.n = floor(power(r.badge, 2) * :badges)::int
JOIN bench_areas ar ON ar.n = (g % :areas)
CROSS JOIN LATERAL (SELECT floor(power(r.learner, 1.5) * :learners)::int AS l,
                           timestamp '2023-01-01' + (power(r.month, 0.7) * :months * interval '30 days')
                             + (g % 86400) * interval '1 second' AS t) AS x;
"""


def _load(count: int) -> float:
    started = time.perf_counter()
    connection = db.session.connection()
    for statement in LOAD.split(";\n"):
        if statement.strip():
            connection.execute(text(statement), {"count": count, "badges": ACHIEVEMENTS, "areas": AREAS,
                                                 "learners": LEARNERS, "months": MONTHS})
    return time.perf_counter() - started


def _recognition(endorsements: int = 6_000, requests: int = 4_000, completions: int = 3_000) -> float:
    """Endorsements between the members, recognition requests through their states and pathway completions,
    sent as the signals the recognition services send (the observatory counts them as it would live)."""
    import datetime as dt
    import random

    from sqlalchemy import select

    from badgehub import events
    from badgehub.organisations.models import Organisation

    started = time.perf_counter()
    rng = random.Random(17)
    organisations = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    territory_id = db.session.execute(text("SELECT id FROM territories WHERE slug = :s"), {"s": SLUG}).scalar()

    def moment() -> dt.datetime:
        return dt.datetime(2023 + rng.randrange(3), rng.randint(1, 12), rng.randint(1, 28), tzinfo=dt.UTC)

    for number in range(endorsements):
        giver, endorsed = rng.sample(organisations, 2)
        events.endorsement_issued.send(None, endorsement_id=number + 1, kind=rng.choice(("achievement", "profile")),
                                       endorser_organisation_id=giver, endorsed_organisation_id=endorsed,
                                       territory_id=None, occurred_at=moment())
    for number in range(requests):
        asked, when = rng.choice(organisations), moment()
        for status in ("submitted", rng.choice(("accepted", "declined", "more_asked", "submitted"))):
            events.recognition_request_changed.send(None, request_id=number + 1, organisation_id=asked, status=status,
                                                    self_declared=False, occurred_at=when)
    for number in range(completions):
        owner = rng.choice([*organisations, None])
        events.pathway_progressed.send(None, pathway_id=number % 40 + 1, owner_organisation_id=owner,
                                       territory_id=territory_id if owner is None else None,
                                       holder_key=f"learner{rng.randrange(LEARNERS)}@example.org", completed=True,
                                       occurred_at=moment())
    return time.perf_counter() - started


def _time(client: Any, url: str, requests: int, reset: Callable[[], None]) -> tuple[float, float, float, int]:
    reset()
    started = time.perf_counter()
    first = client.get(url)
    cold = time.perf_counter() - started
    durations = []
    for _ in range(requests - 1):
        started = time.perf_counter()
        response = client.get(url)
        durations.append(time.perf_counter() - started)
        assert response.status_code == first.status_code
    assert first.status_code == 200, (url, first.status_code)
    ordered = sorted(durations) or [cold]
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return cold * 1000, statistics.median(ordered) * 1000, p95 * 1000, len(first.data)


def _build(app: Any, count: int) -> None:
    """Create the territory, bulk-load ``count`` credentials, rebuild the pre-aggregates (printing each step)."""
    from flask_migrate import upgrade

    from badgehub.stats import service

    with app.app_context():
        upgrade()
        started = time.perf_counter()
        with app.test_request_context():
            _world()
            db.session.commit()
        print(f"territory, 60 organisations, 300 badges: {time.perf_counter() - started:.1f} s")
        loaded = _load(count)
        db.session.commit()
        print(f"bulk load of {count:,} issued credentials: {loaded:.1f} s")
        started = time.perf_counter()
        service.rebuild()
        db.session.commit()
        print(f"pre-aggregates rebuilt: {time.perf_counter() - started:.1f} s")
        with app.test_request_context():
            counted = _recognition()
            db.session.commit()
        print(f"recognition counted (13,000 signals): {counted:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        db.session.remove()


def _sign_in(client: Any) -> None:
    """Sign the test client in as the territory's coordinator, on a device recorded as a real sign-in does."""
    from badgehub.accounts.service import get_user_by_email
    from badgehub.accounts.sessions import open_session

    with client.application.app_context():
        user = get_user_by_email("coord@bench.example")
        assert user is not None
        key = open_session(user, remember=False).key
        db.session.commit()
        user_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_sid"] = key
        session["_fresh"] = True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep the database (for profiling) and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="time the pages on a database kept by an earlier --keep")
    parser.add_argument("--only", metavar="TEXT", default="", help="time only the pages whose label contains TEXT")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="leave the loaded app in the garbage collector's sight (deploy's gunicorn freezes it)")
    options = parser.parse_args()
    from badgehub.stats import queries
    from badgehub.stats.exports import DATASETS

    url, drop = (options.reuse, lambda: None) if options.reuse else _postgres_database(options.postgres)
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = create_app(_config(url, Path(folder)))
            if not options.reuse:
                _build(app, options.credentials)
            if not options.no_gc_freeze:
                gc.freeze()  # as deploy/gunicorn.conf.py does in each worker once the app is loaded
            with app.app_context():
                counted = db.session.execute(text("SELECT count(*) FROM issued_credentials")).scalar()
                cells = db.session.execute(text("SELECT count(*) FROM stats_cells")).scalar()
                area_cells = db.session.execute(text("SELECT count(*) FROM stats_area_cells")).scalar()
                theme = db.session.execute(text("SELECT code FROM themes ORDER BY position LIMIT 1")).scalar()
                db.session.remove()
            print(f"{counted:,} credentials; cells: {cells:,} (by version and month), {area_cells:,} (with the area)")
            client = app.test_client()
            _sign_in(client)
            filtered = f"?period=2024&sector=community&theme={theme}"
            pages = [("observatory, public", f"/t/{SLUG}/observatory"),
                     ("observatory, public, filtered", f"/t/{SLUG}/observatory{filtered}"),
                     ("observatory, public, 2024-Q2", f"/t/{SLUG}/observatory?period=2024-Q2"),
                     ("observatory, coordinators", f"/coordinate/{SLUG}/observatory")]
            pages += [(f"export {name}.csv", f"/t/{SLUG}/observatory/{name}.csv") for name in DATASETS]
            pages += [(f"export {name}.json", f"/t/{SLUG}/observatory/{name}.json") for name in DATASETS]
            pages += [("datasets.json", f"/t/{SLUG}/observatory/datasets.json"),
                      ("data dictionary", f"/t/{SLUG}/observatory/dictionary"),
                      ("catalogue /t/<slug>", f"/t/{SLUG}"), ("catalogue badges", f"/t/{SLUG}/badges"),
                      ("catalogue search", f"/t/{SLUG}/badges?q=badge+12&sector=community")]
            pages = [(label, path) for label, path in pages if options.only in label]
            for _, path in pages:  # templates compiled, imports done: "cold" is the figures' own cost
                client.get(path)
            print(f"\n{'page':<38} {'cold ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>9}")
            for label, path in pages:
                cold, p50, p95, size = _time(client, path, options.requests, queries.clear_cache)
                print(f"{label:<38} {cold:>8.0f} {p50:>8.0f} {p95:>8.0f} {size:>9,}")
            with app.app_context():
                db.engine.dispose()
    finally:
        if options.keep and not options.reuse:
            print(f"kept: {url}")
        else:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
