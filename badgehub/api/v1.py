"""The organisations' JSON API, ``/api/v1``: achievements, and issuing, reading, listing and revoking credentials.

**Authentication.** ``Authorization: Bearer <token>`` with a token made by an owner on
``/organisations/<slug>/api-tokens`` (:mod:`badgehub.tokens.service`). A missing, unknown, revoked or expired
token is 401 with ``WWW-Authenticate: Bearer``; a token without the scope an endpoint needs is 403
(``insufficient_scope``). A token acts for its organisation only: an achievement or credential of another
organisation is 404, exactly as if it did not exist. No cookie is read, so there is no CSRF token either.

**Bodies** are JSON objects (``Content-Type: application/json``) of at most ``API_MAX_BODY_BYTES``.
Unknown fields are **refused** (422), so that a misspelt optional field (``evidenceUrl``) is not silently
dropped from a signed credential that can never be changed.

**Errors** are always ``{"error": {"code", "message", "details"}}``: 400 unreadable body or query parameter
(``invalid_json``, ``not_an_object``, ``invalid_parameter``), 401, 403, 404, 405, 409
(``idempotency_conflict``, ``already_revoked``), 413 (``too_large``), 415 (``unsupported_media_type``), 422
well-formed JSON with wrong values (``invalid``; ``details.fields`` maps each field, in dotted form such as
``recipient.email``, to its message; a batch gives ``details.items``), 429 (``rate_limited``, per token, with
``Retry-After``). The document describing all of it is :mod:`badgehub.api.openapi` (``/api/v1/openapi.json``).

Every rule lives in the services (:mod:`badgehub.issuing.service`): this module parses, calls them, commits,
and sends the recipients' e-mails after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, Final, TypeVar, cast

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from limits import parse as parse_limit
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from badgehub import events
from badgehub.achievements.errors import AchievementArchived
from badgehub.achievements.models import Achievement
from badgehub.api.requests import (
    UNKNOWN_FIELD,
    BadRequest,
    InvalidBody,
    IssueRequest,
    api_fields,
    json_body,
    moment_param,
    next_url,
    page_params,
    parse_issue,
)
from badgehub.api.resources import achievement_resource, credential_resource, iso
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, ValidationError, error_response
from badgehub.extensions import csrf, db, hit_limit
from badgehub.issuing import bulk
from badgehub.issuing import service as issuing
from badgehub.issuing.errors import AlreadyRevoked, WrongOrganisation
from badgehub.issuing.models import IssuedCredential, RevocationReason
from badgehub.mail import MailError
from badgehub.mails.awards import (
    deliver_notification,
    deliver_notifications,
    issue_one,
    queue_notifications,
)
from badgehub.organisations.models import Organisation
from badgehub.outbox.models import OutboxMessage
from badgehub.tokens import service as tokens
from badgehub.tokens.errors import TokenRefused
from badgehub.tokens.models import ApiToken

log = logging.getLogger(__name__)

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
# Bearer tokens only, never the session cookie: a forged cross-site request has nothing to ride on.
csrf.exempt(bp)

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])

REALM: Final = "BadgeHub API"
class RateLimited(BadgeHubError):
    code = "rate_limited"
    http_status = 429
    default_message = _l("Too many requests with this API token. Wait a little and try again.")


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers hold recipients' addresses and depend on the token: never cached by a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _unauthorized(error: TokenRefused) -> Response:
    response = error_response(401, error.code, error.message, error.details)
    challenge = f'Bearer realm="{REALM}"'
    if error.code != "token_missing":
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def _rate_limit(token: ApiToken) -> None:
    """Count this request against the token's budget (``RATELIMIT_API``); raise :class:`RateLimited`."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item = parse_limit(str(current_app.config.get("RATELIMIT_API", "600 per minute")))
    retry_after = hit_limit(item, "api_v1", token.prefix)
    if retry_after is not None:
        raise RateLimited(details={"retry_after": retry_after})


