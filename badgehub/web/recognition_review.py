"""Reviewing recognition requests (HTML), the organisation's side.

* ``/organisations/<slug>/requests``: the queue (to review, waiting for the learner, decided), and the badges
  learners may ask for: mark one self-declared, or make the peer-recognition badge in one click;
* ``/organisations/<slug>/requests/<id>``: one request with its evidence and conversation; accept (award),
  ask for more, decline with a reason;
* ``/coordinate/<slug>/peer-badge``: a coordinator makes the peer-recognition badge in the territory's name;
  ``/coordinate/<slug>/requests`` leads to the queue of the territory's issuer.

Reviewers are the organisation's owners and issuers (and a territory's coordinators for its issuer); its viewers
read the queue and the requests without deciding; everyone else gets 404. Every rule is
:mod:`badgehub.recognition`'s; views parse, call it, commit, then send the e-mails.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField

from badgehub.achievements.service import active_badges
from badgehub.endorsements.territory_issuers import ensure_territory_issuer, territory_issuer_of
from badgehub.errors import BadgeHubError, NotFound
from badgehub.extensions import db
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation
from badgehub.recognition import badges, queries
from badgehub.recognition import service as recognition
from badgehub.recognition.models import OPEN_STATUSES, RecognitionRequest, RequestStatus
from badgehub.territory import service as territories
from badgehub.web.form_errors import place_errors
from badgehub.web.paging import page_count, page_number
from badgehub.web.recognition import ActionForm, send_mails

bp = Blueprint("recognition_review", __name__)

VIEWS = {"open": (RequestStatus.SUBMITTED,), "waiting": (RequestStatus.MORE_ASKED,),
         "decided": (RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.WITHDRAWN)}
# Decided requests pile up for ever: they are shown by pages, most recent first. The open ones are capped by the
# service (MAX_OPEN_PER_ORGANISATION), so they fit on one page.
DECIDED_PAGE = 100


class AcceptForm(FlaskForm):
    achievement = SelectField(_l("Badge to award"))
    submit = SubmitField(_l("Accept and award the badge"))


class AskForm(FlaskForm):
    question = TextAreaField(_l("Your question to the learner"), render_kw={"rows": 3,
                                                                           "maxlength": recognition.MAX_MESSAGE})
    submit = SubmitField(_l("Ask for more"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason, told to the learner"), render_kw={"rows": 3,
                                                                         "maxlength": recognition.MAX_MESSAGE})
    submit = SubmitField(_l("Decline"))


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _organisation(slug: str, *, deciding: bool = False) -> Organisation:
    """The organisation, for its staff (its reviewers when ``deciding``); 404 for anyone else."""
    organisation = organisations.get_organisation_by_slug(slug)
    allowed = queries.can_review if deciding else queries.can_read
    if not allowed(organisation, _actor()):
        raise NotFound()
    return organisation


def _nav_context(organisation: Organisation) -> dict[str, Any]:
    member = organisations.membership_of(organisation, _actor())
    return {"is_member": member is not None, "is_owner": member is not None and member.role.value == "owner",
            "decides": queries.can_review(organisation, _actor()),
            # Changing a badge is the achievements service's: its owners and issuers (not every coordinator).
            "edits_badges": member is not None and member.role in organisations.BADGE_ISSUERS,
            "standing": organisations.organisation_standing(organisation)}


@bp.get("/organisations/<slug>/requests")
@login_required
def queue(slug: str) -> ResponseReturnValue:
    organisation = _organisation(slug)
    view = request.args.get("view", "open")
    if view not in VIEWS:
        view = "open"
    number, pages = 1, 1
    if view == "decided":
        number = page_number()
        pages = page_count(queries.queue_count(organisation, VIEWS[view]), DECIDED_PAGE)
        found = queries.queue_of(organisation, VIEWS[view], limit=DECIDED_PAGE,
                                 offset=(min(number, pages) - 1) * DECIDED_PAGE)
    else:
        found = queries.queue_of(organisation, VIEWS[view])
    active = active_badges(organisation)
    return _render("recognition/queue.html", organisation=organisation, view=view, requests=found,
                   page=min(number, pages), pages=pages, badges=active,
                   self_declared=recognition.is_self_declared, peer_badge=badges.peer_badge_among(active),
                   form=ActionForm(formdata=None), Status=RequestStatus, **_nav_context(organisation))


def _review_page(organisation: Organisation, found: RecognitionRequest, status: int = 200, *,
                 accept: AcceptForm | None = None, ask: AskForm | None = None, decline: DeclineForm | None = None,
                 problem: Any = None) -> Response:
    accept = accept or AcceptForm(formdata=None)
    accept.achievement.choices = [(a.public_id, a.current_version.name if a.current_version else a.public_id)
                                  for a in active_badges(organisation)]
    return _render("recognition/review.html", status, organisation=organisation, req=found, accept=accept,
                   ask=ask or AskForm(formdata=None), decline=decline or DeclineForm(formdata=None),
                   problem=problem, Status=RequestStatus, is_open=found.status in OPEN_STATUSES,
                   **_nav_context(organisation))


@bp.get("/organisations/<slug>/requests/<public_id>")
@login_required
def review(slug: str, public_id: str) -> ResponseReturnValue:
    organisation = _organisation(slug)
    return _review_page(organisation, queries.request_for_reviewer(organisation, _actor(), public_id))


def _decided(slug: str, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("recognition_review.queue", slug=slug))


@bp.post("/organisations/<slug>/requests/<public_id>/accept")
@login_required
def accept(slug: str, public_id: str) -> ResponseReturnValue:
    organisation = _organisation(slug, deciding=True)
    found = queries.request_for_reviewer(organisation, _actor(), public_id)
    choices = active_badges(organisation)
    form = AcceptForm()
    form.achievement.choices = [(a.public_id, a.public_id) for a in choices]
    # A request for a badge names it: only the CSRF token is checked; a described learning needs the choice.
    valid = ActionForm().validate_on_submit() if found.achievement is not None else form.validate_on_submit()
    if not valid:
        return _review_page(organisation, found, 400, accept=form)
    chosen = next((a for a in choices if a.public_id == form.achievement.data), None)
    try:
        outcome = recognition.accept(found, _actor(), achievement=chosen, settings=current_app.config)
        send_mails(outcome)
    except BadgeHubError as error:
        db.session.rollback()
        return _review_page(organisation, found, error.http_status, accept=form, problem=place_errors(form, error))
    return _decided(slug, gettext("Accepted: %(name)s receives the badge by e-mail and in their wallet.",
                                  name=found.requester.name or found.requester.email))


@bp.post("/organisations/<slug>/requests/<public_id>/ask")
@login_required
def ask(slug: str, public_id: str) -> ResponseReturnValue:
    organisation = _organisation(slug, deciding=True)
    found = queries.request_for_reviewer(organisation, _actor(), public_id)
    form = AskForm()
    if not form.validate_on_submit():
        return _review_page(organisation, found, 400, ask=form)
    try:
        send_mails(recognition.ask_more(found, _actor(), form.question.data, settings=current_app.config))
    except BadgeHubError as error:
        db.session.rollback()
        return _review_page(organisation, found, error.http_status, ask=form,
                            problem=place_errors(form, error, {"message": "question"}))
    return _decided(slug, gettext("Your question is sent. The request waits for the learner's answer."))


@bp.post("/organisations/<slug>/requests/<public_id>/decline")
@login_required
def decline(slug: str, public_id: str) -> ResponseReturnValue:
    organisation = _organisation(slug, deciding=True)
    found = queries.request_for_reviewer(organisation, _actor(), public_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _review_page(organisation, found, 400, decline=form)
    try:
        send_mails(recognition.decline(found, _actor(), form.reason.data, settings=current_app.config))
    except BadgeHubError as error:
        db.session.rollback()
        return _review_page(organisation, found, error.http_status, decline=form,
                            problem=place_errors(form, error, {"message": "reason"}))
    return _decided(slug, gettext("Declined: the learner is told your reason."))


@bp.post("/organisations/<slug>/recognition/self-declared/<public_id>")
@login_required
def self_declared(slug: str, public_id: str) -> ResponseReturnValue:
    organisation = _organisation(slug, deciding=True)
    achievement = next((a for a in active_badges(organisation) if a.public_id == public_id), None)
    if achievement is None or not ActionForm().validate_on_submit():  # archived meanwhile, or not theirs
        raise NotFound()
    declared = request.form.get("declared") == "1"
    badges.set_self_declared(achievement, _actor(), declared)
    db.session.commit()
    name = achievement.current_version.name if achievement.current_version else ""
    flash(gettext("“%(name)s” is now self-declared: learners receive it at once, with their evidence.", name=name)
          if declared else gettext("“%(name)s” is assessed again: requests wait for your decision.", name=name),
          "success")
    return redirect(url_for("recognition_review.queue", slug=slug) + "#badges-title")


@bp.post("/organisations/<slug>/recognition/peer-badge")
@login_required
def peer_badge(slug: str) -> ResponseReturnValue:
    organisation = _organisation(slug, deciding=True)
    if not ActionForm().validate_on_submit():
        raise NotFound()
    made, created = badges.create_peer_badge(organisation, _actor(), str(get_locale() or "en"))
    db.session.commit()
    if created:
        flash(gettext("The badge “Recognised by peers” is ready: learners can ask for it from its page."), "success")
    return redirect(url_for("achievements.public", public_id=made.public_id))


@bp.post("/coordinate/<slug>/peer-badge")
@login_required
def territory_peer_badge(slug: str) -> ResponseReturnValue:
    territory = territories.get_territory_by_slug(slug)
    territories.require_coordinator(territory, _actor())
    if not ActionForm().validate_on_submit():
        raise NotFound()
    issuer = ensure_territory_issuer(territory, _actor(), config=current_app.config)
    made, created = badges.create_peer_badge(issuer, _actor(), str(get_locale() or territory.default_locale))
    db.session.commit()
    if created:
        flash(gettext("The badge “Recognised by peers” is ready: learners can ask for it from its page."), "success")
    return redirect(url_for("achievements.public", public_id=made.public_id))


@bp.get("/coordinate/<slug>/requests")
@login_required
def territory_queue(slug: str) -> ResponseReturnValue:
    territory = territories.get_territory_by_slug(slug)
    territories.require_coordinator(territory, _actor())
    issuer = territory_issuer_of(territory)
    if issuer is None:
        flash(gettext("%(territory)s receives requests once it has its own badge: create the peer-recognition "
                      "badge first.", territory=territory.name), "error")
        return redirect(url_for("territories.coordinate_territory", slug=slug) + "#peer-title")
    return redirect(url_for("recognition_review.queue", slug=issuer.slug))
