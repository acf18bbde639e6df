"""Asking for recognition (HTML), the learner's side.

* ``/achievements/<id>/request``: ask the organisation for one of its badges (a self-declared one is received at
  once);
* ``/issuers/<slug>/request``: describe a learning in your own words and ask the organisation to recognise it;
* ``/recognition``: my requests; ``/recognition/<id>``: one of them, where the learner answers a question, adds
  evidence or withdraws it;
* ``/recognition/<id>/evidence/<evidence id>``: a file given as evidence, for the learner and the organisation's
  reviewers only (404 for anyone else), served so that no browser runs it.

Sending is limited per person (``RATELIMIT_RECOGNITION``) and per organisation
(``RATELIMIT_RECOGNITION_ORGANISATION``), on top of the service's caps. Every rule is
:mod:`badgehub.recognition.service`'s; views parse, call it, commit, then send the e-mails.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from limits import parse
from wtforms import StringField, SubmitField, TextAreaField

from badgehub.achievements.service import public_achievement
from badgehub.endorsements.personal_issuers import is_personal_issuer
from badgehub.errors import BadgeHubError, NotFound
from badgehub.extensions import db, hit_limit
from badgehub.mails.awards import deliver_notifications
from badgehub.mails.recognition import queue_outcome
from badgehub.organisations.models import Organisation
from badgehub.organisations.service import can_act, get_organisation_by_slug
from badgehub.recognition import queries
from badgehub.recognition import service as recognition
from badgehub.recognition.errors import EvidenceNotFound, TooManyRequests
from badgehub.recognition.evidence_files import MAX_FILE_BYTES, MAX_FILES, serving_headers
from badgehub.recognition.models import RequestStatus
from badgehub.recognition.service import Outcome, RequestInput, Upload
from badgehub.web.form_errors import place_errors

bp = Blueprint("recognition", __name__)

ACCEPTED_FILES = ".png,.jpg,.jpeg,.svg,.pdf,image/png,image/jpeg,image/svg+xml,application/pdf"


class RequestForm(FlaskForm):
    """A request: a title (only for a described learning), what happened, links and files."""

    title = StringField(_l("What you want recognised"), render_kw={"maxlength": recognition.MAX_TITLE})
    text = TextAreaField(_l("What you did"), render_kw={"rows": 6, "maxlength": recognition.MAX_DESCRIPTION})
    links = TextAreaField(_l("Links to evidence (optional, one per line)"),
                          render_kw={"rows": 3, "inputmode": "url", "autocomplete": "url"})
    files = MultipleFileField(_l("Files (optional)"), render_kw={"accept": ACCEPTED_FILES})
    submit = SubmitField(_l("Send the request"))


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("Your message"), render_kw={"rows": 5, "maxlength": recognition.MAX_MESSAGE})
    links = TextAreaField(_l("More links (optional, one per line)"), render_kw={"rows": 2, "inputmode": "url"})
    files = MultipleFileField(_l("More files (optional)"), render_kw={"accept": ACCEPTED_FILES})
    submit = SubmitField(_l("Send the answer"))


class ActionForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def files_help() -> str:
    return str(gettext("PNG, JPEG, SVG or PDF, at most %(size)s MB each and %(count)s in all. Photos lose their "
                       "location and camera data.", size=MAX_FILE_BYTES // (1024 * 1024), count=MAX_FILES))


def _input(form: RequestForm | AnswerForm) -> RequestInput:
    uploads = [Upload(storage.filename, storage.read()) for storage in request.files.getlist(form.files.name)
               if storage.filename]
    return RequestInput(text=form.text.data, title=getattr(form, "title", None) and form.title.data,
                        links=(form.links.data or "").splitlines(), files=uploads)


def check_rates(organisation: Organisation) -> None:
    """Count one sending for the person and one for ``organisation``; raise :class:`TooManyRequests` (429)
    beyond either limit."""
    config = current_app.config
    person = hit_limit(parse(str(config["RATELIMIT_RECOGNITION"])), "recognition-person", str(_actor().id))
    if person is not None:
        raise TooManyRequests(gettext("You have sent many requests in a short time. Try again in %(minutes)s "
                                      "minutes.", minutes=max(1, person // 60)))
    busy = hit_limit(parse(str(config["RATELIMIT_RECOGNITION_ORGANISATION"])), "recognition-organisation",
                     str(organisation.id))
    if busy is not None:
        raise TooManyRequests(gettext("%(organisation)s receives many requests just now. Try again in %(minutes)s "
                                      "minutes.", organisation=organisation.name, minutes=max(1, busy // 60)))


def send_mails(outcome: Outcome) -> None:
    """Queue the e-mails of ``outcome`` (the award's too) in the current transaction, commit, then deliver."""
    queued = queue_outcome(outcome, current_app.config)
    db.session.commit()
    deliver_notifications(queued, current_app.config)


def _ask(organisation: Organisation, template: str, achievement: Any = None, **context: Any) -> ResponseReturnValue:
    form = RequestForm()
    problem, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                check_rates(organisation)
                outcome = recognition.submit(_actor(), organisation, _input(form), achievement=achievement,
                                             locale=str(get_locale() or ""), settings=current_app.config)
                send_mails(outcome)
            except BadgeHubError as error:
                db.session.rollback()
                problem, status = place_errors(form, error, {"links": "links", "text": "text"}), error.http_status
            else:
                if outcome.request.status is RequestStatus.ACCEPTED:
                    flash(gettext("Done: the badge is in your wallet, and on its way to your mailbox."), "success")
                else:
                    flash(gettext("Your request is sent. %(organisation)s will answer by e-mail.",
                                  organisation=organisation.name), "success")
                return redirect(url_for("recognition.detail", public_id=outcome.request.public_id))
        else:
            status = 400
    return _render(template, status, form=form, problem=problem, organisation=organisation,
                   files_help=files_help(), **context)


@bp.route("/achievements/<public_id>/request", methods=["GET", "POST"])
@login_required
def request_badge(public_id: str) -> ResponseReturnValue:
    achievement = public_achievement(public_id)
    return _ask(achievement.organisation, "recognition/ask.html", achievement=achievement,
                version=achievement.current_version, self_declared=recognition.is_self_declared(achievement),
                requestable=recognition.requestable(achievement))


@bp.route("/issuers/<slug>/request", methods=["GET", "POST"])
@login_required
def request_learning(slug: str) -> ResponseReturnValue:
    organisation = get_organisation_by_slug(slug)
    if is_personal_issuer(organisation):  # a person endorsing in their own name reviews no requests
        raise NotFound()
    return _ask(organisation, "recognition/ask.html", version=None, self_declared=False,
                requestable=can_act(organisation))


@bp.get("/recognition")
@login_required
def mine() -> ResponseReturnValue:
    return _render("recognition/mine.html", requests=queries.requests_of(_actor()))


def _detail(public_id: str, form: AnswerForm | None = None, status: int = 200, problem: Any = None) -> Response:
    found = queries.request_for_learner(_actor(), public_id)
    return _render("recognition/detail.html", status, req=found, form=form or AnswerForm(formdata=None),
                   action=ActionForm(formdata=None), problem=problem, files_help=files_help(),
                   Status=RequestStatus)


@bp.route("/recognition/<public_id>", methods=["GET", "POST"])
@login_required
def detail(public_id: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _detail(public_id)
    found = queries.request_for_learner(_actor(), public_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _detail(public_id, form, 400)
    try:
        check_rates(found.organisation)
        outcome = recognition.answer(found, _actor(), _input(form), settings=current_app.config)
        send_mails(outcome)
    except BadgeHubError as error:
        db.session.rollback()
        return _detail(public_id, form, error.http_status, place_errors(form, error))
    flash(gettext("Your answer is sent. The request is back with %(organisation)s.",
                  organisation=found.organisation.name) if outcome.notices
          else gettext("Added to your request."), "success")
    return redirect(url_for("recognition.detail", public_id=public_id))


@bp.post("/recognition/<public_id>/withdraw")
@login_required
def withdraw(public_id: str) -> ResponseReturnValue:
    found = queries.request_for_learner(_actor(), public_id)
    if not ActionForm().validate_on_submit():
        return _detail(public_id, status=400)
    try:
        send_mails(recognition.withdraw(found, _actor()))
    except BadgeHubError as error:
        db.session.rollback()
        return _detail(public_id, status=error.http_status, problem=error.message)
    flash(gettext("Your request is withdrawn."), "success")
    return redirect(url_for("recognition.mine"))


@bp.get("/recognition/<public_id>/evidence/<evidence_id>")
@login_required
def evidence(public_id: str, evidence_id: str) -> ResponseReturnValue:
    return evidence_response(queries.evidence_for(_actor(), public_id, evidence_id))


def evidence_response(item: Any) -> Response:
    """A file of evidence as a response nobody's browser runs (see ``evidence_files.serving_headers``)."""
    if item.data is None or item.media_type is None:
        raise EvidenceNotFound()
    return Response(item.data, mimetype=item.media_type,
                    headers=serving_headers(item.media_type, item.filename or "evidence"))
