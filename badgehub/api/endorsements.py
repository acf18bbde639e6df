"""``/api/v1/endorsements``: the endorsements an organisation gave and received, through its API tokens.

* ``GET /api/v1/endorsements?direction=given|received`` (``endorsements:read``): newest first, paged;
* ``POST /api/v1/endorsements`` (``endorsements:write``): endorse another organisation's achievement
  (``{"achievement": id}``) or another organisation (``{"organisation": slug}``), with a ``comment`` and an
  optional ``evidence_url``; 201 with the signed document;
* ``GET /api/v1/endorsements/<id>`` (``endorsements:read``);
* ``POST /api/v1/endorsements/<id>/withdraw`` (``endorsements:write``): one it gave;
* ``POST /api/v1/endorsements/<id>/display`` (``endorsements:write``): ``{"shown": true|false}`` for one it
  received.

An endorsement the organisation neither gave nor received is 404, as if it did not exist. Authentication,
errors and limits are those of :mod:`badgehub.api.v1`; the rules are :mod:`badgehub.endorsements.service`'s.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from badgehub.achievements.models import Achievement
from badgehub.api import v1
from badgehub.api.requests import BadRequest, InvalidBody, json_body, next_url, page_params, raise_for_api
from badgehub.endorsements import service as endorsements
from badgehub.endorsements.errors import EndorsementNotFound
from badgehub.endorsements.models import Endorsement
from badgehub.errors import BadgeHubError, NotFound
from badgehub.extensions import csrf, db
from badgehub.organisations.service import get_organisation_by_slug
from badgehub.tokens.service import ENDORSEMENTS_READ, ENDORSEMENTS_WRITE

bp = Blueprint("api_endorsements", __name__, url_prefix="/api/v1/endorsements")
csrf.exempt(bp)

CREATE_FIELDS: Final = frozenset({"achievement", "organisation", "comment", "evidence_url"})
_UNKNOWN = _l("Unknown field.")


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def endorsement_resource(endorsement: Endorsement) -> dict[str, Any]:
    """The API's view of one endorsement, with its signed document as issued."""
    return {
        "id": endorsement.public_id,
        "kind": endorsement.kind.value,
        "endorser": {"slug": endorsement.endorser.slug, "name": endorsement.endorser.name},
        "endorsed": {"slug": endorsement.endorsed_organisation.slug, "name": endorsement.endorsed_organisation.name},
        "subject": endorsement.subject_uri,
        "achievement": endorsement.achievement.public_id if endorsement.achievement is not None else None,
        "comment": endorsement.comment,
        "evidence_url": endorsement.evidence_url,
        "issued_at": _iso(endorsement.issued_at),
        "display": endorsement.display.value,
        "withdrawn_at": _iso(endorsement.withdrawn_at),
        "url": url_for("endorsements.document_json", public_id=endorsement.public_id, _external=True),
        "document": json.loads(endorsement.document_json),
    }


def _text_field(body: dict[str, Any], name: str, errors: dict[str, Any]) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    errors[name] = _l("Give a text.")
    return None


@bp.get("")
@v1.token_required(ENDORSEMENTS_READ)
def index() -> ResponseReturnValue:
    direction = request.args.get("direction", "given")
    if direction not in ("given", "received"):
        raise BadRequest("invalid_parameter", _l("direction is given or received."),
                            {"parameter": "direction"})
    limit, offset = page_params()
    organisation = v1._organisation()
    found = endorsements.given_by(organisation) if direction == "given" else endorsements.received_by(organisation)
    items = found[offset:offset + limit]
    return jsonify({"items": [endorsement_resource(item) for item in items], "total": len(found),
                    "offset": offset, "limit": limit, "next": next_url(offset, limit, len(found))})


@bp.post("")
@v1.token_required(ENDORSEMENTS_WRITE)
def create() -> ResponseReturnValue:
    body = json_body()
    organisation = v1._organisation()
    errors: dict[str, Any] = {name: _UNKNOWN for name in body if name not in CREATE_FIELDS}
    comment = _text_field(body, "comment", errors)
    evidence_url = _text_field(body, "evidence_url", errors)
    achievement_id, slug = _text_field(body, "achievement", errors), _text_field(body, "organisation", errors)
    if (achievement_id is None) == (slug is None):
        errors.setdefault("achievement", _l("Give either an achievement or an organisation."))
    if errors:
        raise InvalidBody(details={"fields": errors})
    token = v1._token()
    try:
        if achievement_id is not None:
            achievement = db.session.scalar(select(Achievement).where(Achievement.public_id == achievement_id))
            if achievement is None:
                raise InvalidBody(details={"fields": {"achievement": _l("There is no such badge.")}})
            made = endorsements.endorse_achievement(organisation, token, achievement, comment=comment,
                                                    evidence_url=evidence_url, config=current_app.config)
        else:
            try:
                endorsed = get_organisation_by_slug(slug or "")
            except NotFound:
                raise InvalidBody(details={"fields": {"organisation": _l("There is no such organisation.")}}) \
                    from None
            made = endorsements.endorse_organisation(organisation, token, endorsed, comment=comment,
                                                     evidence_url=evidence_url, config=current_app.config)
    except BadgeHubError as error:
        db.session.rollback()
        raise_for_api(error)
    db.session.commit()
    response = jsonify(endorsement_resource(made))
    response.status_code = 201
    response.headers["Location"] = url_for("api_endorsements.one", public_id=made.public_id)
    return response


def _own(public_id: str) -> Endorsement:
    return endorsements.endorsement_for(v1._organisation(), public_id)


@bp.get("/<public_id>")
@v1.token_required(ENDORSEMENTS_READ)
def one(public_id: str) -> ResponseReturnValue:
    return jsonify(endorsement_resource(_own(public_id)))


@bp.post("/<public_id>/withdraw")
@v1.token_required(ENDORSEMENTS_WRITE)
def withdraw(public_id: str) -> ResponseReturnValue:
    endorsement = _own(public_id)
    if endorsement.endorser_id != v1._organisation().id:
        raise EndorsementNotFound()
    endorsements.withdraw(endorsement, v1._token(), config=current_app.config)
    db.session.commit()
    return jsonify(endorsement_resource(endorsement))


@bp.post("/<public_id>/display")
@v1.token_required(ENDORSEMENTS_WRITE)
def display(public_id: str) -> ResponseReturnValue:
    body = json_body()
    endorsement = _own(public_id)
    if endorsement.endorsed_organisation_id != v1._organisation().id:
        raise EndorsementNotFound()
    errors: dict[str, Any] = {name: _UNKNOWN for name in body if name != "shown"}
    if not isinstance(body.get("shown"), bool):
        errors["shown"] = _l("Give true or false.")
    if errors:
        raise InvalidBody(details={"fields": errors})
    endorsements.set_display(endorsement, v1._token(), shown=body["shown"])
    db.session.commit()
    return jsonify(endorsement_resource(endorsement))
