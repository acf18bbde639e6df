"""``/api/v1/pathways``: an organisation's pathways, through its API tokens.

* ``GET /api/v1/pathways`` (``pathways:read``): the organisation's own pathways, drafts included, by name, paged;
* ``POST /api/v1/pathways`` (``pathways:write``): a new draft (201);
* ``GET /api/v1/pathways/<id>`` (``pathways:read``): one of its own, or another's once published (with the
  number of completions for its own); another organisation's draft or archived pathway is 404;
* ``PUT /api/v1/pathways/<id>`` (``pathways:write``): its definition, replaced whole;
* ``POST /api/v1/pathways/<id>/status`` (``pathways:write``): ``{"status": "published"|"archived"}``.

A holder's progress is not served here: the tokens belong to organisations, and a learner's progress would tell
one organisation which badges of others a person holds. Learners see theirs in their wallet and on the pathway's
page. Authentication, errors and limits are those of :mod:`badgehub.api.v1`; the rules are
:mod:`badgehub.pathways.service`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from badgehub.api import v1
from badgehub.api.requests import InvalidBody, json_body, next_url, page_params, raise_for_api
from badgehub.errors import BadgeHubError
from badgehub.extensions import csrf, db
from badgehub.jobs import enqueue
from badgehub.pathways import service as pathways
from badgehub.pathways.models import Pathway
from badgehub.tokens.service import PATHWAYS_READ, PATHWAYS_WRITE

bp = Blueprint("api_pathways", __name__, url_prefix="/api/v1/pathways")
csrf.exempt(bp)

FIELDS: Final = frozenset({"name", "description", "in_language", "achievement", "qualification", "job_profile",
                           "groups"})
GROUP_FIELDS: Final = frozenset({"title", "ordered", "min_count", "achievements"})
_UNKNOWN = _l("Unknown field.")


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def pathway_resource(pathway: Pathway, *, own: bool, completions: int | None = None) -> dict[str, Any]:
    """The API's view of one pathway; ``completions`` only for the organisation's own (counted here unless
    given)."""
    resource: dict[str, Any] = {
        "id": pathway.public_id, "status": pathway.status.value, "name": pathway.name,
        "description": pathway.description, "in_language": pathway.in_language,
        "owner": {"slug": pathway.organisation.slug, "name": pathway.organisation.name},
        "territory": pathway.territory.slug if pathway.territory is not None else None,
        "achievement": pathway.achievement.public_id if pathway.achievement is not None else None,
        "qualification": ({"uri": pathway.qualification_uri, "name": pathway.qualification_name}
                          if pathway.qualification_uri or pathway.qualification_name else None),
        "job_profile": pathway.job_profile,
        "groups": [{"title": group.title, "ordered": group.ordered, "min_count": group.min_count,
                    "achievements": [step.achievement.public_id for step in group.steps]} for group in pathway.groups],
        "url": url_for("pathways.public", public_id=pathway.public_id, _external=True),
        "created_at": _iso(pathway.created_at), "updated_at": _iso(pathway.updated_at),
        "published_at": _iso(pathway.published_at),
    }
    if own:
        resource["completions"] = (completions if completions is not None
                                   else pathways.completion_counts([pathway]).get(pathway.id, 0))
    return resource


def _text(body: dict[str, Any], name: str, errors: dict[str, Any], key: str | None = None) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    errors[key or name] = _l("Give a text.")
    return ""


def _group(index: int, item: Any, errors: dict[str, Any]) -> pathways.GroupInput:
    key = f"groups-{index}"
    if not isinstance(item, dict):
        errors[key] = _l("Give an object.")
        return pathways.GroupInput()
    for name in item:
        if name not in GROUP_FIELDS:
            errors[f"{key}-{name}"] = _UNKNOWN
    ids = item.get("achievements")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        errors[f"{key}-achievements"] = _l("Give a list of achievement ids.")
        ids = []
    minimum = item.get("min_count")
    if minimum is not None and (not isinstance(minimum, int) or isinstance(minimum, bool)):
        errors[f"{key}-min_count"] = _l("Give a whole number.")
        minimum = None
    ordered = item.get("ordered", False)
    if not isinstance(ordered, bool):
        errors[f"{key}-ordered"] = _l("Give true or false.")
    return pathways.GroupInput(title=_text(item, "title", errors, f"{key}-title"), ordered=ordered is True,
                               min_count=minimum, achievements=tuple(ids))


def _fields(body: dict[str, Any]) -> pathways.PathwayFields:
    errors: dict[str, Any] = {name: _UNKNOWN for name in body if name not in FIELDS}
    qualification = body.get("qualification") or {}
    if not isinstance(qualification, dict) or set(qualification) - {"uri", "name"}:
        errors["qualification"] = _l("Give an object with uri and name.")
        qualification = {}
    groups = body.get("groups")
    if not isinstance(groups, list):
        errors["groups"] = _l("Give a list of groups.")
        groups = []
    found = tuple(_group(index, item, errors) for index, item in enumerate(groups))
    fields = pathways.PathwayFields(
        name=_text(body, "name", errors), description=_text(body, "description", errors),
        in_language=_text(body, "in_language", errors) or "fr", achievement=_text(body, "achievement", errors) or None,
        qualification_uri=_text(qualification, "uri", errors, "qualification") or None,
        qualification_name=_text(qualification, "name", errors, "qualification"),
        job_profile=_text(body, "job_profile", errors), groups=found)
    if errors:
        raise InvalidBody(details={"fields": errors})
    return fields


@bp.get("")
@v1.token_required(PATHWAYS_READ)
def index() -> ResponseReturnValue:
    limit, offset = page_params()
    found = pathways.pathways_of(v1._organisation())
    items = found[offset:offset + limit]
    counts = pathways.completion_counts(items)  # one query for the page
    return jsonify({"items": [pathway_resource(item, own=True, completions=counts.get(item.id, 0))
                              for item in items], "total": len(found),
                    "offset": offset, "limit": limit, "next": next_url(offset, limit, len(found))})


@bp.post("")
@v1.token_required(PATHWAYS_WRITE)
def create() -> ResponseReturnValue:
    fields = _fields(json_body())
    try:
        made = pathways.create_pathway(v1._organisation(), v1._token(), fields)
    except BadgeHubError as error:
        db.session.rollback()
        raise_for_api(error)
    db.session.commit()
    response = jsonify(pathway_resource(made, own=True))
    response.status_code = 201
    response.headers["Location"] = url_for("api_pathways.one", public_id=made.public_id)
    return response


@bp.get("/<public_id>")
@v1.token_required(PATHWAYS_READ)
def one(public_id: str) -> ResponseReturnValue:
    organisation = v1._organisation()
    pathway = pathways.visible_pathway(public_id, v1._token())
    return jsonify(pathway_resource(pathway, own=pathway.organisation_id == organisation.id))


@bp.put("/<public_id>")
@v1.token_required(PATHWAYS_WRITE)
def replace(public_id: str) -> ResponseReturnValue:
    pathway = pathways.pathway_for(v1._organisation(), public_id)
    fields = _fields(json_body())
    try:
        pathways.update_pathway(pathway, v1._token(), fields)
    except BadgeHubError as error:
        db.session.rollback()
        raise_for_api(error)
    db.session.commit()
    return jsonify(pathway_resource(pathway, own=True))


@bp.post("/<public_id>/status")
@v1.token_required(PATHWAYS_WRITE)
def change_status(public_id: str) -> ResponseReturnValue:
    pathway = pathways.pathway_for(v1._organisation(), public_id)
    body = json_body()
    errors: dict[str, Any] = {name: _UNKNOWN for name in body if name != "status"}
    if body.get("status") not in ("published", "archived"):
        errors["status"] = _l("Give published or archived.")
    if errors:
        raise InvalidBody(details={"fields": errors})
    try:
        pathways.set_status(pathway, v1._token(), body["status"])
    except BadgeHubError as error:
        db.session.rollback()
        raise_for_api(error)
    db.session.commit()
    if pathway.is_public:  # those who completed it already get its badge
        enqueue(current_app._get_current_object(), "pathways.award_completed", pathway.id)  # type: ignore[attr-defined]
    return jsonify(pathway_resource(pathway, own=True))


