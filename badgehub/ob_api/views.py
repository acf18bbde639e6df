"""``/ims/ob/v3p0``: discovery, credentials (list, upsert) and profile (read, update), OAuth 2.0 bearer tokens.

Every error is an ``Imsx_StatusInfo`` object (OB 3.0 §6.2), never an HTML page.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from badgehub.accounts.holder import holder_did_of
from badgehub.accounts.models import User
from badgehub.accounts.service import change_name
from badgehub.credentials.contexts import OB_V3_CONTEXT, VC_V2_CONTEXT
from badgehub.errors import BadgeHubError
from badgehub.extensions import db, limiter
from badgehub.keys.identity import base_url_of
from badgehub.oauth.server import CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE, resource_protector
from badgehub.ob_api import service
from badgehub.ob_api.openapi import API_PATH, service_description
from badgehub.verification.platform import SubmissionRefused

bp = Blueprint("ob_api", __name__, url_prefix=API_PATH)


def _limit() -> str:
    return str(current_app.config.get("RATELIMIT_API") or "600 per minute")


# Per client address, the budget of the organisations' own API: a platform reading wallets is that kind of client.
limiter.limit(_limit)(bp)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MINOR_BY_STATUS = {400: "invalid_data", 401: "unauthorizedrequest", 403: "forbidden", 404: "not_found",
                   405: "not_allowed", 413: "invalid_data", 415: "invalid_data", 429: "server_busy",
                   500: "internal_server_error"}


class ApiError(Exception):
    def __init__(self, status: int, description: str, minor: str | None = None) -> None:
        self.status, self.description = status, description
        self.minor = minor or MINOR_BY_STATUS.get(status, "unknown")
        super().__init__(description)


def status_info(status: int, description: str, minor: str) -> Response:
    response = jsonify({"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
                        "imsx_codeMinor": {"imsx_codeMinorField": [
                            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]}})
    response.status_code = status
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return status_info(error.status, error.description, error.minor)


@bp.errorhandler(BadgeHubError)
def _domain_error(error: BadgeHubError) -> Response:
    return status_info(error.http_status, str(error.message), MINOR_BY_STATUS.get(error.http_status, "unknown"))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return status_info(status, error.description or error.name, MINOR_BY_STATUS.get(status, "unknown"))


def _user(scope: str) -> User:
    try:
        token = resource_protector().acquire_token([scope])
    except OAuth2Error as error:
        status = 403 if error.error == "insufficient_scope" else 401
        response = status_info(status, error.description or error.error, MINOR_BY_STATUS[status])
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
        raise _Abort(response) from None
    user: User = token.get_user()
    return user


class _Abort(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@bp.errorhandler(_Abort)
def _abort(error: _Abort) -> Response:
    return error.response


@bp.get("/discovery")
def discovery() -> ResponseReturnValue:
    base = base_url_of(current_app.config)
    response = jsonify(service_description(base, name=gettext("BadgeHub"), privacy_url=base + "/"))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _int(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number", "invalid_query_parameter") from None
    if value < low or (high is not None and value > high):
        limit = f" and {high}" if high is not None else ""
        raise ApiError(400, f"{name} must be at least {low}{limit}", "invalid_query_parameter")
    return value


def _since() -> dt.datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "since must be an ISO 8601 date-time", "invalid_query_parameter") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _links(total: int, limit: int, offset: int) -> str:
    def at(start: int, rel: str) -> str:
        args: dict[str, Any] = {key: value for key, value in request.args.items() if key not in ("limit", "offset")}
        url = base_url_of(current_app.config) + url_for("ob_api.credentials", limit=limit, offset=start, **args)
        return f'<{url}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = [at(0, "first")]
    if offset > 0:
        links.append(at(max(0, offset - limit), "prev"))
    if offset + limit < total:
        links.append(at(offset + limit, "next"))
    links.append(at(last, "last"))
    return ", ".join(links)


@bp.get("/credentials")
def credentials() -> ResponseReturnValue:
    user = _user(CREDENTIAL_READ)
    limit = _int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int("offset", 0, 0)
    items = service.wallet_documents(user, since=_since())
    page = items[offset:offset + limit]
    body: dict[str, Any] = {}
    documents = [item.document for item in page if item.document is not None]
    tokens = [item.compact_jws for item in page if item.compact_jws is not None]
    if documents:
        body["credential"] = documents
    if tokens:
        body["compactJwsString"] = tokens
    response = jsonify(body)
    response.headers["X-Total-Count"] = str(len(items))
    response.headers["Link"] = _links(len(items), limit, offset)
    response.headers["Cache-Control"] = "no-store"
    return response


def _upsert_text() -> tuple[str, bool]:
    """The submitted credential as text, and whether it is a compact JWS (answered as text/plain)."""
    kind = request.mimetype
    text = request.get_data(as_text=True).strip()
    if not text:
        raise ApiError(400, "the body must hold a credential")
    if kind in ("application/json", "application/ld+json"):
        try:
            if not isinstance(json.loads(text), dict):
                raise ValueError
        except ValueError:
            raise ApiError(400, "the body is not a JSON object") from None
        return text, False
    if kind == "text/plain":
        if text.count(".") != 2 or any(ch.isspace() for ch in text):
            raise ApiError(400, "the body is not a compact JWS")
        return text, True
    raise ApiError(415, "send application/json, application/ld+json or text/plain", "invalid_data")


@bp.post("/credentials")
def upsert_credential() -> ResponseReturnValue:
    user = _user(CREDENTIAL_UPSERT)
    text, is_jws = _upsert_text()
    try:
        result = service.upsert(current_app, user, text)
    except service.NotVerified as error:
        db.session.rollback()
        raise ApiError(400, f"the credential does not verify ({error.details.get('verdict')})") from None
    except SubmissionRefused as refused:
        db.session.rollback()
        raise ApiError(refused.status, f"the credential cannot be read ({refused.code})") from None
    db.session.commit()
    status = 201 if result.created else 200
    if is_jws:
        return Response(text, status=status, mimetype="text/plain")
    return Response(text, status=status, mimetype="application/json")


def _profile(user: User) -> dict[str, Any]:
    return {"@context": [VC_V2_CONTEXT, OB_V3_CONTEXT], "id": holder_did_of(user) or f"mailto:{user.email}",
            "type": ["Profile"], "name": user.name or user.email, "email": user.email}


@bp.get("/profile")
def profile() -> ResponseReturnValue:
    return jsonify(_profile(_user(PROFILE_READ)))


@bp.put("/profile")
def put_profile() -> ResponseReturnValue:
    user = _user(PROFILE_UPDATE)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a Profile as a JSON object")
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError(400, "name is required: it is the only member a learner's profile lets you change")
    if body.get("email") not in (None, user.email):
        raise ApiError(400, "email cannot be changed here: addresses are confirmed in the wallet")
    change_name(user, name)
    db.session.commit()
    return jsonify(_profile(user))
