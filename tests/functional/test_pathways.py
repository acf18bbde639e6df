"""Pathways: the definition's rules, progress (ordered groups, minimum counts, revoked and expired credentials),
the pathway badge awarded once on completion, signed by the owner with the contributing credentials as evidence,
e-mailed through the outbox, and the signal sent on progress and completion."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from badgehub import create_app, events
from badgehub.accounts.service import create_user
from badgehub.achievements import service as achievements
from badgehub.endorsements.territory_issuers import ensure_territory_issuer
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import CredentialSource, IssuedCredential
from badgehub.outbox.models import OutboxMessage
from badgehub.pathways import service as pathways
from badgehub.pathways.models import PathwayCompletion, PathwayStatus
from badgehub.pathways.service import GroupInput, PathwayFields
from tests.conftest import base_test_config
from tests.factories import BADGE_PNG, build_world, seeded_demo

LEA = "lea@example.net"


def _badge(organisation: Any, owner: Any, name: str) -> Any:
    return achievements.create_achievement(organisation, owner, achievements.AchievementFields(
        name=name, description=f"{name}.", criteria_md="Faire.", in_language="fr"),
        achievements.UploadedImage(BADGE_PNG))


def _world() -> dict[str, Any]:
    world = build_world()
    extra = {name: _badge(world.a, world.owner_a, name) for name in ("Niveau 1", "Niveau 2", "Niveau 3")}
    final = _badge(world.a, world.owner_a, "Parcours mécanique")
    return {"world": world, **extra, "final": final}


def _fields(built: dict[str, Any], **changes: Any) -> PathwayFields:
    world = built["world"]
    values: dict[str, Any] = {
        "name": "Parcours mécanique", "description": "Du premier coup de clé à l'animation d'atelier.",
        "in_language": "fr", "achievement": built["final"].public_id,
        "qualification_uri": "https://www.francecompetences.fr/recherche/rncp/12345/",
        "qualification_name": "CQP Technicien cycles", "job_profile": "Répare et entretient des vélos.",
        "groups": (GroupInput(title="Les niveaux", ordered=True, min_count=2,
                              achievements=tuple(built[n].public_id for n in ("Niveau 1", "Niveau 2", "Niveau 3"))),
                   GroupInput(title="Au choix", ordered=False, min_count=1,
                              achievements=(world.repair.public_id, world.reading.public_id)))}
    values.update(changes)
    return PathwayFields(**values)


def _award(achievement: Any, email: str = LEA, **kwargs: Any) -> IssuedCredential:
    return issuing.issue_credential(organisation=achievement.organisation, achievement=achievement,
                                    recipient_email=email, recipient_name="Léa", actor_id=None, source="single",
                                    config=kwargs.pop("config", None) or _config(), **kwargs)


def _config() -> Any:
    from flask import current_app

    return current_app.config


@pytest.fixture
def signals() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def receive(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    events.pathway_progressed.connect(receive)
    yield seen
    events.pathway_progressed.disconnect(receive)


def _published(built: dict[str, Any], **changes: Any) -> Any:
    world = built["world"]
    pathway = pathways.create_pathway(world.a, world.owner_a, _fields(built, **changes))
    return pathways.set_status(pathway, world.owner_a, "published")


def _fields_errors(call: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.details["fields"]


def test_a_definition_is_refused_with_every_wrong_field_named(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    errors = _fields_errors(lambda: pathways.create_pathway(world.a, world.owner_a, _fields(
        built, name="  ", in_language="xx-nope", achievement=world.reading.public_id,
        qualification_uri="ftp://example.org/x",
        groups=(GroupInput(min_count=5, achievements=(world.repair.public_id, world.repair.public_id)),
                GroupInput(title="Vide"), GroupInput(achievements=("zzzzzzzzzz",))))))
    assert set(errors) == {"name", "in_language", "achievement", "qualification_uri", "groups-0-achievements",
                           "groups-0-min_count", "groups-1-achievements", "groups-2-achievements"}


def test_a_definition_needs_a_badge_or_a_qualification_and_no_step_as_its_badge(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    errors = _fields_errors(lambda: pathways.create_pathway(world.a, world.owner_a, _fields(
        built, achievement="", qualification_uri="")))
    assert "achievement" in errors
    errors = _fields_errors(lambda: pathways.create_pathway(world.a, world.owner_a, _fields(
        built, achievement=world.repair.public_id)))
    assert "achievement" in errors
    errors = _fields_errors(lambda: pathways.create_pathway(world.a, world.owner_a, _fields(built, groups=())))
    assert "groups" in errors
    achievements.archive_achievement(built["Niveau 3"], world.owner_a)
    errors = _fields_errors(lambda: pathways.create_pathway(world.a, world.owner_a, _fields(built)))
    assert "groups-0-achievements" in errors


def test_only_those_who_sign_for_the_organisation_define_its_pathways(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    for outsider in (world.viewer_a, world.owner_b):
        with pytest.raises(pathways.CannotManagePathways):
            pathways.create_pathway(world.a, outsider, _fields(built))
    pathway = pathways.create_pathway(world.a, world.issuer_a, _fields(built))
    assert pathway.status is PathwayStatus.DRAFT and pathway.territory_id is None
    assert [len(group.steps) for group in pathway.groups] == [3, 2]
    with pytest.raises(pathways.PathwayNotFound):
        pathways.visible_pathway(pathway.public_id, world.owner_b)
    assert pathways.visible_pathway(pathway.public_id, world.viewer_a) is pathway
    with pytest.raises(pathways.PathwayNotFound):
        pathways.pathway_for(world.b, pathway.public_id)
    pathways.set_status(pathway, world.owner_a, "published")
    assert pathways.visible_pathway(pathway.public_id, None) is pathway
    pathways.set_status(pathway, world.owner_a, "archived")
    with pytest.raises(pathways.PathwayNotFound):
        pathways.visible_pathway(pathway.public_id, None)
    with pytest.raises(pathways.PathwayNotEditable):
        pathways.update_pathway(pathway, world.owner_a, _fields(built, name="Autre"))


def test_a_territory_pathway_belongs_to_the_territory_s_issuer(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    issuer = ensure_territory_issuer(world.territory, world.coordinator, config=_config())
    badge = _badge(issuer, world.coordinator, "Parcours du territoire")
    pathway = pathways.create_pathway(issuer, world.coordinator, _fields(built, achievement=badge.public_id))
    assert pathway.territory_id == world.territory.id and pathway.organisation_id == issuer.id


def test_ordered_groups_count_in_order_and_minimums_complete_groups(ctx: Flask, signals: list[Any]) -> None:
    built = _world()
    world = built["world"]
    pathway = _published(built)
    _award(built["Niveau 2"])  # out of order: counts nothing yet
    (row,) = pathways.progress_of_keys({LEA})
    assert [g.counted for g in row.progress.groups] == [0, 0]
    assert [s.achievement.id for s in row.progress.next_steps] == [built["Niveau 1"].id]
    assert signals == []
    _award(built["Niveau 1"])  # now both count: the ordered group's minimum (2) is met
    (row,) = pathways.progress_of_keys({LEA})
    assert [(g.counted, g.needed, g.complete) for g in row.progress.groups] == [(2, 2, True), (0, 1, False)]
    assert {s.achievement.id for s in row.progress.next_steps} == {world.repair.id, world.reading.id}
    assert (row.progress.counted, row.progress.needed, row.progress.complete) == (2, 3, False)
    assert signals == [{"pathway_id": pathway.id, "owner_organisation_id": world.a.id, "territory_id": None,
                        "holder_key": LEA, "completed": False}]


def test_completing_awards_the_badge_once_signed_by_the_owner_with_the_evidence(
        ctx: Flask, signals: list[Any]) -> None:
    built = _world()
    world = built["world"]
    pathway = _published(built)
    steps = [_award(built["Niveau 1"]), _award(built["Niveau 2"])]
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    steps.append(_award(world.reading))
    awarded = db.session.scalars(select(IssuedCredential).where(
        IssuedCredential.achievement_id == built["final"].id)).all()
    assert len(awarded) == 1
    badge = awarded[0]
    assert badge.source is CredentialSource.PATHWAY and badge.organisation_id == world.a.id
    assert badge.recipient_email == LEA
    document = json.loads(badge.document_json)
    assert sorted(e["id"] for e in document["evidence"]) == sorted(
        f"{_config()['BASE_URL']}/c/{c.public_id}" for c in steps)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == before + 1  # the pathway badge's e-mail
    assert signals[-1] == {"pathway_id": pathway.id, "owner_organisation_id": world.a.id, "territory_id": None,
                           "holder_key": LEA, "completed": True}
    completion = db.session.scalar(select(PathwayCompletion))
    assert completion is not None and completion.issued_credential_id == badge.id
    assert LEA not in completion.holder_digest
    _award(world.repair)  # more steps after completion award nothing more
    _award(built["Niveau 3"])
    assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
        IssuedCredential.achievement_id == built["final"].id)) == 1
    (row,) = pathways.progress_of_keys({LEA})
    assert row.completion is not None and row.progress.complete


def test_revoked_and_expired_credentials_do_not_count(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    _published(built)
    first = _award(built["Niveau 1"])
    _award(built["Niveau 2"])
    issuing.revoke_credential(first, actor_id=None, config=_config())
    _award(world.reading)
    assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
        IssuedCredential.achievement_id == built["final"].id)) == 0
    (row,) = pathways.progress_of_keys({LEA})
    assert [g.counted for g in row.progress.groups] == [0, 1]
    now = dt.datetime.now(dt.UTC)
    assert pathways.held_by({LEA}, now=now + dt.timedelta(days=1))
    achievements.update_achievement(built["Niveau 1"], world.owner_a, achievements.AchievementFields(
        name="Niveau 1", description="Niveau 1.", criteria_md="Faire.", in_language="fr", valid_for_days=30))
    _award(built["Niveau 1"])
    later = now + dt.timedelta(days=31)
    held = pathways.held_by({LEA}, now=later)
    assert built["Niveau 1"].id not in held and built["Niveau 2"].id in held


def test_a_holder_s_other_verified_addresses_count_and_drafts_award_nothing(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    pathway = pathways.create_pathway(world.a, world.owner_a, _fields(built))
    user = create_user(LEA, name="Léa", verified=True)
    from badgehub.accounts.addresses import add_address, confirm_address

    link = add_address(user, "lea.pro@example.org")
    confirm_address(user, link.token)
    _award(built["Niveau 1"])
    _award(built["Niveau 2"], email="lea.pro@example.org")
    _award(world.repair)
    assert db.session.scalar(select(func.count(PathwayCompletion.id))) == 0  # a draft awards nothing
    pathways.set_status(pathway, world.owner_a, "published")
    _award(world.reading, email="lea.pro@example.org")
    badge = db.session.scalar(select(IssuedCredential).where(IssuedCredential.achievement_id == built["final"].id))
    assert badge is not None and badge.recipient_email == "lea.pro@example.org"
    (row,) = pathways.wallet_progress(user)
    assert row.completion is not None


def test_a_failed_award_leaves_the_step_issued_and_no_completion(ctx: Flask) -> None:
    built = _world()
    world = built["world"]
    _published(built)
    achievements.archive_achievement(built["final"], world.owner_a)
    _award(built["Niveau 1"])
    _award(built["Niveau 2"])
    step = _award(world.reading)
    assert step.id is not None
    completion = db.session.scalar(select(PathwayCompletion))
    assert completion is not None and completion.issued_credential_id is None  # qualification only, then


@pytest.fixture
def committed_app(fresh_database: Any, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own: threads see what the others commit."""
    app = create_app(base_test_config(str(fresh_database()), tmp_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_last_steps_issued_at_once_award_the_pathway_badge_once(committed_app: Flask) -> None:
    app = committed_app
    with app.test_request_context():
        built = _world()
        world = built["world"]
        _published(built, groups=(GroupInput(achievements=(world.repair.public_id, world.reading.public_id)),))
        db.session.commit()
        steps = {"repair": world.repair.id, "reading": world.reading.id}
        final = built["final"].id
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def award(name: str) -> None:
        from badgehub.achievements.models import Achievement
        from badgehub.db import run_with_retry, writing

        start.wait(timeout=30)
        with app.test_request_context(), writing():
            def work() -> None:
                _award(db.session.get(Achievement, steps[name]), config=app.config)
                db.session.commit()

            try:
                run_with_retry(work)
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=award, args=(name,)) for name in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
            IssuedCredential.achievement_id == final)) == 1
        assert db.session.scalar(select(func.count(PathwayCompletion.id))) == 1


