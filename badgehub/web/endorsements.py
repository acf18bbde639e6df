"""Endorsing, and managing endorsements made and received (HTML), plus the signed documents themselves.

* ``/achievements/<id>/endorse`` and ``/issuers/<slug>/endorse``: someone who may sign for an organisation (or
  for a territory) endorses another organisation's badge or the organisation itself;
* ``/organisations/<slug>/endorsements``: what the organisation received (show or decline each) and gave
  (withdraw); its staff see it, and a territory's coordinators for the territory's issuer;
* ``/coordinate/<slug>/endorsements``: a coordinator gives the territory its own issuer identity;
* ``/endorsements/<id>.json`` and ``.jwt``: the signed documents as issued (public, cacheable, any origin).

Every rule is :mod:`badgehub.endorsements.service`'s; views parse, call it, commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from badgehub.achievements.service import public_achievement
from badgehub.endorsements import service as endorsements
from badgehub.endorsements.models import Display, EndorsedKind
from badgehub.endorsements.personal_issuers import is_personal_issuer
from badgehub.endorsements.territory_issuers import (
    acts_for,
    endorsing_organisations,
    ensure_territory_issuer,
    territory_issuer_of,
)
from badgehub.errors import BadgeHubError, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember
from badgehub.territory import service as territories
from badgehub.web.caching import public_document

bp = Blueprint("endorsements", __name__)
VC_MEDIA_TYPE = "application/vc+ld+json"


class EndorseForm(FlaskForm):
    """Who endorses, what they vouch for, and an optional web address showing it."""

    endorser = SelectField(_l("Endorse in the name of"), validators=[InputRequired()])
    comment = TextAreaField(_l("What you vouch for"), validators=[
        InputRequired(_l("Say in a few words what you vouch for.")),
        Length(max=endorsements.MAX_COMMENT, message=_l("At most %(max)d characters."))])
    evidence_url = StringField(_l("Evidence (a web address, optional)"), validators=[Optional(), Length(max=500)],
                               render_kw={"inputmode": "url", "autocomplete": "url"})
    submit = SubmitField(_l("Sign the endorsement"))


class ActionForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def endorse_form(excluded: Organisation | None) -> tuple[EndorseForm, list[Organisation]]:
    """The form, its choices being the organisations the person may endorse for (but ``excluded``)."""
    choices = [o for o in endorsing_organisations(_actor()) if excluded is None or o.id != excluded.id]
    form = EndorseForm()
    form.endorser.choices = [(organisation.slug, organisation.name) for organisation in choices]
    return form, choices


def apply_errors(form: EndorseForm, error: BadgeHubError) -> Any:
    """Put a service error on the form's fields; what belongs to no field is returned, to show above it."""
    fields = error.details.get("fields") if isinstance(error, ValidationError) else None
    if not fields:
        return error.message
    for name, message in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [message]
    return None


def _chosen(form: EndorseForm, choices: list[Organisation]) -> Organisation:
    for organisation in choices:
        if organisation.slug == form.endorser.data:
            return organisation
    raise NotFound()


def _endorse(target: Any, endorsed: Organisation, template: str, back: str, **context: Any) -> ResponseReturnValue:
    form, choices = endorse_form(endorsed)
    problem = None
    status = 200
    if form.validate_on_submit():
        try:
            endorser = _chosen(form, choices)
            if isinstance(target, Organisation):
                endorsements.endorse_organisation(endorser, _actor(), target, comment=form.comment.data,
                                                  evidence_url=form.evidence_url.data, config=current_app.config)
            else:
                endorsements.endorse_achievement(endorser, _actor(), target, comment=form.comment.data,
                                                 evidence_url=form.evidence_url.data, config=current_app.config)
            db.session.commit()
        except BadgeHubError as error:
            db.session.rollback()
            problem, status = apply_errors(form, error), error.http_status
        else:
            flash(gettext("Your endorsement is signed and published."), "success")
            return redirect(back)
    elif request.method == "POST":
        status = 400
    return _render(template, status, form=form, choices=choices, problem=problem, back=back,
                   coordinated=_territories_without_issuer(), **context)


def _territories_without_issuer() -> list[Any]:
    return [t for t in territories.coordinated_territories(_actor()) if territory_issuer_of(t) is None]


@bp.route("/achievements/<public_id>/endorse", methods=["GET", "POST"])
@login_required
def endorse_achievement(public_id: str) -> ResponseReturnValue:
    achievement = public_achievement(public_id)
    back = url_for("achievements.public", public_id=public_id)
    return _endorse(achievement, achievement.organisation, "endorsements/endorse.html", back,
                    subject_name=achievement.current_version.name if achievement.current_version else "",
                    subject_owner=achievement.organisation)


