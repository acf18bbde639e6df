"""Reading ``/api/v1`` requests: JSON bodies, query parameters and issue requests, refused with the API's
stable codes (``invalid_json``, ``not_an_object``, ``invalid_parameter``, ``too_large``,
``unsupported_media_type``; 422 ``invalid`` with ``details.fields`` in dotted form)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn
from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from badgehub.errors import BadgeHubError, ValidationError
from badgehub.issuing import service as issuing
from badgehub.organisations.models import Organisation

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100
ISSUE_FIELDS: Final = frozenset({"achievement", "recipient", "evidence_url", "narrative", "activity_start",
                                 "activity_end", "area", "result", "holder_did", "idempotency_key", "send_email"})
RECIPIENT_FIELDS: Final = frozenset({"email", "name"})
# Service field names → the API's (dotted) names.
API_FIELDS: Final = {"recipient_email": "recipient.email", "recipient_name": "recipient.name", "area_id": "area"}
_TEXT_FIELDS: Final = ("evidence_url", "narrative", "result", "holder_did")
UNKNOWN_FIELD = _l("Unknown field.")


class InvalidBody(ValidationError):
    """Well-formed JSON whose values are wrong: 422, ``details.fields`` (or ``details.items`` for a batch)."""

    http_status = 422


def raise_for_api(error: BadgeHubError) -> NoReturn:
    """Raise a service's refusal as the API answers it: its ``invalid`` (400, ``details.fields``) becomes
    :class:`InvalidBody` (422) with the same details; any other error goes on as it is."""
    if error.code == "invalid":
        raise InvalidBody(details=error.details) from error
    raise error


class BadRequest(BadgeHubError):
    """An unreadable body or query parameter (400) with its own code."""

    http_status = 400

    def __init__(self, code: str, message: Any, details: dict[str, Any] | None = None) -> None:
        self.code = code
        super().__init__(message, details=details)


class UnsupportedMediaType(BadgeHubError):
    code = "unsupported_media_type"
    http_status = 415
    default_message = _l("Send the body as JSON, with the header Content-Type: application/json.")


def json_body() -> dict[str, Any]:
    """The request's JSON object. Raises 415, 413 (through Werkzeug) or :class:`BadRequest`."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    request.max_content_length = int(current_app.config.get("API_MAX_BODY_BYTES", 1024 * 1024))
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("invalid_json", _l("The body is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise BadRequest("invalid_json", _l("The body is not valid JSON (line %(line)s, column %(column)s).",
                                            line=exc.lineno, column=exc.colno),
                         {"line": exc.lineno, "column": exc.colno}) from None
    except (ValueError, RecursionError):
        raise BadRequest("invalid_json", _l("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise BadRequest("not_an_object", _l("The body must be a JSON object ({…})."))
    return body


def _int_param(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise BadRequest("invalid_parameter",
                         _l("The parameter %(name)s must be a whole number from %(min)s to %(max)s.",
                            name=name, min=minimum, max=maximum), {"parameter": name})
    return int(raw)


def moment_param(name: str) -> dt.datetime | None:
    """A date (midnight UTC) or a date-time with a time zone from the query string, or None."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    # An unencoded "+01:00" arrives as " 01:00" (a "+" in a query string is a space).
    raw = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw)
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest("invalid_parameter",
                         _l("The parameter %(name)s must be a date (2025-03-01) or a date and time with a time "
                            "zone (2025-03-01T18:00:00Z).", name=name), {"parameter": name})
    return moment


def page_params() -> tuple[int, int]:
    return _int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _int_param("offset", 0, 0, 10_000_000)


def next_url(offset: int, limit: int, total: int) -> str | None:
    if offset + limit >= total:
        return None
    query = {key: value for key, value in request.args.items() if key not in ("offset", "limit")}
    query.update(limit=str(limit), offset=str(offset + limit))
    return f"{request.base_url}?{urlencode(query)}"


@dataclass(frozen=True)
class IssueRequest:
    """One award as the API received it, before the service checks it."""

    achievement: str
    award: issuing.AwardInput
    idempotency_key: str | None
    send_email: bool


def _moment(value: Any, name: str, errors: dict[str, Any]) -> dt.date | dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    errors[name] = _l("Give a date (2025-03-01) or a date and time with a time zone (2025-03-01T18:00:00+01:00).")
    return None


def _area(value: Any, organisation: Organisation, errors: dict[str, Any]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # the service checks that it is one of the organisation's areas
    if isinstance(value, str):
        matches = [area.id for area in issuing.issuing_areas(organisation) if area.code == value.strip()]
        if len(matches) == 1:
            return matches[0]
    errors["area"] = _l("Give the id (a number) or the code of an area of a territory your organisation "
                        "belongs to.")
    return None


def parse_issue(body: Mapping[str, Any], organisation: Organisation, *, header_key: str | None = None,
                 key_required: bool = False) -> tuple[IssueRequest | None, dict[str, Any]]:
    """Read one award object; return it (or None) and its field errors."""
    errors: dict[str, Any] = {name: UNKNOWN_FIELD for name in body if name not in ISSUE_FIELDS}
    achievement = body.get("achievement")
    if not isinstance(achievement, str) or not achievement.strip():
        errors["achievement"] = _l("Give the id of one of your organisation's badges.")
    recipient = body.get("recipient")
    email: Any = ""
    name: Any = ""
    if not isinstance(recipient, dict):
        errors["recipient"] = _l("Give the recipient as an object: {\"email\": …, \"name\": …}.")
    else:
        errors.update({f"recipient.{key}": UNKNOWN_FIELD for key in recipient if key not in RECIPIENT_FIELDS})
        email, name = recipient.get("email"), recipient.get("name") or ""
        if not isinstance(email, str) or not email.strip():
            errors["recipient.email"] = _l("Give the recipient's e-mail address.")
            email = ""
        if not isinstance(name, str):
            errors["recipient.name"] = _l("Give the name as text.")
            name = ""
    texts: dict[str, str | None] = {}
    for field in _TEXT_FIELDS:
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            errors[field] = _l("Give this as text.")
            value = None
        texts[field] = value
    start = _moment(body.get("activity_start"), "activity_start", errors)
    end = _moment(body.get("activity_end"), "activity_end", errors)
    area_id = _area(body.get("area"), organisation, errors)
    key = body.get("idempotency_key")
    if key is not None and not isinstance(key, str):
        errors["idempotency_key"] = _l("Give the idempotency key as text.")
        key = None
    if header_key and key and header_key != key:
        errors["idempotency_key"] = _l("The Idempotency-Key header and the idempotency_key field differ.")
    key = key or header_key
    if key_required and not (key or "").strip():
        errors["idempotency_key"] = _l("Give each item its own idempotency key: a retry then issues nothing twice.")
    send_email = body.get("send_email", True)
    if not isinstance(send_email, bool):
        errors["send_email"] = _l("Give true or false.")
    if errors:
        return None, errors
    award = issuing.AwardInput(recipient_email=email, recipient_name=name, evidence_url=texts["evidence_url"],
                               narrative=texts["narrative"], activity_start=start, activity_end=end,
                               area_id=area_id, result=texts["result"], holder_did=texts["holder_did"])
    return IssueRequest(str(achievement).strip(), award, key, bool(send_email)), {}


def api_fields(error: BadgeHubError) -> dict[str, Any]:
    """A service error's field messages under the API's field names (messages as text)."""
    fields = dict(error.details.get("fields") or {})
    if "field" in error.details:
        fields[error.details["field"]] = error.message
    if not fields:
        fields["_"] = error.message
    return {API_FIELDS.get(str(name), str(name)): str(message) for name, message in fields.items()}
