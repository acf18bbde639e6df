"""HTTP caching rules for what BadgeHub serves, written once.

* **Public documents** (a credential's JSON, JWT, PNG, SVG and PDF in a given language, status lists, DID documents,
  JWK sets): a strong ``ETag``, ``304 Not Modified`` on a conditional GET, and :data:`PUBLIC_DOCUMENT`: a short
  ``max-age`` and a ``stale-while-revalidate`` window, together no longer than a status list's ``ttl`` (five
  minutes), so that a CDN may answer a crowd of scans and still shows a revocation within that time. They do not
  depend on the visitor: :func:`public_document` marks the response so that the session neither adds
  ``Vary: Cookie`` nor sets a cookie (a CDN would otherwise keep one copy per visitor, or none).
* **Pages that carry a CSRF form or personal data** (every HTML page has the language form): :data:`NO_STORE`,
  with a strong ETag of the body on the ones a crowd reads (the credential page), so that a client that asks
  conditionally still gets a 304 (:func:`private_page`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from flask import Flask, Response, g, request, session
from flask.sessions import SecureCookieSessionInterface

PUBLIC_DOCUMENT: Final = "public, max-age=60, stale-while-revalidate=240"
NO_STORE: Final = "no-store"
_SESSION_INDEPENDENT: Final = "badgehub_session_independent"
_CSRF_VALUE: Final = re.compile(rb'(name="csrf_token"[^>]*?value=")[^"]*(")')


def public_document(response: Response, *, etag: str | None = None) -> Response:
    """Make ``response`` a cacheable public document (see the module docstring): ``etag`` (else a hash of the
    body), :data:`PUBLIC_DOCUMENT`, readable from any origin with its ETag, answered 304 when the request's
    ``If-None-Match`` matches. Returns the response (changed in place)."""
    if etag is not None:
        response.set_etag(etag)
    else:
        response.add_etag()
    response.headers["Cache-Control"] = PUBLIC_DOCUMENT
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.vary.discard("Cookie")
    g.setdefault(_SESSION_INDEPENDENT, True)
    response.make_conditional(request)
    return response


def private_page(response: Response) -> Response:
    """``no-store`` for a page that carries a CSRF form or personal data, with a strong ETag of its body and a 304
    for a conditional GET that matches it. Returns the response (changed in place)."""
    response.headers["Cache-Control"] = NO_STORE
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.direct_passthrough:
        # A CSRF token is signed with the time, so it differs from one second to the next while any of them is
        # good for the session: the tag is the body without token values, and the session's own secret.
        body = _CSRF_VALUE.sub(rb"\1\2", response.get_data())
        seed = str(session.get("csrf_token", "")).encode("utf-8")
        response.set_etag(hashlib.sha256(seed + b"\0" + body).hexdigest())
        response.make_conditional(request)
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which leaves public documents alone: no ``Vary: Cookie`` and no cookie
    on a response marked by :func:`public_document`, unless the request changed the session."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if g.get(_SESSION_INDEPENDENT) and not session.modified:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Install the session interface that honours :func:`public_document`."""
    app.session_interface = _SessionInterface()