@bp.route("/issuers/<slug>/endorse", methods=["GET", "POST"])
@login_required
def endorse_organisation(slug: str) -> ResponseReturnValue:
    organisation = organisations.get_organisation_by_slug(slug)
    if is_personal_issuer(organisation):  # a person endorsing in their own name is no organisation to endorse
        raise NotFound()
    back = url_for("issuers.profile", slug=slug)
    return _endorse(organisation, organisation, "endorsements/endorse.html", back, subject_name=organisation.name,
                    subject_owner=None)


def organisation_page(slug: str) -> tuple[Organisation, bool, OrganisationMember | None]:
    """The organisation of a staff page (its endorsements, its pathways), whether the person acts for it, and
    their staff membership; 404 for anyone who is neither staff nor acts for it."""
    organisation = organisations.get_organisation_by_slug(slug)
    actor = _actor()
    member = organisations.membership_of(organisation, actor)
    signs = acts_for(organisation, actor)
    if member is None and not signs:
        raise NotFound()
    return organisation, signs, member


@bp.get("/organisations/<slug>/endorsements")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, signs, member = organisation_page(slug)
    chooses = member is not None and member.role in organisations.BADGE_ISSUERS
    return _render("endorsements/index.html", organisation=organisation, signs=signs, chooses=chooses,
                   received=endorsements.received_by(organisation), given=endorsements.given_by(organisation),
                   is_member=member is not None, is_owner=member is not None and member.role.value == "owner",
                   form=ActionForm(formdata=None), Display=Display, EndorsedKind=EndorsedKind,
                   standing=organisations.organisation_standing(organisation))


@bp.post("/organisations/<slug>/endorsements/<public_id>/display")
@login_required
def display(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _signs, _member = organisation_page(slug)
    endorsement = endorsements.endorsement_for(organisation, public_id)
    if endorsement.endorsed_organisation_id != organisation.id or not ActionForm().validate_on_submit():
        raise NotFound()
    shown = request.form.get("shown") == "1"
    endorsements.set_display(endorsement, _actor(), shown=shown)
    db.session.commit()
    flash(gettext("The endorsement is shown on your public pages.") if shown
          else gettext("The endorsement is no longer shown on your public pages."), "success")
    return redirect(url_for("endorsements.index", slug=slug))


@bp.post("/organisations/<slug>/endorsements/<public_id>/withdraw")
@login_required
def withdraw(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _signs, _member = organisation_page(slug)
    endorsement = endorsements.endorsement_for(organisation, public_id)
    if endorsement.endorser_id != organisation.id or not ActionForm().validate_on_submit():
        raise NotFound()
    endorsements.withdraw(endorsement, _actor(), config=current_app.config)
    db.session.commit()
    flash(gettext("The endorsement is withdrawn: it no longer verifies."), "success")
    return redirect(url_for("endorsements.index", slug=slug))


@bp.route("/coordinate/<slug>/endorsements", methods=["GET", "POST"])
@login_required
def territory_issuer(slug: str) -> ResponseReturnValue:
    territory = territories.get_territory_by_slug(slug)
    territories.require_coordinator(territory, _actor())
    form = ActionForm()
    if form.validate_on_submit():
        issuer = ensure_territory_issuer(territory, _actor(), config=current_app.config)
        db.session.commit()
        flash(gettext("%(territory)s can now sign endorsements in its own name.", territory=territory.name),
              "success")
        return redirect(url_for("endorsements.index", slug=issuer.slug))
    existing = territory_issuer_of(territory)
    if existing is not None:
        return redirect(url_for("endorsements.index", slug=existing.slug))
    return _render("endorsements/territory.html", territory=territory, form=form)


def _document(body: str, mimetype: str) -> Response:
    if not body:  # blanked when its author, a person, erased their account
        raise NotFound()
    data = body.encode("utf-8")
    response = Response(data, mimetype=mimetype)
    response.headers["X-Robots-Tag"] = "noindex"
    return public_document(response, etag=hashlib.sha256(data).hexdigest())


@bp.get("/endorsements/<public_id>.json")
def document_json(public_id: str) -> ResponseReturnValue:
    return _document(endorsements.get_endorsement(public_id).document_json, VC_MEDIA_TYPE)


@bp.get("/endorsements/<public_id>.jwt")
def document_jwt(public_id: str) -> ResponseReturnValue:
    return _document(endorsements.get_endorsement(public_id).vc_jwt, "text/plain")
