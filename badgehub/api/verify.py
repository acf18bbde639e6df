"""``POST /api/v1/verify``: the public verification API, the same check and report as ``/verify``.

Anyone may call it, from any origin: it needs no token (so no CSRF token either: there is no session
to ride on) and answers CORS requests with ``Access-Control-Allow-Origin: *``. It is rate limited per
client address with the page (``RATELIMIT_VERIFY``).

**Request** (at most ``VERIFY_MAX_BYTES``, 5 MiB by default), one of:

* ``application/json`` (or any ``+json`` type): a credential object itself, or an object with exactly
  one of ``"credential"`` (an object, or its JSON/JWT text), ``"jwt"`` (a compact JWT) or ``"url"``
  (fetched through the platform's safe fetcher); optional ``"known_email"``;
* ``text/plain`` or ``application/jwt``: a compact JWT (or JSON text, or an address);
* ``image/png`` or ``image/svg+xml``: a baked badge image;
* ``multipart/form-data``: a file in the part ``file`` (or the first file), or the text fields
  ``credential`` / ``jwt`` / ``url``; optional field ``known_email``.

For the non-JSON forms, ``known_email`` may also be given in the query string.

**Response 200**: the report, for any verdict: ``verified`` (bool: the 1EdTech conformance reading),
``issuer_confirmed`` (bool: the signing key is the issuer's, :mod:`badgehub.verification.binding`),
``verdict`` (``valid``, ``valid_with_warnings``, ``issuer_unconfirmed``, ``revoked``, ``suspended``,
``expired``, ``not_yet_valid``, ``not_genuine``, ``recipient_mismatch``, ``invalid``, ``check_later``,
``unverifiable``), ``verdict_title``, ``verdict_summary``,
``notes``, ``checks`` (``[{id, status, code, message, details?}]``, messages in the request's
language), and the summary fields of :meth:`~badgehub.verification.report.VerificationReport.to_dict`
(``format``, ``ob_version``, ``issuer_id``, ``achievement_name``, ``valid_from``, ``revoked`` …).
``issuer_standing`` says where the issuer stands in this platform's registry of trusted issuers
(:meth:`badgehub.territory.registry.IssuerStanding.to_dict`: ``status`` ``approved``, ``suspended``,
``not_member`` or ``not_on_platform``, the ``organisation`` and its ``memberships`` with their dates), or is
null when the signature does not confirm the issuer.

**Errors**: ``{"error": {"code", "message", "details"}}`` with 400 (unreadable input, refused or
unreachable address: ``invalid_json``, ``invalid_jwt``, ``not_an_object``, ``image_without_badge``,
``url_refused``, ``url_unreachable``, ``empty_input``, ``too_many_inputs``, ``invalid_email`` …),
413 (``too_large``), 415 (``unsupported_media_type``, ``unsupported_type``, ``unknown_format``),
429 (``rate_limited``). Bad input never causes a 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from badgehub.errors import error_response
from badgehub.events import verdict_of, verification_finished
from badgehub.extensions import csrf, verification_rate_limited
from badgehub.issuing.live import verify_submitted
from badgehub.presenters.messages import submission_message
from badgehub.presenters.reports import present
from badgehub.verification.platform import (
    SubmissionRefused,
    max_submission_bytes,
    recipient_address,
)

bp = Blueprint("api_verify", __name__, url_prefix="/api/v1")
# A public, token-less API: there is no session cookie for a forged request to ride on.
csrf.exempt(bp)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, Accept-Language",
    "Access-Control-Expose-Headers": "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
    "Access-Control-Max-Age": "86400",
}
JSON_TYPES = frozenset({"application/json", "application/ld+json", "application/vc+ld+json"})
TEXT_TYPES = frozenset({"text/plain", "application/jwt", "application/vc+jwt", "application/vc+ld+jwt"})
IMAGE_TYPES = frozenset({"image/png", "image/svg+xml"})
_SOURCES = ("credential", "jwt", "url")


@bp.after_request
def _cors(response: Response) -> Response:
    # Also on errors (400, 413, 429 …), so that a browser client can read why it was refused.
    response.headers.update(CORS_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _refusal(refused: SubmissionRefused) -> Response:
    details = {key: value for key, value in refused.params.items() if isinstance(value, str | int)}
    return error_response(refused.status, refused.code, submission_message(refused.code, refused.params), details)


def _from_object(body: Mapping[str, Any]) -> tuple[str, Any, object]:
    """``(kind, data, known_email)`` of a JSON body."""
    known_email = body.get("known_email")
    named = [name for name in _SOURCES if name in body]
    if len(named) > 1:
        raise SubmissionRefused("too_many_inputs")
    if not named:
        if "@context" in body or "type" in body:
            return "object", {k: v for k, v in body.items() if k != "known_email"}, known_email
        raise SubmissionRefused("empty_input")
    value = body[named[0]]
    if named[0] == "credential" and isinstance(value, Mapping):
        return "object", value, known_email
    if not isinstance(value, str):
        raise SubmissionRefused("not_an_object")
    return ("url" if named[0] == "url" else "text"), value, known_email


def _read_request() -> tuple[str, Any, object]:
    """``(kind, data, known_email)`` of the request; raises :class:`SubmissionRefused`."""
    limit = max_submission_bytes(current_app.config)
    if request.content_length is not None and request.content_length > limit:
        raise SubmissionRefused("too_large", 413, limit=limit)
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        upload = request.files.get("file") or next(iter(request.files.values()), None)
        known_email = request.form.get("known_email")
        if upload is not None:
            content = upload.stream.read(limit + 1)
            return "file", content, known_email
        fields = {name: request.form[name] for name in _SOURCES if request.form.get(name)}
        return _from_object(fields | ({"known_email": known_email} if known_email else {}))
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise SubmissionRefused("too_large", 413, limit=limit)
    known_email = request.args.get("known_email")
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        try:
            body = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise SubmissionRefused("invalid_json") from None
        if not isinstance(body, dict):
            raise SubmissionRefused("not_an_object")
        return _from_object(body)
    if mimetype in TEXT_TYPES:
        try:
            return "text", raw.decode("utf-8-sig"), known_email
        except UnicodeDecodeError:
            raise SubmissionRefused("not_utf8", 415) from None
    if mimetype in IMAGE_TYPES:
        return "file", raw, known_email
    raise SubmissionRefused("unsupported_media_type", 415)


@bp.route("/verify", methods=["POST"])
@verification_rate_limited
def verify() -> ResponseReturnValue:
    try:
        kind, data, email = _read_request()
        if email is not None and not isinstance(email, str):
            raise SubmissionRefused("invalid_email")
        report, standing = verify_submitted(current_app, data, kind=kind, now=datetime.now(UTC),
                                            known_email=recipient_address(email))
        verification_finished.send(verdict=verdict_of(report))
    except SubmissionRefused as refused:
        return _refusal(refused)
    data = present(report).to_dict()
    # Where the issuer stands in this platform's registry of trusted issuers (None when not confirmed).
    data["issuer_standing"] = standing.to_dict() if standing is not None else None
    return jsonify(data)
