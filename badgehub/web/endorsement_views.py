"""What the public pages show of endorsements: who vouches, what they say, and each one's own verdict.

``/achievements/<id>``, ``/issuers/<slug>`` and ``/c/<id>`` list the shown endorsements of what they present;
each is verified on its own (:func:`badgehub.endorsements.live.verify_endorsement`, the pipeline over the stored
document) and its verdict worded by the same presenter as any badge (:func:`badgehub.presenters.reports.present`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import format_date

from badgehub.db import utcnow
from badgehub.endorsements.live import verdict_key, verify_endorsement
from badgehub.endorsements.models import Endorsement
from badgehub.presenters.reports import present


@dataclass(frozen=True)
class EndorsementRow:
    """One endorsement as a page lists it."""

    public_id: str
    endorser_name: str
    endorser_url: str
    comment: str
    evidence_url: str | None
    made_on: str
    verdict: str
    verdict_title: str
    tone: str
    json_url: str


@dataclass(frozen=True)
class EndorsementList:
    """The rows, and a digest of everything they show (for pages kept in a cache)."""

    rows: tuple[EndorsementRow, ...]
    key: str


def endorsement_list(endorsements: list[Endorsement]) -> EndorsementList:
    """The rows of ``endorsements`` with their verdicts, in the request's language (needs a request context)."""
    now = utcnow()
    rows = []
    keys = []
    for endorsement in endorsements:
        view = present(verify_endorsement(current_app, endorsement, now=now), endorsement_depth=0)
        keys.append(verdict_key(endorsement, now))
        rows.append(EndorsementRow(
            public_id=endorsement.public_id, endorser_name=endorsement.endorser.name,
            endorser_url=url_for("issuers.profile", slug=endorsement.endorser.slug), comment=endorsement.comment,
            evidence_url=endorsement.evidence_url, made_on=str(format_date(endorsement.issued_at, "long")),
            verdict=view.verdict, verdict_title=view.title, tone=view.tone,
            json_url=url_for("endorsements.document_json", public_id=endorsement.public_id)))
    digest = hashlib.sha256(repr((keys, [row.public_id for row in rows])).encode("utf-8")).hexdigest()
    return EndorsementList(tuple(rows), digest)