def test_the_demo_has_two_pathways_and_the_learner_part_way_on_one(ctx: Flask, snapshot: Any) -> None:
    from badgehub.accounts.service import get_user_by_email
    from badgehub.demo import COORDINATOR, LEARNER, TERRITORY_SLUG
    from badgehub.pathways.demo import CITIZEN, MECHANICS, seed_demo_pathways
    from badgehub.territory.service import get_territory_by_slug

    snapshot(seeded_demo)
    seed_demo_pathways(TERRITORY_SLUG, COORDINATOR[0], LEARNER[0], _config())  # a second run changes nothing
    territory = get_territory_by_slug(TERRITORY_SLUG)
    listed = pathways.territory_pathways(territory.id)
    assert sorted(p.name for p in listed) == sorted([CITIZEN, MECHANICS])
    assert next(p for p in listed if p.name == CITIZEN).territory_id == territory.id
    learner = get_user_by_email(LEARNER[0])
    assert learner is not None
    rows = {row.pathway.name: row for row in pathways.wallet_progress(learner)}
    mechanics = rows[MECHANICS]
    assert mechanics.completion is None and 1 <= mechanics.progress.counted < mechanics.progress.needed
    assert mechanics.progress.next_steps


def test_revoking_a_step_announces_the_change_of_progress(ctx: Flask, signals: list[Any]) -> None:
    built = _world()
    pathway = _published(built)
    first = _award(built["Niveau 1"])
    signals.clear()
    issuing.revoke_credential(first, actor_id=None, config=_config())
    assert signals == [{"pathway_id": pathway.id, "owner_organisation_id": built["world"].a.id,
                        "territory_id": None, "holder_key": LEA, "completed": False}]


