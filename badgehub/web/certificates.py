"""The PDF certificate of an issued credential: ``/c/<public_id>.pdf`` (public, like ``/c/<id>.png``).

Anyone with the credential's address may print it; the certificate carries nothing the public page does not
show (no e-mail address). The language is, in order: ``?lang=fr|en``, the signed-in user's own language,
the language chosen on the site (session), the browser's ``Accept-Language``, the default locale.

Caching: the strong ETag is computed from the certificate's content and layout version *before* drawing
(:func:`badgehub.printing.certificate.certificate_etag`), so a conditional request answers 304 without
rendering. With ``?lang`` it is a public document like the others (:func:`badgehub.web.caching.public_document`:
a short public cache, no ``Vary: Cookie``); without, the language is the visitor's, so the cache is private and
``Vary`` names the headers that chose it. The certificate states the verdict of
:func:`badgehub.issuing.live.verify_issued`, which is part of the ETag. Rendered PDFs are also kept
in a small in-process LRU cache keyed by that ETag. Rate limited per client address (drawing a PDF costs
about a tenth of a second of CPU).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Final

from cachetools import LRUCache
from flask import Blueprint, Response, current_app, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from badgehub.config import SUPPORTED_LOCALES
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, error_response
from badgehub.extensions import limiter
from badgehub.issuing import service as issuing
from badgehub.issuing.live import verify_issued
from badgehub.issuing.models import IssuedCredential
from badgehub.presenters.reports import present
from badgehub.printing.certificate import (
    CertificateData,
    certificate_data,
    certificate_etag,
    certificate_filename,
    certificate_pdf,
)
from badgehub.verification.verdicts import UNCONFIRMED_VERDICTS
from badgehub.web.caching import public_document

bp = Blueprint("certificates", __name__)

PERSONAL_CACHE_CONTROL: Final = "private, max-age=60"
NOT_CONFIRMED: Final = UNCONFIRMED_VERDICTS | {"invalid"}
DEFAULT_LIMIT: Final = "30 per minute"
_rendered: LRUCache[str, bytes] = LRUCache(maxsize=64)
_rendered_lock = threading.Lock()


def _limit() -> str:
    return str(current_app.config.get("RATELIMIT_CERTIFICATE") or DEFAULT_LIMIT)


def certificate_locale() -> tuple[str, bool]:
    """The certificate's language, and whether it came from ``?lang`` (then the URL alone decides)."""
    asked = request.args.get("lang", "")
    if asked in SUPPORTED_LOCALES:
        return asked, True
    user_locale = getattr(current_user, "locale", None) if current_user.is_authenticated else None
    if user_locale in SUPPORTED_LOCALES:
        return str(user_locale), False
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen), False
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "en")
    return str(best or (default if default in SUPPORTED_LOCALES else "en")), False


def _with_verdict(credential: IssuedCredential, data: CertificateData) -> CertificateData:
    # The paper says what the credential page says (verify_issued), and never looks more valid than the database
    # knows the badge to be (a revocation whose list could not be signed yet).
    verdict = present(verify_issued(current_app, credential).report).verdict
    revoked_at = credential.revoked_at or (utcnow() if verdict == "revoked" else None)
    return replace(data, revoked_at=revoked_at, unconfirmed=verdict in NOT_CONFIRMED)


@bp.get("/c/<public_id>.pdf")
@limiter.limit(_limit, scope="certificate-pdf")
def credential_pdf(public_id: str) -> ResponseReturnValue:
    try:
        credential = issuing.get_credential(public_id, with_context=True)
    except BadgeHubError as error:
        response = error_response(error.http_status, error.code, error.message, error.details)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    locale, explicit = certificate_locale()
    data = _with_verdict(credential, certificate_data(credential, current_app.config))
    etag = certificate_etag(data, locale)
    if etag in request.if_none_match:
        body = b""
    else:
        with _rendered_lock:
            body = _rendered.get(etag, b"")
        if not body:
            body = certificate_pdf(data, locale=locale)
            with _rendered_lock:
                _rendered[etag] = body
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{certificate_filename(data)}"'
    response.headers["Content-Language"] = locale
    response.headers["X-Robots-Tag"] = "noindex"
    if explicit:
        # The URL alone decides: a document any cache may keep for everyone.
        return public_document(response, etag=etag)
    # Without ?lang the language comes from the visitor (account, session, browser): theirs alone.
    response.set_etag(etag)
    response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.vary.update(("Accept-Language", "Cookie"))
    return response.make_conditional(request)
