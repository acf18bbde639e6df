"""The learner sets per organisation and year give the headline counts of whole years exactly what the month
sets give: on the generated territory, spread over three years and changed by the issuing and revoking signals,
the distinct learners (and those of several organisations, of several sectors) and their cell keys, read by the
observatory for spans of whole years, parts of years and both, equal a live count on the credentials."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import chain

from flask import Flask
from sqlalchemy import select

from badgehub import events
from badgehub.extensions import db
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.organisations.models import Organisation
from badgehub.stats import queries, service
from badgehub.stats.learners import LearnerCounter, Scope
from badgehub.stats.models import StatsLearner, StatsLearnerYear
from tests.unit.stats.generated import build_generated

SPANS = [(None, None), (202501, 202512), (202401, 202412), (202412, 202601), (202411, 202512), (202501, None),
         (None, 202506), (202502, 202504), (202412, 202412), (202601, 202612), (202407, 202606)]


def _award(organisation: Organisation, learner: int, moment: dt.datetime, index: int) -> IssuedCredential:
    template = db.session.scalars(select(IssuedCredential).where(
        IssuedCredential.organisation_id == organisation.id).limit(1)).one()
    email = f"gen{learner}@example.org"
    credential = IssuedCredential(
        public_id=f"year{index:07d}", credential_id=f"urn:uuid:year-{index}", organisation_id=organisation.id,
        achievement_id=template.achievement_id, achievement_version_id=template.achievement_version_id,
        recipient_email=email, recipient_email_key=email, document_json="{}", vc_jwt="x", issued_at=moment,
        valid_from=moment, awarded_date=moment, area_id=None, source=CredentialSource.CLI,
        status_list_id=template.status_list_id, status_index=100_000 + index)
    db.session.add(credential)
    return credential


def _live_summary(organisations: dict[int, str], start: int | None, end: int | None) -> tuple[int, ...]:
    """What the headline counts are, from the live credentials (and the learners' record keys)."""
    keys = dict(db.session.execute(select(StatsLearner.key_hash, StatsLearner.record_key)).tuples().all())
    holders: dict[str, set[int]] = defaultdict(set)
    for organisation_id, issued_at, email_key in db.session.execute(select(
            IssuedCredential.organisation_id, IssuedCredential.issued_at, IssuedCredential.recipient_email_key)
            .where(IssuedCredential.revoked_at.is_(None),
                   IssuedCredential.organisation_id.in_(organisations))).tuples():
        month = service.month_of(issued_at)
        if (start is None or month >= start) and (end is None or month <= end):
            holders[email_key].add(organisation_id)
    everyone = set(holders)
    several = {key for key, orgs in holders.items() if len(orgs) > 1}
    sectors = {key for key, orgs in holders.items() if len({organisations[o] for o in orgs}) > 1}
    return (len(everyone), len(several), len(sectors),
            *(sum(keys[service.key_hash(key)] for key in group) for group in (everyone, several, sectors)))


def test_headline_counts_read_from_year_sets_equal_a_live_count(ctx: Flask):
    queries.clear_cache()
    generated = build_generated()
    organisations = generated.organisations
    awarded = [_award(organisation, (number * 7 + k) % 90, dt.datetime(year, month, 10, tzinfo=dt.UTC),
                      number * 100 + k)
               for number, organisation in enumerate(organisations)
               for k, (year, month) in enumerate([(2024, 11), (2024, 12), (2026, 1), (2026, 3), (2025, 6)])]
    db.session.flush()
    events.credentials_issued.send(None, credentials=awarded)
    # Revocations: a learner leaves a month and so a year, or stays in the year through another month.
    for credential in chain(awarded[::4], db.session.scalars(select(IssuedCredential).where(
            IssuedCredential.public_id.like("gen%")).order_by(IssuedCredential.id).limit(40)).all()[::3]):
        credential.revoked_at = credential.issued_at + dt.timedelta(days=1)
        db.session.flush()
        events.credential_revoked.send(None, credential=credential)
    assert service.stored() == service.recount()
    years = set(db.session.scalars(select(StatsLearnerYear.year)))
    assert years == {2024, 2025, 2026}
    sectors = {organisation.id: organisation.sector for organisation in organisations}
    groups = [set(sectors), *({o for o, s in sectors.items() if s == sector} for sector in set(sectors.values()))]
    checked = 0
    for start, end in SPANS:
        for chosen in groups:
            counter = LearnerCounter({}, sectors, Scope(frozenset(chosen), start, end))
            assert counter.summary() == _live_summary({o: sectors[o] for o in chosen}, start, end), (start, end)
            checked += 1
    assert checked == len(SPANS) * len(groups)


def test_the_check_sees_a_year_set_that_is_not_the_union_of_its_months(ctx: Flask):
    queries.clear_cache()
    build_generated()
    row = db.session.scalars(select(StatsLearnerYear)).first()
    assert row is not None
    from pyroaring import BitMap

    learners = BitMap.deserialize(row.learner_ids)
    swapped = BitMap(learners)
    swapped.discard(learners.min())
    swapped.add(learners.max() + 1)  # the same size, another learner
    row.learner_ids = swapped.serialize()
    db.session.flush()
    assert service.stored() != service.recount()
    service.rebuild()
    assert service.stored() == service.recount()


def test_the_migration_fills_the_year_sets_from_the_month_sets(fresh_database, make_app, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(fresh_database(), tmp_path)
    with app.app_context():
        with app.test_request_context():
            build_generated()
            db.session.commit()
            before = service.stored()
        assert {group for group in before[2] if group[1] < 10_000} == {
            (organisation_id, 2025) for organisation_id, _ in db.session.execute(select(
                IssuedCredential.organisation_id, IssuedCredential.id)).tuples()}
        db.session.rollback()
        downgrade(revision="i14_learner_years-1")
        upgrade()
        with app.test_request_context():
            assert service.stored() == before == service.recount()
        assert app.test_cli_runner().invoke(args=["observatory", "check"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()


def test_bitmaps_read_in_binary_are_the_stored_bytes_and_see_pending_changes(ctx: Flask):
    """binary_rows (the binary format on PostgreSQL) gives what the session's execution gives, byte for byte, and
    like it sees rows added in the transaction and not flushed yet."""
    from pyroaring import BitMap

    from badgehub.db import binary_rows

    queries.clear_cache()
    generated = build_generated()
    organisation_id = generated.organisations[0].id
    db.session.add(StatsLearnerYear(organisation_id=organisation_id, year=1999,
                                    learner_ids=BitMap([3, 70_000, 2**20]).serialize()))
    query = select(StatsLearnerYear.organisation_id, StatsLearnerYear.year, StatsLearnerYear.learner_ids)
    read = binary_rows(query)
    assert (organisation_id, 1999, BitMap([3, 70_000, 2**20]).serialize()) in read
    assert sorted(read) == sorted(tuple(row) for row in db.session.execute(query)) and len(read) > 1
