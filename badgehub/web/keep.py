"""``/keep/<token>``: the "See and keep your badge" button of the award e-mail.

GET shows the badge and one button (mail scanners open links, and opening must not use the link); the POST
signs the recipient in, or creates their account with the address verified, and opens the badge in the wallet.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_login import current_user

from badgehub.extensions import db, limiter
from badgehub.wallet.errors import InvalidKeepLink, KeepLinkUsed
from badgehub.wallet.keep import check_keep_link, keep_badge
from badgehub.web.auth import start_session
from badgehub.web.auth_forms import LinkConfirmForm

bp = Blueprint("keep", __name__)


def _no_store(response: Response) -> Response:
    # Reached through a secret link: neither the browser nor a proxy should keep the page.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _invalid(error: InvalidKeepLink) -> Response:
    if isinstance(error, KeepLinkUsed) and current_user.is_authenticated:
        # A second tap from the device that already kept it: just show the badge.
        return redirect(url_for("wallet.index"))  # type: ignore[return-value]
    html = render_template("wallet/keep_invalid.html", message=error.message,
                           sign_in_url=url_for("auth.sign_in", next=url_for("wallet.index")))
    return _no_store(Response(html, status=error.http_status, mimetype="text/html"))


@bp.route("/keep/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: str(current_app.config["RATELIMIT_SIGNIN"]), methods=["POST"])
def keep(token: str) -> ResponseReturnValue:
    form = LinkConfirmForm()
    if form.validate_on_submit():
        try:
            kept = keep_badge(token, current_app.config, locale=str(get_locale() or "") or None)
        except InvalidKeepLink as error:
            db.session.rollback()
            return _invalid(error)
        db.session.commit()
        start_session(kept.user, remember=bool(form.remember.data))
        if kept.account_created:
            flash(gettext("Welcome! Your account is created with the address %(address)s, already confirmed. "
                          "Your badge is in your wallet.", address=kept.user.email), "success")
        elif kept.password_removed:
            flash(gettext("Your e-mail address is confirmed. The password chosen before that was removed, "
                          "for your safety: you can choose a new one on your account page."), "success")
        else:
            flash(gettext("You are signed in. Your badge is in your wallet."), "success")
        return redirect(url_for("wallet.credential", public_id=kept.credential.public_id))
    try:
        credential = check_keep_link(token, current_app.config)
    except InvalidKeepLink as error:
        return _invalid(error)
    html = render_template("wallet/keep.html", form=form, credential=credential,
                           version=credential.achievement_version)
    return _no_store(Response(html, mimetype="text/html"))
