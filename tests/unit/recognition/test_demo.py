"""The demo territory has recognition requests a newcomer sees at once: the workshop's queue holds the demo
learner's request with a file, a described learning and one waiting for the learner; the library offers the
peer-recognition badge, already asked for; seeding twice makes nothing twice."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from badgehub.demo import LEARNER
from badgehub.extensions import db
from badgehub.organisations.service import get_organisation_by_slug
from badgehub.recognition import badges, queries
from badgehub.recognition.demo import LIBRARY, WORKSHOP, seed_demo_requests
from badgehub.recognition.models import EvidenceKind, RecognitionRequest, RequestStatus
from tests.factories import seeded_demo


def test_the_demo_has_pending_requests_in_two_queues(ctx: Flask, snapshot: Any) -> None:
    snapshot(seeded_demo)
    workshop, library = get_organisation_by_slug(WORKSHOP), get_organisation_by_slug(LIBRARY)
    waiting = queries.queue_of(workshop)
    assert {r.status for r in waiting} == {RequestStatus.SUBMITTED, RequestStatus.MORE_ASKED}
    assert len(waiting) == 3 and queries.waiting_count(workshop) == 2
    lucas = next(r for r in waiting if r.requester.email == LEARNER[0])
    assert {e.kind for e in lucas.evidence} == {EvidenceKind.LINK, EvidenceKind.FILE}
    assert any(r.achievement_id is None for r in waiting)
    peer = badges.peer_badge_of(library)
    assert peer is not None and [r.achievement_id for r in queries.queue_of(library)] == [peer.id]
    count = db.session.scalar(select(func.count(RecognitionRequest.id)))
    seed_demo_requests(LEARNER[0], ctx.config)
    assert db.session.scalar(select(func.count(RecognitionRequest.id))) == count
