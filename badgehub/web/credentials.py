"""Issued credentials: the public documents verifiers fetch, and the organisation's award and revoke pages.

Public URLs (contracts, printed in QR codes and written into signed credentials):

* ``/issuers/<slug>/status/<n>``: the signed ``BitstringStatusListCredential`` (``application/vc+ld+json``),
  strong ETag and 304, public cache for a short while (:data:`badgehub.web.caching.PUBLIC_DOCUMENT`: a
  revocation shows within five minutes), any origin; the copy the last change signed (a GET signs nothing);
* ``/c/<public_id>.json``: the credential exactly as issued, byte for byte (``application/vc+ld+json``);
* ``/c/<public_id>.jwt``: its VC-JWT (``text/plain``, OB3-BRIEF §2.13);
* ``/c/<public_id>.png`` and ``.svg``: the credential baked into the achievement's image. A PNG image gives
  both (the SVG wraps the PNG); an SVG image gives the SVG only, and ``.png`` answers 404 saying so.

They are readable from any origin (browser-based verifiers) and carry ``X-Robots-Tag: noindex``: anyone with
the link may read a credential, but search engines are asked not to list people's badges. The HTML page
``/c/<public_id>`` itself belongs to the credential page.

Staff pages: the award form ``/organisations/<slug>/achievements/<public_id>/award`` (owners and issuers, in
good standing), the list ``/organisations/<slug>/credentials`` and one credential
``/organisations/<slug>/credentials/<public_id>`` (every staff member reads; owners and issuers revoke).

Registering this blueprint makes the app's local resolver answer our status lists from the database too
(:func:`badgehub.issuing.resolver.platform_local_resolver`, chained after whatever resolver of our own
issuers was registered before): a credential issued here verifies on this platform without any HTTP request.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from badgehub.achievements.service import require_issuable
from badgehub.db import utcnow
from badgehub.errors import BadgeHubError, NotFound, ValidationError, error_response
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.errors import CredentialNotFound
from badgehub.issuing.models import IssuedCredential
from badgehub.issuing.notify import baked_image, natural_format
from badgehub.issuing.status_lists import get_status_list, served_status_list
from badgehub.keys.service import published_keys
from badgehub.mail import MailError
from badgehub.mails.awards import deliver_notification, issue_one
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.web.caching import public_document
from badgehub.web.credential_forms import AwardForm, RevokeForm
from badgehub.web.form_errors import place_errors
from badgehub.web.paging import page_count, page_number

log = logging.getLogger(__name__)

bp = Blueprint("credentials", __name__)

VC_MEDIA_TYPE: Final = "application/vc+ld+json"
PAGE_SIZE: Final = 50
STATE_FILTERS: Final = ("", *issuing.STATES)
# Service field names that the form calls otherwise (none today; kept like the other areas for clarity).
FORM_FIELDS: dict[str, str] = {}


def _machine_error(error: BadgeHubError) -> Response:
    response = jsonify({"error": {"code": error.code, "message": str(error.message), "details": error.details}})
    response.status_code = error.http_status
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _public(data: bytes, mimetype: str, *, etag: str | None = None) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["X-Robots-Tag"] = "noindex"
    return public_document(response, etag=etag)


@bp.get("/issuers/<slug>/status/<int:number>")
def status_list(slug: str, number: int) -> ResponseReturnValue:
    try:
        organisation = organisations.get_organisation_by_slug(slug)
    except NotFound as error:
        return _machine_error(error)
    found = get_status_list(organisation, number)
    if found is None:
        return _machine_error(NotFound(gettext("This issuer publishes no status list with this number.")))
    try:
        signed = served_status_list(found, published_keys(organisation), config=current_app.config)
    except BadgeHubError as error:  # no active key (between a compromise and the next rotation)
        return _machine_error(error)
    return _public(signed.text.encode("utf-8"), VC_MEDIA_TYPE, etag=signed.etag)


def _credential_or_error(public_id: str) -> IssuedCredential | Response:
    try:
        return issuing.get_credential(public_id)
    except CredentialNotFound as error:
        return _machine_error(error)


@bp.get("/c/<public_id>.json")
def credential_json(public_id: str) -> ResponseReturnValue:
    found = _credential_or_error(public_id)
    if isinstance(found, Response):
        return found
    return _public(found.document_json.encode("utf-8"), VC_MEDIA_TYPE)


@bp.get("/c/<public_id>.jwt")
def credential_jwt(public_id: str) -> ResponseReturnValue:
    found = _credential_or_error(public_id)
    if isinstance(found, Response):
        return found
    return _public(found.vc_jwt.encode("ascii"), "text/plain")


def _baked(public_id: str, fmt: str) -> ResponseReturnValue:
    try:
        credential = issuing.get_credential(public_id)
        baked = baked_image(credential, fmt)
    except BadgeHubError as error:
        response = error_response(error.http_status, error.code, error.message, error.details)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    response = _public(baked.data, baked.media_type)
    response.headers["Content-Disposition"] = f'inline; filename="badge-{credential.public_id}.{baked.extension}"'
    if fmt == "svg":
        # Even opened on its own, a badge image runs nothing and fetches nothing (the PNG inside is a data: URI).
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return response


@bp.get("/c/<public_id>.png")
def credential_png(public_id: str) -> ResponseReturnValue:
    return _baked(public_id, "png")


@bp.get("/c/<public_id>.svg")
def credential_svg(public_id: str) -> ResponseReturnValue:
    return _baked(public_id, "svg")


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _can_issue(member: OrganisationMember) -> bool:
    return member.role in organisations.BADGE_ISSUERS


def _award_page(organisation: Organisation, achievement: Any, form: AwardForm, *, status: int = 200,
                problem: Any = None) -> Response:
    return _render("issuing/award.html", status, organisation=organisation, achievement=achievement,
                   version=achievement.current_version, form=form, problem=problem,
                   standing=organisations.organisation_standing(organisation))


@bp.route("/organisations/<slug>/achievements/<public_id>/award", methods=["GET", "POST"])
@login_required
def award(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    achievement = issuing.get_achievement_for(organisation, public_id)
    require_issuable(achievement)
    form = AwardForm()
    form.offer_areas(issuing.issuing_areas(organisation))
    if request.method == "GET":
        form.ensure_idempotency_key()
        return _award_page(organisation, achievement, form)
    organisations.require_good_standing(organisation)
    if not form.validate_on_submit():
        return _award_page(organisation, achievement, form, status=400)
    try:
        # The e-mail is committed with the credential (the outbox), so a crash can neither lose nor repeat it.
        outcome, message = issue_one(
            organisation, achievement, issuing.AwardInput(
                recipient_email=form.recipient_email.data or "", recipient_name=form.recipient_name.data or "",
                evidence_url=form.evidence_url.data or None, narrative=form.narrative.data or None,
                activity_start=form.activity_start.data, activity_end=form.activity_end.data,
                area_id=form.area_id.data, result=form.result.data or None),
            idempotency_key=form.idempotency_key.data or None, actor_id=_actor().id, source="single",
            send_email=True, config=current_app.config)
    except ValidationError as error:
        db.session.rollback()
        return _award_page(organisation, achievement, form, status=error.http_status,
                           problem=place_errors(form, error, FORM_FIELDS))
    credential = outcome.credential
    if outcome.replayed:
        # The form was sent twice (a double click, a reload): the first sending awarded and mailed it.
        flash(gettext("This badge was already awarded to %(address)s with this form; no second e-mail was sent.",
                      address=credential.recipient_email), "info")
        return redirect(url_for("credentials.detail", slug=organisation.slug, public_id=credential.public_id))
    assert message is not None
    try:
        deliver_notification(message, current_app.config)
        flash(gettext("The badge is awarded to %(address)s, who has been sent an e-mail with it.",
                      address=credential.recipient_email), "success")
    except MailError:
        log.exception("could not send the e-mail of credential %s", credential.public_id)
        flash(gettext("The badge is awarded, but the e-mail could not be sent. Give the person the link below."),
              "error")
    return redirect(url_for("credentials.detail", slug=organisation.slug, public_id=credential.public_id))


@bp.get("/organisations/<slug>/credentials")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    search = (request.args.get("q") or "").strip()[:200]
    state = request.args.get("state", "")
    if state not in STATE_FILTERS:
        state = ""
    achievements = issuing.achievements_catalogue(organisation, include_archived=True)
    chosen = request.args.get("achievement", "")
    achievement = next((a for a in achievements if a.public_id == chosen), None)
    number = page_number()
    result = issuing.credentials_of(organisation, search=search, achievement_id=achievement.id if achievement else None,
                                    state=state or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = page_count(result.total, PAGE_SIZE)
    return _render("issuing/index.html", organisation=organisation, member=member, result=result,
                   search=search, state=state, achievements=achievements,
                   chosen=achievement.public_id if achievement else "", page=number, pages=pages,
                   now=utcnow(), is_owner=member.role == Role.OWNER,
                   standing=organisations.organisation_standing(organisation))


def _detail_page(organisation: Organisation, member: OrganisationMember, credential: IssuedCredential, *,
                 form: RevokeForm | None = None, status: int = 200, problem: Any = None) -> Response:
    config = current_app.config
    links = {suffix: issuing.credential_url(credential, config, suffix) for suffix in ("", ".json", ".jwt")}
    links["image"] = issuing.credential_url(credential, config, "." + natural_format(credential))
    return _render("issuing/detail.html", status, organisation=organisation, credential=credential,
                   version=credential.achievement_version, links=links, can_revoke=_can_issue(member),
                   form=form or RevokeForm(formdata=None), problem=problem, now=utcnow(),
                   standing=organisations.organisation_standing(organisation))


@bp.get("/organisations/<slug>/credentials/<public_id>")
@login_required
def detail(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    credential = issuing.get_credential_for(organisation, public_id)
    return _detail_page(organisation, member, credential)


@bp.post("/organisations/<slug>/credentials/<public_id>/revoke")
@login_required
def revoke(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    credential = issuing.get_credential_for(organisation, public_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _detail_page(organisation, member, credential, form=form, status=400)
    try:
        issuing.revoke_credential(credential, reason=form.reason.data or "", note=form.note.data,
                                  actor_id=_actor().id, config=current_app.config)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _detail_page(organisation, member, credential, form=form, status=error.http_status,
                            problem=place_errors(form, error, FORM_FIELDS))
    flash(gettext("The badge is revoked. Verifiers will see it within a few minutes."), "success")
    return redirect(url_for("credentials.detail", slug=organisation.slug, public_id=credential.public_id))