def token_required(scope: str) -> Callable[[View], View]:
    """Authenticate the bearer token, count it against its rate limit, require ``scope``; the token is then
    ``g.api_token`` and its organisation :func:`_organisation`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            try:
                token = tokens.authenticate(tokens.bearer_token(request.headers.get("Authorization")))
            except TokenRefused as error:
                db.session.rollback()
                return _unauthorized(error)
            if db.session.dirty:
                db.session.commit()  # the last use, recorded at most once a minute
            try:
                _rate_limit(token)
            except RateLimited as error:
                response = error_response(429, error.code, error.message, error.details)
                response.headers["Retry-After"] = str(error.details["retry_after"])
                return response
            tokens.require_scope(token, scope)
            g.api_token = token
            return view(*args, **kwargs)

        return cast(View, wrapper)

    return decorate


def _token() -> ApiToken:
    return cast(ApiToken, g.api_token)


def _organisation() -> Organisation:
    return _token().organisation


@bp.get("/achievements")
@token_required(tokens.ACHIEVEMENTS_READ)
def achievements() -> ResponseReturnValue:
    limit, offset = page_params()
    archived = request.args.get("archived", "false")
    if archived not in ("true", "false"):
        raise BadRequest("invalid_parameter", _l("The parameter archived must be true or false."),
                         {"parameter": "archived"})
    found = issuing.achievements_catalogue(_organisation(), include_archived=archived == "true")
    return jsonify({"items": [achievement_resource(a) for a in found[offset:offset + limit]], "total": len(found),
                    "limit": limit, "offset": offset, "next": next_url(offset, limit, len(found))})


@bp.get("/achievements/<public_id>")
@token_required(tokens.ACHIEVEMENTS_READ)
def achievement(public_id: str) -> ResponseReturnValue:
    return jsonify(achievement_resource(issuing.get_achievement_for(_organisation(), public_id)))


def _deliver(credential: IssuedCredential, message: OutboxMessage) -> bool:
    try:
        deliver_notification(message, current_app.config)
    except MailError:
        log.exception("could not send the e-mail of credential %s", credential.public_id)
        return False
    return message.sent_at is not None


def _no_such_badge() -> dict[str, str]:
    return {"achievement": str(_l("There is no badge with this id in your organisation."))}


@bp.post("/credentials")
@token_required(tokens.CREDENTIALS_ISSUE)
def issue() -> ResponseReturnValue:
    organisation = _organisation()
    body = json_body()
    parsed, errors = parse_issue(body, organisation, header_key=request.headers.get("Idempotency-Key"))
    if parsed is None:
        raise InvalidBody(details={"fields": errors})
    try:
        achievement = issuing.get_achievement_for(organisation, parsed.achievement)
    except WrongOrganisation:
        raise InvalidBody(details={"fields": _no_such_badge()}) from None
    try:
        # The e-mail is committed with the credential (the outbox), delivered once the answer is sure. The token's
        # creator answers for what it issues (the credential's created_by and the audit trail).
        outcome, message = issue_one(organisation, achievement, parsed.award,
                                     idempotency_key=parsed.idempotency_key, actor_id=_token().created_by_id,
                                     source="api", send_email=parsed.send_email, config=current_app.config)
    except AchievementArchived as error:
        db.session.rollback()
        raise InvalidBody(details={"fields": {"achievement": str(error.message)}}) from None
    except ValidationError as error:
        db.session.rollback()
        raise InvalidBody(details={"fields": api_fields(error)}) from None
    credential = outcome.credential
    resource = credential_resource(credential, utcnow())
    if outcome.replayed:
        return jsonify(resource), 200
    resource["email_sent"] = _deliver(credential, message) if message is not None else False
    return jsonify(resource), 201, {"Location": f"{request.base_url}/{credential.public_id}"}


@bp.post("/credentials/batch")
@token_required(tokens.CREDENTIALS_ISSUE)
def issue_batch() -> ResponseReturnValue:
    organisation = _organisation()
    body = json_body()
    maximum = int(current_app.config.get("API_BATCH_MAX", 100))
    items = body.get("items")
    unknown = {name: str(UNKNOWN_FIELD) for name in body if name != "items"}
    if not isinstance(items, list) or not items or len(items) > maximum:
        unknown["items"] = str(_l("Give a list of 1 to %(max)s awards.", max=maximum))
    if unknown:
        raise InvalidBody(details={"fields": unknown})
    plans: list[tuple[Achievement, IssueRequest]] = []
    wellformed: list[tuple[int, IssueRequest]] = []
    problems: dict[str, Any] = {}
    seen_keys: dict[str, int] = {}
    for index, item in enumerate(cast(list[Any], items)):
        if not isinstance(item, dict):
            problems[str(index)] = {"_": str(_l("Each item must be a JSON object."))}
            continue
        parsed, errors = parse_issue(item, organisation, key_required=True)
        if parsed is None:
            problems[str(index)] = {name: str(message) for name, message in errors.items()}
            continue
        key = (parsed.idempotency_key or "").strip()
        if key in seen_keys:
            problems[str(index)] = {"idempotency_key": str(_l("The same idempotency key as item %(index)s.",
                                                                index=seen_keys[key]))}
            continue
        seen_keys[key] = index
        wellformed.append((index, parsed))
    # Every award checked before any is issued (an award issued by an earlier call is replayed below, or refused
    # as a conflicting reuse).
    verdicts = bulk.check_each(organisation, [(parsed.achievement, bulk.BulkAward(parsed.award, parsed.idempotency_key))
                                              for _index, parsed in wellformed])
    for (index, parsed), (achievement, error) in zip(wellformed, verdicts, strict=True):
        if error is not None or achievement is None:
            problems[str(index)] = _field_errors(error)
            continue
        plans.append((achievement, parsed))
    if problems:
        raise InvalidBody(_l("Nothing was issued: some items are not valid."), details={"items": problems})
    signer = issuing.signer_for(organisation, current_app.config)
    issued: list[issuing.Issued] = []
    to_mail: list[IssuedCredential] = []
    with events.issued_together():  # announced (and counted by the observatory) once for the request
        # Each achievement's awards together: signed on every core, stored with one lock of the status list.
        outcomes = bulk.issue_each(
            organisation, [(achievement, bulk.BulkAward(parsed.award, parsed.idempotency_key))
                           for achievement, parsed in plans],
            signer=signer, actor_id=_token().created_by_id, source="api", config=current_app.config)
        for index, ((_achievement, parsed), outcome) in enumerate(zip(plans, outcomes, strict=True)):
            if isinstance(outcome, BadgeHubError):
                db.session.rollback()
                outcome.details = {**outcome.details, "index": index}
                raise outcome
            issued.append(outcome)
            if parsed.send_email and not outcome.replayed:
                to_mail.append(outcome.credential)
        # Each e-mail is committed with its credential (the outbox), delivered after the commit.
        try:
            messages = queue_notifications(to_mail, current_app.config)
        except BadgeHubError:
            db.session.rollback()
            raise
    queued = {credential.id: message for credential, message in zip(to_mail, messages, strict=True)}
    ids = [outcome.credential.id for outcome in issued]
    db.session.commit()
    sent = deliver_notifications(list(queued.values()), current_app.config)
    # The commits (the request's, the delivery's) expired every credential: read them back in one query (with
    # what their resource shows) instead of a load and two lazy loads each.
    db.session.scalars(select(IssuedCredential).where(IssuedCredential.id.in_(ids))
                       .options(selectinload(IssuedCredential.achievement),
                                selectinload(IssuedCredential.achievement_version))).all()
    now = utcnow()
    resources = []
    for credential_id, outcome in zip(ids, issued, strict=True):
        resource = credential_resource(outcome.credential, now)
        if not outcome.replayed:
            message = queued.get(credential_id)
            resource["email_sent"] = message is not None and int(inspect(message).identity[0]) in sent
        resources.append(resource)
    created = sum(1 for outcome in issued if not outcome.replayed)
    return jsonify({"items": resources, "created": created, "replayed": len(issued) - created}), \
        201 if created else 200


def _field_errors(error: BadgeHubError | None) -> dict[str, Any]:
    """A batch item's refusal as field messages (see :func:`bulk.check_each`)."""
    if isinstance(error, AchievementArchived):
        return {"achievement": str(error.message)}
    if isinstance(error, ValidationError):
        return api_fields(error)
    if isinstance(error, WrongOrganisation) or error is None:
        return _no_such_badge()
    raise error