def test_award_completed_completes_those_who_hold_every_step_once(ctx: Flask) -> None:
    from badgehub.pathways import award

    built = _world()
    world = built["world"]
    pathway = pathways.create_pathway(world.a, world.owner_a, _fields(built))
    for name in ("Niveau 1", "Niveau 2"):
        _award(built[name])
        _award(built[name], email="sam@example.net")
    _award(world.reading)
    assert award.award_completed(pathway, config=_config()) == []  # a draft awards nothing
    pathways.set_status(pathway, world.owner_a, "published")
    made = award.award_completed(pathway, config=_config())
    assert len(made) == 1 and made[0].issued_credential is not None
    assert made[0].issued_credential.recipient_email == LEA
    assert award.award_completed(pathway, config=_config()) == []


def test_erasing_an_account_unlinks_its_pathway_completions(ctx: Flask) -> None:
    from badgehub.wallet.erasure import run_erasers

    built = _world()
    world = built["world"]
    _published(built)
    for achievement in (built["Niveau 1"], built["Niveau 2"], world.reading):
        _award(achievement)
    assert pathways.progress_of_keys({LEA})[0].completion is not None
    assert run_erasers({LEA}) >= 1
    completion = db.session.scalar(select(PathwayCompletion))
    assert completion is not None and completion.holder_digest.startswith("erased:")
    assert pathways.completion_of(completion.pathway, {LEA}) is None


