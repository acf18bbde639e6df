"""OpenID4VCI endpoints (for wallets, JSON, no cookies) and the learner's "add to a phone wallet" page."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, gettext
from flask_login import current_user, login_required

from badgehub.errors import BadgeHubError
from badgehub.extensions import db, limiter
from badgehub.keys.identity import base_url_of
from badgehub.mail import Mail, MailError
from badgehub.oid4vci import metadata, service
from badgehub.oid4vci.errors import InvalidGrant, InvalidRequest, Oid4vciError, UnsupportedGrantType
from badgehub.outbox.sender import send_now
from badgehub.printing.qr import qr_svg
from badgehub.wallet.service import get_wallet_credential

log = logging.getLogger(__name__)

bp = Blueprint("oid4vci", __name__)
pages = Blueprint("phone_wallet", __name__)


def _limit() -> str:
    return str(current_app.config.get("RATELIMIT_OID4VCI") or "60 per minute")


def _issuer_url() -> str:
    return base_url_of(current_app.config)


def _public_json(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _no_store(document: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Oid4vciError)
def _protocol_error(error: Oid4vciError) -> Response:
    response = _no_store({"error": error.code, "error_description": error.description}, error.http_status)
    if error.http_status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.code}"'
    return response


@bp.errorhandler(BadgeHubError)
def _domain_error(error: BadgeHubError) -> Response:
    # A wallet reads OAuth-shaped errors only; the key service's refusals (no active key, no KEK) land here.
    code = "server_error" if error.http_status >= 500 else "invalid_request"
    return _no_store({"error": code, "error_description": str(error.message)}, error.http_status)


@bp.get("/.well-known/openid-credential-issuer")
def issuer_metadata() -> ResponseReturnValue:
    names = {}
    for locale in ("en", "fr"):
        with force_locale(locale):
            names[locale] = (gettext("BadgeHub"), gettext("Open Badge"))
    return _public_json(metadata.credential_issuer_metadata(
        _issuer_url(), site_names={k: v[0] for k, v in names.items()}, badge_names={k: v[1] for k, v in names.items()}))


@bp.get(metadata.AUTHORIZATION_SERVER_METADATA_PATH)
def authorization_server_metadata() -> ResponseReturnValue:
    return _public_json(metadata.authorization_server_metadata(_issuer_url()))


@bp.get(metadata.OFFERS_PATH + "/<code>")
@limiter.limit(_limit)
def offer_by_reference(code: str) -> ResponseReturnValue:
    """The credential offer behind a wallet card's or an award e-mail's link. Reads only: the code is spent at
    the token endpoint. The description names no address: whoever holds the link is not yet known to be the
    learner."""
    found = service.offered_by_code(code, secret=str(current_app.config["SECRET_KEY"]))
    if found is None:
        return _no_store({"error": "not_found", "error_description": "this offer is unknown, used or expired"}, 404)
    description = gettext("The 6-digit code we sent to the badge's e-mail address") if found[1] else None
    return _no_store(service.credential_offer(_issuer_url(), code, tx_description=description))


@bp.post(metadata.TOKEN_PATH)
@limiter.limit(_limit)
def token() -> ResponseReturnValue:
    if request.form.get("grant_type") != service.PRE_AUTHORIZED_GRANT:
        if not request.form.get("grant_type"):
            raise InvalidRequest("grant_type is required (application/x-www-form-urlencoded)")
        raise UnsupportedGrantType("only the pre-authorized code grant is supported")
    try:
        issued = service.redeem_code(request.form.get("pre-authorized_code"), request.form.get("tx_code"),
                                     secret=str(current_app.config["SECRET_KEY"]))
    except InvalidGrant:
        db.session.commit()  # a wrong transaction code counts, even though the request fails
        raise
    db.session.commit()
    return _no_store({"access_token": issued.value, "token_type": "Bearer", "expires_in": issued.expires_in})


@bp.post(metadata.NONCE_PATH)
@limiter.limit(_limit)
def nonce() -> ResponseReturnValue:
    issued = service.new_nonce()
    db.session.commit()
    return _no_store({"c_nonce": issued.value})


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@bp.post(metadata.CREDENTIAL_PATH)
@limiter.limit(_limit)
def credential() -> ResponseReturnValue:
    # The token is checked before the body is looked at: an unknown token is a 401 whatever it sent.
    answer = service.deliver(_bearer(), request.get_json(silent=True), issuer_url=_issuer_url(),
                             config=current_app.config)
    db.session.commit()
    return _no_store(answer)


def _send_tx_code(address: str, tx_code: str, badge: str, minutes: int) -> bool:
    try:
        with force_locale(getattr(current_user, "locale", None) or str(get_locale() or "en")):
            text = render_template("email/oid4vci_tx_code.txt", code=tx_code, badge=badge, minutes=minutes)
            send_now(Mail(to=address, subject=gettext("Your code to add a badge to your wallet app"), text=text),
                     config=current_app.config)
    except MailError:
        log.exception("could not send the transaction code of a wallet offer")
        return False
    return True


@pages.post("/wallet/c/<public_id>/phone-wallet")
@login_required  # type: ignore[untyped-decorator]
def offer(public_id: str) -> ResponseReturnValue:
    user = current_user._get_current_object()
    found = get_wallet_credential(user, public_id)
    minutes = int(current_app.config["OID4VCI_OFFER_MINUTES"])
    made = service.create_offer(user, found, lifetime=dt.timedelta(minutes=minutes))
    # By reference: a short link makes a coarse QR code, easy to scan from a computer screen.
    link = service.offer_uri_link(f"{_issuer_url()}{metadata.OFFERS_PATH}/{made.pre_authorized_code}")
    db.session.commit()
    mailed = _send_tx_code(found.recipient_email, made.tx_code, found.achievement_version.name, minutes)
    # Inline as a data: URI: the page must not fetch the code from a URL that a cache or a log would keep.
    qr = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(link, scale=4)).decode("ascii")
    response = Response(render_template(
        "oid4vci/offer.html", credential=found, version=found.achievement_version, link=link,
        qr=qr, minutes=minutes, mailed=mailed, address=found.recipient_email), mimetype="text/html")
    # The page holds a live code: not for any cache, nor for the back button of a shared computer.
    response.headers["Cache-Control"] = "no-store"
    return response
