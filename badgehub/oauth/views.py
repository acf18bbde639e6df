"""OAuth endpoints of the Open Badges API (token, registration, revocation, metadata: for machines, no cookies)
and the learner's pages (consent, connected applications)."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from badgehub.extensions import db, limiter
from badgehub.keys.identity import base_url_of
from badgehub.oauth import service
from badgehub.oauth.server import CLIENT_AUTH_METHODS, SCOPES, authorization_server

bp = Blueprint("oauth", __name__)
pages = Blueprint("oauth_pages", __name__)

SCOPE_LABELS = {
    "credential.readonly": _l("Read the badges in your wallet"),
    "credential.upsert": _l("Add badges to your wallet (each one is verified first)"),
    "profile.readonly": _l("Read your name and e-mail address"),
    "profile.update": _l("Change your name"),
}


def scope_label(scope: str) -> str:
    return str(SCOPE_LABELS.get(scope.rsplit("/", 1)[-1], scope))


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> ResponseReturnValue:
    base = base_url_of(current_app.config)
    response = jsonify({
        "issuer": base,
        "authorization_endpoint": base + url_for("oauth_pages.authorize"),
        "token_endpoint": base + url_for("oauth.token"),
        "registration_endpoint": base + url_for("oauth.register"),
        "revocation_endpoint": base + url_for("oauth.revoke"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _limit() -> str:
    return str(current_app.config.get("RATELIMIT_OAUTH") or "60 per minute")


@bp.post("/oauth/token")
@limiter.limit(_limit)
def token() -> ResponseReturnValue:
    response: Response = authorization_server().create_token_response()
    db.session.commit()
    return response


@bp.post("/oauth/register")
@limiter.limit(_limit)
def register() -> ResponseReturnValue:
    # Authlib expects a JSON object (an array crashes it): anything else is refused here, in RFC 7591's terms.
    if not isinstance(request.get_json(silent=True), dict):
        refused = jsonify({"error": "invalid_client_metadata",
                           "error_description": "the body must be a JSON object (application/json)"})
        refused.status_code = 400
        return refused
    response: Response = authorization_server().create_endpoint_response("client_registration")
    db.session.commit()
    return response


@bp.post("/oauth/revoke")
@limiter.limit(_limit)
def revoke() -> ResponseReturnValue:
    response: Response = authorization_server().create_endpoint_response("revocation")
    db.session.commit()
    return response


def _consent_error(error: OAuth2Error) -> Response:
    # Never redirect to an address the request names when the request itself is wrong (RFC 6749 §4.1.2.1).
    body = render_template("oauth/error.html", error=error.error, description=error.description or "")
    return Response(body, status=400, mimetype="text/html")


@pages.route("/oauth/authorize", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def authorize() -> ResponseReturnValue:
    server = authorization_server()
    user = current_user._get_current_object()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _consent_error(error)
    if request.method == "GET":
        scopes = [scope_label(scope) for scope in (grant.request.payload.scope or "").split()]
        client = grant.client
        return Response(render_template("oauth/consent.html", client=client, scopes=scopes,
                                        action=request.full_path), mimetype="text/html")
    approved = request.form.get("decision") == "allow"
    service.record_consent(user, grant.client, grant.request.payload.scope or "", allowed=approved)
    response: Response = server.create_authorization_response(grant=grant, grant_user=user if approved else None)
    db.session.commit()
    return response


@pages.get("/account/applications")
@login_required  # type: ignore[untyped-decorator]
def applications() -> ResponseReturnValue:
    connected = service.connected_applications(current_user._get_current_object())
    return Response(render_template("oauth/applications.html", applications=connected, scope_label=scope_label),
                    mimetype="text/html")


@pages.post("/account/applications/<client_id>/disconnect")
@login_required  # type: ignore[untyped-decorator]
def disconnect(client_id: str) -> ResponseReturnValue:
    service.disconnect(current_user._get_current_object(), client_id)
    db.session.commit()
    flash(gettext("The application was disconnected: it can no longer reach your wallet."), "success")
    return redirect(url_for("oauth_pages.applications"))


