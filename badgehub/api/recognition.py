"""``/api/v1/requests``: the recognition requests made to an organisation, through its API tokens.

* ``GET /api/v1/requests?status=submitted|more_asked|accepted|declined|withdrawn|open`` (``requests:read``):
  the requests made to the token's organisation, oldest waiting first for open ones (``open``, the default:
  submitted and more_asked), paged;
* ``GET /api/v1/requests/<id>`` (``requests:read``): one, with its evidence and conversation;
* ``GET /api/v1/requests/<id>/evidence/<evidence id>`` (``requests:read``): a file given as evidence, as stored;
* ``POST /api/v1/requests/<id>/decision`` (``requests:decide``): ``{"decision": "accept"}`` (with
  ``"achievement"`` for a described learning), ``{"decision": "ask", "message": …}`` or
  ``{"decision": "decline", "message": …}``; the learner is e-mailed as from the pages.

A request made to another organisation is 404, as if it did not exist. **Learners cannot make requests through
this API**: its tokens belong to organisations (an owner makes them to act for the organisation), and the
learner-facing OAuth grants (:mod:`badgehub.oauth`) carry only the 1EdTech OB 3.0 API scopes, which read and
store a learner's own credentials and say nothing of asking an organisation; learners ask from the pages, which
also take the files. Authentication, errors and limits are those of :mod:`badgehub.api.v1`; the rules are
:mod:`badgehub.recognition`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from badgehub.achievements.models import Achievement
from badgehub.api import v1
from badgehub.api.requests import BadRequest, InvalidBody, json_body, next_url, page_params, raise_for_api
from badgehub.errors import BadgeHubError
from badgehub.extensions import csrf, db
from badgehub.mails.awards import deliver_notifications
from badgehub.mails.recognition import queue_outcome
from badgehub.recognition import queries
from badgehub.recognition import service as recognition
from badgehub.recognition.errors import EvidenceNotFound
from badgehub.recognition.evidence_files import serving_headers
from badgehub.recognition.models import OPEN_STATUSES, EvidenceKind, RecognitionRequest, RequestStatus
from badgehub.tokens.service import REQUESTS_DECIDE, REQUESTS_READ

bp = Blueprint("api_recognition", __name__, url_prefix="/api/v1/requests")
csrf.exempt(bp)

DECISIONS: Final = ("accept", "ask", "decline")
DECISION_FIELDS: Final = frozenset({"decision", "message", "achievement"})
_STATUS_FILTERS: Final = {"open": OPEN_STATUSES, **{status.value: (status,) for status in RequestStatus}}


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def request_resource(found: RecognitionRequest) -> dict[str, Any]:
    """The API's view of one request: what was asked, by whom, the evidence (files by address) and the
    conversation."""
    evidence = []
    for item in found.evidence:
        entry: dict[str, Any] = {"id": item.public_id, "kind": item.kind.value, "added_at": _iso(item.added_at)}
        if item.kind is EvidenceKind.LINK:
            entry["url"] = item.url
        else:
            entry.update(filename=item.filename, media_type=item.media_type, size=item.size, sha256=item.sha256,
                         url=url_for("api_recognition.evidence", public_id=found.public_id,
                                     evidence_id=item.public_id, _external=True))
        evidence.append(entry)
    return {
        "id": found.public_id,
        "status": found.status.value,
        "self_declared": found.self_declared,
        "title": found.title,
        "description": found.description,
        "achievement": found.achievement.public_id if found.achievement is not None else None,
        "learner": {"name": found.requester.name, "email": found.requester.email},
        "created_at": _iso(found.created_at),
        "updated_at": _iso(found.updated_at),
        "decided_at": _iso(found.decided_at),
        "credential": found.issued_credential.public_id if found.issued_credential is not None else None,
        "evidence": evidence,
        "events": [{"kind": event.kind.value, "text": event.text, "at": _iso(event.created_at)}
                   for event in found.events],
    }


def _own(public_id: str) -> RecognitionRequest:
    return queries.request_for_reviewer(v1._organisation(), v1._token(), public_id)


@bp.get("")
@v1.token_required(REQUESTS_READ)
def index() -> ResponseReturnValue:
    wanted = request.args.get("status", "open")
    if wanted not in _STATUS_FILTERS:
        raise BadRequest("invalid_parameter", _l("status is open, submitted, more_asked, accepted, declined or "
                                                 "withdrawn."), {"parameter": "status"})
    limit, offset = page_params()
    organisation, statuses = v1._organisation(), _STATUS_FILTERS[wanted]
    total = queries.queue_count(organisation, statuses)
    items = queries.queue_of(organisation, statuses, limit=limit, offset=offset)
    return jsonify({"items": [request_resource(item) for item in items], "total": total, "offset": offset,
                    "limit": limit, "next": next_url(offset, limit, total)})


@bp.get("/<public_id>")
@v1.token_required(REQUESTS_READ)
def one(public_id: str) -> ResponseReturnValue:
    return jsonify(request_resource(_own(public_id)))


@bp.get("/<public_id>/evidence/<evidence_id>")
@v1.token_required(REQUESTS_READ)
def evidence(public_id: str, evidence_id: str) -> ResponseReturnValue:
    item = queries.evidence_for(v1._token(), public_id, evidence_id)
    if item.data is None or item.media_type is None:
        raise EvidenceNotFound()
    return Response(item.data, mimetype=item.media_type,
                    headers=serving_headers(item.media_type, item.filename or "evidence"))


def _body() -> tuple[str, str | None, str | None]:
    body = json_body()
    errors: dict[str, Any] = {name: _l("Unknown field.") for name in body if name not in DECISION_FIELDS}
    decision = body.get("decision")
    if decision not in DECISIONS:
        errors["decision"] = _l("Give accept, ask or decline.")
    for name in ("message", "achievement"):
        if body.get(name) is not None and not isinstance(body[name], str):
            errors[name] = _l("Give a text.")
    if errors:
        raise InvalidBody(details={"fields": errors})
    return str(decision), body.get("message"), body.get("achievement")


@bp.post("/<public_id>/decision")
@v1.token_required(REQUESTS_DECIDE)
def decide(public_id: str) -> ResponseReturnValue:
    decision, message, achievement_id = _body()
    found = _own(public_id)
    token, settings = v1._token(), current_app.config
    try:
        if decision == "accept":
            chosen = None
            if achievement_id is not None:
                chosen = db.session.scalar(select(Achievement).where(
                    Achievement.public_id == achievement_id, Achievement.organisation_id == found.organisation_id))
                if chosen is None:
                    raise InvalidBody(details={"fields": {"achievement": _l("There is no such badge.")}})
            outcome = recognition.accept(found, token, achievement=chosen, settings=settings)
        elif decision == "ask":
            outcome = recognition.ask_more(found, token, message, settings=settings)
        else:
            outcome = recognition.decline(found, token, message, settings=settings)
        queued = queue_outcome(outcome, settings)
    except BadgeHubError as error:
        db.session.rollback()
        raise_for_api(error)
    db.session.commit()
    deliver_notifications(queued, settings)
    return jsonify(request_resource(found))