STATES: Final = ("", *issuing.STATES)


@bp.get("/credentials")
@token_required(tokens.CREDENTIALS_READ)
def credentials() -> ResponseReturnValue:
    organisation = _organisation()
    limit, offset = page_params()
    state = request.args.get("state", "")
    if state not in STATES:
        raise BadRequest("invalid_parameter", _l("The parameter state must be active, revoked or expired."),
                         {"parameter": "state"})
    achievement_id = None
    if request.args.get("achievement"):
        achievement_id = issuing.get_achievement_for(organisation, request.args["achievement"]).id
    search = (request.args.get("q") or "").strip()
    if len(search) > 200:
        raise BadRequest("invalid_parameter", _l("The parameter q is at most 200 characters."), {"parameter": "q"})
    now = utcnow()
    page = issuing.credentials_of(organisation, search=search or None, achievement_id=achievement_id,
                                  state=state or None, now=now, limit=limit, offset=offset,
                                  issued_since=moment_param("issued_since"),
                                  changed_since=moment_param("updated_since"))
    return jsonify({"items": [credential_resource(c, now) for c in page.items], "total": page.total,
                    "limit": limit, "offset": offset, "next": next_url(offset, limit, page.total)})


@bp.get("/credentials/<public_id>")
@token_required(tokens.CREDENTIALS_READ)
def credential(public_id: str) -> ResponseReturnValue:
    found = issuing.get_credential_for(_organisation(), public_id)
    return jsonify(credential_resource(found, utcnow()))