def _statements(run: Any) -> int:
    from sqlalchemy import event

    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(seen)


def test_following_a_chunk_costs_the_same_few_queries_whatever_its_size(ctx: Flask) -> None:
    from badgehub.pathways import award

    built = _world()
    world = built["world"]
    _published(built)
    with events.issued_together():  # announced below, by hand, to count what following them costs
        small = [_award(world.repair, email=f"small{n}@example.net") for n in range(2)]
        large = [_award(world.repair, email=f"large{n}@example.net") for n in range(12)]
        elsewhere = [_award(built["final"], email=f"other{n}@example.net") for n in range(5)]
    assert _statements(lambda: award.credentials_issued(elsewhere, config=_config())) == 1  # no pathway touched
    large_cost = _statements(lambda: award.credentials_issued(large, config=_config()))
    small_cost = _statements(lambda: award.credentials_issued(small, config=_config()))
    assert large_cost == small_cost <= 7  # pathways and steps, the holders' accounts, credentials, completions


def test_two_addresses_of_one_person_in_one_chunk_award_the_pathway_badge_once(ctx: Flask) -> None:
    from badgehub.accounts.addresses import add_address, confirm_address

    built = _world()
    world = built["world"]
    _published(built, groups=(GroupInput(achievements=(world.repair.public_id, world.reading.public_id)),))
    user = create_user(LEA, name="Léa", verified=True)
    confirm_address(user, add_address(user, "lea.pro@example.org").token)
    with events.issued_together():
        _award(world.repair)
        _award(world.reading, email="lea.pro@example.org")
    assert db.session.scalar(select(func.count(IssuedCredential.id)).where(
        IssuedCredential.achievement_id == built["final"].id)) == 1
    assert db.session.scalar(select(func.count(PathwayCompletion.id))) == 1


