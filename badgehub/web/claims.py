"""Claim campaigns: the public pages participants reach from a poster, and the organisation's campaign pages.

Public (mobile first: people scan the poster with a phone at the event):

* ``/claim``: type the short code of a poster (``?code=`` goes to the campaign's page);
* ``/claim/<code>``: the badge, the issuer, the window; the participant gives an e-mail address (and a name);
  every well-formed request gets the same answer ("check your mail") and exactly one e-mail: the link, or a
  note that this address has already claimed, so the page never tells whether an address has claimed;
* ``/claim/<code>/confirm/<token>``: the e-mailed link. A GET only shows a button (mail scanners that open links
  must not use them up); the POST issues the credential, e-mails it, and comes back to the same address, which
  then links to the credential ``/c/<id>`` and to the wallet.

Requests and confirmations are rate limited per client address, per e-mail address typed
(``RATELIMIT_CLAIMS``) and per campaign (``RATELIMIT_CLAIM_CAMPAIGN``); a look-up of an unknown code counts
against the client's limit, so codes cannot be guessed quickly. Being limited gets a page that says how long
to wait.

Staff (under ``/organisations/<slug>/claims``): the list of campaigns with their counts (every staff member),
creating one and closing it early (owners and issuers), one campaign's claims, and its poster as PDF or PNG.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any, Final

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, format_date, format_time, get_locale, get_timezone, gettext, to_user_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from badgehub.accounts.errors import InvalidEmail, InvalidName
from badgehub.claims import service as claims
from badgehub.claims.errors import CampaignNotFound, CampaignUnavailable, InvalidClaimLink
from badgehub.claims.models import ClaimCampaign
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, ValidationError
from badgehub.extensions import db, limiter
from badgehub.fields import email_key
from badgehub.issuing import service as issuing
from badgehub.issuing.keep_links import keep_token, keep_url
from badgehub.mail import Mail, MailError
from badgehub.mails.awards import deliver_notification, queue_notification
from badgehub.moments import moment, time_with_zone
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, Role
from badgehub.outbox.sender import send_now
from badgehub.printing.poster import poster_pdf, poster_png
from badgehub.printing.qr import qr_svg
from badgehub.web.claim_forms import (
    CampaignForm,
    ClaimConfirmForm,
    ClaimRequestForm,
    CloseCampaignForm,
    aware,
    local,
)
from badgehub.web.form_errors import place_errors

log = logging.getLogger(__name__)

bp = Blueprint("claims", __name__)

WALLET_PATH: Final = "/wallet"
PNG_MEDIA_TYPE: Final = "image/png"
# The claims listed on a campaign's page (a capped campaign of an evening has far fewer).
CLAIMS_SHOWN: Final = 500
# Service field names the campaign form calls otherwise.
FORM_FIELDS: Final = {"achievement_public_id": "achievement"}


# ----------------------------------------------------------------------------------------------- limits


def _claims_limit() -> str:
    return str(current_app.config["RATELIMIT_CLAIMS"])


def _campaign_limit() -> str:
    return str(current_app.config["RATELIMIT_CLAIM_CAMPAIGN"])


def _campaign_key() -> str:
    code = (request.view_args or {}).get("code", "")
    return "claim-campaign:" + (claims.normalise_short_code(str(code)) or "unknown")


def _target_address_key() -> str:
    # Hashed, so the limiter's storage (Redis in production) holds no e-mail address.
    typed = request.form.get("email", "")
    return "claim-address:" + hashlib.sha256(email_key(typed).encode("utf-8")).hexdigest()


def _not_found(response: Response) -> bool:
    return response.status_code == 404


per_client = limiter.limit(_claims_limit, methods=["POST"])
per_address = limiter.shared_limit(_claims_limit, scope="claim-target-address", key_func=_target_address_key,
                                   methods=["POST"])
per_campaign = limiter.shared_limit(_campaign_limit, scope="claim-campaign", key_func=_campaign_key,
                                    methods=["POST"])
# Only misses count: a whole event behind one address may open the page, nobody may try codes one by one.
code_guesses = limiter.shared_limit(_claims_limit, scope="claim-code-guesses", deduct_when=_not_found)


@bp.errorhandler(429)
def too_many(error: TooManyRequests) -> ResponseReturnValue:
    retry_after = None
    if error.response is not None:
        retry_after = error.response.headers.get("Retry-After")
    seconds = int(retry_after) if retry_after and retry_after.isdigit() else None
    response = _page("claims/too_many.html", 429, seconds=seconds)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


# ----------------------------------------------------------------------------------------------- helpers


def _page(template: str, http_status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=http_status, mimetype="text/html")


def _no_store(response: Response) -> Response:
    # Pages reached through a secret link: neither the browser nor a proxy should keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _absolute(endpoint: str, **values: Any) -> str:
    # From BASE_URL: the Host header is chosen by the client, and a link in an e-mail must not be.
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


def _window_text(campaign: ClaimCampaign) -> str:
    # The date as people write it, the time without seconds, and the zone it is told in.
    start, end = campaign.opens_at, campaign.closes_at
    if to_user_timezone(start).date() == to_user_timezone(end).date():
        return str(gettext("%(date)s, from %(start)s to %(end)s", date=format_date(start, "full"),
                           start=format_time(start, "short"), end=time_with_zone(end)))
    return str(gettext("From %(start)s to %(end)s", start=moment(start), end=moment(end)))


def _public_context(campaign: ClaimCampaign) -> dict[str, Any]:
    version = campaign.achievement.current_version
    return {
        "campaign": campaign, "version": version, "organisation": campaign.organisation,
        "status": claims.campaign_status(campaign).value, "window": _window_text(campaign),
        "image_url": url_for("achievements.image", public_id=campaign.achievement.public_id),
    }


def _unavailable_message(campaign: ClaimCampaign) -> Any:
    try:
        claims.require_open(campaign)
    except CampaignUnavailable as error:
        return error.message
    return None


# ----------------------------------------------------------------------------------------------- public


@bp.get("/claim")
@code_guesses
def enter_code() -> ResponseReturnValue:
    typed = request.args.get("code")
    if typed is None:
        return _page("claims/enter_code.html", typed="")
    try:
        campaign = claims.find_campaign(typed[:100])
    except CampaignNotFound as error:
        return _page("claims/enter_code.html", 404, typed=typed[:100], problem=error.message)
    return redirect(url_for("claims.campaign_page", code=campaign.short_code))


def _campaign_or_404(code: str) -> ClaimCampaign | Response:
    try:
        return claims.find_campaign(code)
    except CampaignNotFound as error:
        return _page("claims/enter_code.html", 404, typed=code[:100], problem=error.message)


def _claim_page(campaign: ClaimCampaign, form: ClaimRequestForm, status: int = 200, problem: Any = None) -> Response:
    response = _page("claims/claim.html", status, form=form, problem=problem,
                     unavailable=_unavailable_message(campaign), **_public_context(campaign))
    # Whoever has the code may claim: the page is for the people at the event, not for search engines.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/claim/<code>")
@code_guesses
def campaign_page(code: str) -> ResponseReturnValue:
    found = _campaign_or_404(code)
    if isinstance(found, Response):
        return found
    if found.short_code != code:
        return redirect(url_for("claims.campaign_page", code=found.short_code))
    return _claim_page(found, ClaimRequestForm(formdata=None))


def _send(to: str, locale: str | None, subject: Any, template: str, **context: Any) -> bool:
    """Render ``email/<template>.txt`` and ``.html`` (text and HTML parts, like the award e-mail: one button) in
    ``locale`` and send it; a failure is logged (never the message: it may hold a link) and told to the person.
    Returns whether the mail left."""
    language = locale or _locale()
    try:
        with force_locale(language):
            context.update(subject=str(subject), lang=language, email=to)
            mail = Mail(to=to, subject=str(subject), text=render_template(f"email/{template}.txt", **context),
                        html=render_template(f"email/{template}.html", **context))
        send_now(mail, config=current_app.config)
    except MailError:
        log.exception("could not send the %s e-mail", template)
        flash(gettext("We could not send the e-mail just now. Please try again in a few minutes."), "error")
        return False
    return True


@bp.post("/claim/<code>")
@code_guesses
@per_client
@per_address
@per_campaign
def request_claim(code: str) -> ResponseReturnValue:
    found = _campaign_or_404(code)
    if isinstance(found, Response):
        return found
    form = ClaimRequestForm()
    if not form.validate_on_submit():
        return _claim_page(found, form, 400)
    try:
        answer = claims.request_claim(found, form.email.data or "", form.name.data or "", locale=_locale())
    except CampaignUnavailable as error:
        return _claim_page(found, form, error.http_status)
    except InvalidEmail as error:
        form.email.errors = [*form.email.errors, error.message]
        return _claim_page(found, form, error.http_status)
    except InvalidName as error:
        form.name.errors = [*form.name.errors, error.message]
        return _claim_page(found, form, error.http_status)
    db.session.commit()
    claim, version = answer.claim, found.achievement.current_version
    assert version is not None
    common = {"name": claim.name, "badge": version.name, "organisation": found.organisation.name,
              "site_name": gettext("BadgeHub"),
              "image_url": _absolute("achievements.image", public_id=found.achievement.public_id)}
    if answer.token is not None:
        sent = _send(answer.address, claim.locale, _l("Confirm to receive your badge “%(badge)s”", badge=version.name),
                     "claims_link", link=_absolute("claims.confirm", code=found.short_code, token=answer.token),
                     hours=int(claims.CLAIM_LINK_LIFETIME.total_seconds() // 3600), **common)
    else:
        credential = claim.credential
        # The mail goes to the address the badge was awarded to: the same one-tap "keep" as the award e-mail.
        link = issuing.credential_url(credential, current_app.config) if credential else None
        sent = _send(answer.address, claim.locale, _l("You already have the badge “%(badge)s”", badge=version.name),
                     "claims_already", link=link,
                     keep_link=keep_url(credential, current_app.config) if credential else None,
                     wallet=str(current_app.config["BASE_URL"]).rstrip("/") + WALLET_PATH, **common)
    if not sent:
        return redirect(url_for("claims.campaign_page", code=found.short_code))
    flash(gettext("We have sent an e-mail to %(address)s. Open it and follow the link it holds to receive your "
                  "badge.", address=answer.address), "success")
    return redirect(url_for("claims.sent", code=found.short_code))


@bp.get("/claim/<code>/sent")
def sent(code: str) -> ResponseReturnValue:
    found = _campaign_or_404(code)
    if isinstance(found, Response):
        return found
    return _page("claims/sent.html", hours=int(claims.CLAIM_LINK_LIFETIME.total_seconds() // 3600),
                 **_public_context(found))


def _invalid_link(code: str, error: BadgeHubError) -> Response:
    retry = url_for("claims.campaign_page", code=code) if claims.normalise_short_code(code) else url_for(
        "claims.enter_code")
    return _no_store(_page("claims/link_invalid.html", error.http_status, message=error.message, code=error.code,
                           retry_url=retry))


@bp.route("/claim/<code>/confirm/<token>", methods=["GET", "POST"])
@per_client
@per_campaign
def confirm(code: str, token: str) -> ResponseReturnValue:
    form = ClaimConfirmForm()
    if form.validate_on_submit():
        try:
            done = claims.confirm_claim(code, token, config=current_app.config)
            # Committed with the credential (the outbox): a crash can neither lose the e-mail nor repeat it.
            message = (queue_notification(done.credential, current_app.config)
                       if done.issued_now and done.credential is not None else None)
            db.session.commit()
        except BadgeHubError as error:
            db.session.rollback()
            return _invalid_link(code, error)
        if message is not None and done.credential is not None:
            try:
                deliver_notification(message, current_app.config)
            except MailError:
                log.exception("could not send the e-mail of credential %s", done.credential.public_id)
        # Back to the link's own address: it now shows the badge (and a reload posts nothing again).
        return redirect(url_for("claims.confirm", code=code, token=token))
    try:
        claim = claims.check_claim_link(code, token)
    except InvalidClaimLink as error:
        return _invalid_link(code, error)
    context = _public_context(claim.campaign)
    credential = claim.credential
    if credential is not None:
        # The claim link proved the address: the same one-tap "keep" as the award e-mail's button.
        link = issuing.credential_url(credential, current_app.config)
        return _no_store(_page("claims/done.html", credential_url=link,
                               keep_url=url_for("keep.keep", token=keep_token(credential, current_app.config)),
                               **context))
    return _no_store(_page("claims/confirm.html", form=form, email=claim.email,
                           unavailable=_unavailable_after_link(claim.campaign), **context))


def _unavailable_after_link(campaign: ClaimCampaign) -> Any:
    # A link sent during the window still works after its end; closing early, the cap or a pause stop it.
    if claims.campaign_status(campaign) in (claims.CampaignStatus.CLOSED, claims.CampaignStatus.FULL,
                                            claims.CampaignStatus.PAUSED):
        return _unavailable_message(campaign)
    return None


# ------------------------------------------------------------------------------------------------ staff


def _actor() -> Any:
    return current_user._get_current_object()


@bp.get("/organisations/<slug>/claims")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    campaigns = claims.campaigns_of(organisation)
    now = utcnow()
    return _page("claims/index.html", organisation=organisation, campaigns=campaigns,
                 pending=claims.pending_counts(campaigns),
                 statuses={campaign.id: claims.campaign_status(campaign, now).value for campaign in campaigns},
                 can_manage=member.role in organisations.BADGE_ISSUERS, is_owner=member.role == Role.OWNER,
                 standing=organisations.organisation_standing(organisation))


def _new_page(organisation: Organisation, form: CampaignForm, status: int = 200, problem: Any = None) -> Response:
    return _page("claims/new.html", status, organisation=organisation, form=form, problem=problem,
                 standing=organisations.organisation_standing(organisation),
                 timezone=str(get_timezone() or "UTC"))


@bp.route("/organisations/<slug>/claims/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    form = CampaignForm()
    form.offer_achievements(issuing.achievements_catalogue(organisation))
    if request.method == "GET":
        now = utcnow()
        form.opens_at.data = form.opens_at.data or local(now)
        form.closes_at.data = form.closes_at.data or local(now + dt.timedelta(hours=3))
        chosen = request.args.get("achievement")
        if chosen and any(value == chosen for value, _ in form.achievement.choices):
            form.achievement.data = chosen
        return _new_page(organisation, form)
    organisations.require_good_standing(organisation)
    if not form.validate_on_submit():
        return _new_page(organisation, form, 400)
    try:
        campaign = claims.create_campaign(organisation, _actor(), claims.CampaignFields(
            achievement_public_id=form.achievement.data or "", title=form.title.data or "",
            notes=form.notes.data or "", opens_at=aware(form.opens_at.data), closes_at=aware(form.closes_at.data),
            max_claims=form.max_claims.data))
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _new_page(organisation, form, error.http_status, place_errors(form, error, FORM_FIELDS))
    flash(gettext("The campaign is created. Print its poster, or give people the code %(code)s.",
                  code=campaign.short_code), "success")
    return redirect(url_for("claims.detail", slug=organisation.slug, campaign_id=campaign.id))


def _campaign_for(slug: str, campaign_id: int, *roles: Role) -> tuple[Organisation, Any, ClaimCampaign]:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *roles)
    return organisation, member, claims.get_campaign_for(organisation, campaign_id)


@bp.get("/organisations/<slug>/claims/<int:campaign_id>")
@login_required
def detail(slug: str, campaign_id: int) -> ResponseReturnValue:
    organisation, member, campaign = _campaign_for(slug, campaign_id, *organisations.READERS)
    status = claims.campaign_status(campaign)
    claim_url = claims.claim_url(campaign, current_app.config)
    return _page("claims/detail.html", organisation=organisation, campaign=campaign, status=status.value,
                 claims=claims.claims_of(campaign, limit=CLAIMS_SHOWN), shown=CLAIMS_SHOWN,
                 pending=claims.pending_counts([campaign]).get(campaign.id, 0), claim_url=claim_url,
                 window=_window_text(campaign), version=campaign.achievement.current_version,
                 can_close=member.role in organisations.BADGE_ISSUERS
                 and status not in (claims.CampaignStatus.CLOSED, claims.CampaignStatus.ENDED),
                 close_form=CloseCampaignForm(formdata=None), is_owner=member.role == Role.OWNER,
                 standing=organisations.organisation_standing(organisation))


@bp.post("/organisations/<slug>/claims/<int:campaign_id>/close")
@login_required
def close(slug: str, campaign_id: int) -> ResponseReturnValue:
    organisation, _member, campaign = _campaign_for(slug, campaign_id, *organisations.BADGE_ISSUERS)
    form = CloseCampaignForm()
    if form.validate_on_submit():
        claims.close_campaign(campaign, _actor())
        db.session.commit()
        flash(gettext("The campaign is closed: nobody can claim its badge any more."), "success")
    return redirect(url_for("claims.detail", slug=organisation.slug, campaign_id=campaign.id))



def _poster(slug: str, campaign_id: int, fmt: str) -> Response:
    _organisation, _member, campaign = _campaign_for(slug, campaign_id, *organisations.READERS)
    version = campaign.achievement.current_version
    assert version is not None
    draw = poster_pdf if fmt == "pdf" else poster_png
    # The poster draws PNG images only; an SVG badge is left out (its name is printed all the same).
    image = version.image if version.image_media_type == PNG_MEDIA_TYPE else None
    data = draw(title=campaign.title, organisation_name=campaign.organisation.name, achievement_name=version.name,
                achievement_image_png=image, claim_url=claims.claim_url(campaign, current_app.config),
                short_code=campaign.short_code,
                window_text=_window_text(campaign), locale=_locale())
    response = Response(data, mimetype="application/pdf" if fmt == "pdf" else PNG_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="poster-{campaign.short_code}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/organisations/<slug>/claims/<int:campaign_id>/qr.svg")
@login_required
def qr_code(slug: str, campaign_id: int) -> ResponseReturnValue:
    _organisation, _member, campaign = _campaign_for(slug, campaign_id, *organisations.READERS)
    svg = qr_svg(claims.claim_url(campaign, current_app.config), scale=8,
                 title=gettext("QR code of the claim page of %(title)s", title=campaign.title))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/organisations/<slug>/claims/<int:campaign_id>/poster.pdf")
@login_required
def poster_pdf_view(slug: str, campaign_id: int) -> ResponseReturnValue:
    return _poster(slug, campaign_id, "pdf")


@bp.get("/organisations/<slug>/claims/<int:campaign_id>/poster.png")
@login_required
def poster_png_view(slug: str, campaign_id: int) -> ResponseReturnValue:
    return _poster(slug, campaign_id, "png")