@bp.post("/credentials/<public_id>/revoke")
@token_required(tokens.CREDENTIALS_REVOKE)
def revoke(public_id: str) -> ResponseReturnValue:
    found = issuing.get_credential_for(_organisation(), public_id)
    body = json_body()
    unknown = {name: str(UNKNOWN_FIELD) for name in body if name not in ("reason", "note")}
    reason, note = body.get("reason"), body.get("note")
    if reason not in {r.value for r in RevocationReason}:
        unknown["reason"] = str(_l("Give the reason as one of: %(reasons)s.",
                                   reasons=", ".join(r.value for r in RevocationReason)))
    if note is not None and not isinstance(note, str):
        unknown["note"] = str(_l("Give the note as text."))
    if unknown:
        raise InvalidBody(details={"fields": unknown})
    try:
        issuing.revoke_credential(found, reason=str(reason), note=note, actor_id=_token().created_by_id,
                                  config=current_app.config)
        db.session.commit()
    except AlreadyRevoked:
        db.session.rollback()
        raise AlreadyRevokedConflict(details={"revoked_at": iso(found.revoked_at)}) from None
    except ValidationError as error:
        db.session.rollback()
        raise InvalidBody(details={"fields": api_fields(error)}) from None
    return jsonify(credential_resource(found, utcnow()))


class AlreadyRevokedConflict(AlreadyRevoked):
    code = "already_revoked"


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    from badgehub.api.openapi import openapi_document

    response = jsonify(openapi_document(request.host_url.rstrip("/")))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