def test_award_completed_reads_its_holders_together_and_each_person_once(ctx: Flask) -> None:
    from badgehub.accounts.addresses import add_address, confirm_address
    from badgehub.pathways import award

    built = _world()
    world = built["world"]
    groups = (GroupInput(achievements=(world.repair.public_id, world.reading.public_id)),)
    few, many = (pathways.create_pathway(world.a, world.owner_a, _fields(built, name=name, groups=(
        GroupInput(achievements=(step.public_id, built[level].public_id)),)))
        for name, step, level in (("Peu", world.repair, "Niveau 1"), ("Beaucoup", world.reading, "Niveau 2")))
    for n in range(2):  # half-way on both
        _award(world.repair, email=f"few{n}@example.net")
    for n in range(10):
        _award(world.reading, email=f"many{n}@example.net")
    for pathway in (few, many):
        pathways.set_status(pathway, world.owner_a, "published")
    assert _statements(lambda: award.award_completed(few, config=_config())) == _statements(
        lambda: award.award_completed(many, config=_config()))
    later = pathways.create_pathway(world.a, world.owner_a, _fields(built, name="Plus tard", groups=groups))
    user = create_user(LEA, name="Léa", verified=True)
    confirm_address(user, add_address(user, "lea.pro@example.org").token)
    _award(world.repair, email="lea.pro@example.org")
    _award(world.reading)
    pathways.set_status(later, world.owner_a, "published")
    made = award.award_completed(later, config=_config())  # her two addresses are one holder: completed once
    assert len(made) == 1 and db.session.scalar(select(func.count(PathwayCompletion.id)).where(
        PathwayCompletion.pathway_id == later.id)) == 1
