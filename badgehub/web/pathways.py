"""Pathways (HTML): defining them, their public pages, and the territory's list.

* ``/organisations/<slug>/pathways``: the organisation's pathways, for its staff; those who sign for it (owners,
  issuers, and a territory's coordinators for the territory's issuer) create, edit, publish and archive them;
* ``/coordinate/<slug>/pathways``: a coordinator gives the territory its signing identity if needed, then
  defines the territory's pathways with it;
* ``/pathways/<id>``: a pathway's public page: its steps and where to earn each, and, for a signed-in learner,
  how far they are;
* ``/t/<slug>/pathways``: the published pathways of a territory and of its members.

Every rule is :mod:`badgehub.pathways.service`'s; views parse, call it, commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField, SubmitField, TextAreaField

from badgehub.accounts.addresses import verified_keys
from badgehub.endorsements.territory_issuers import (
    ensure_territory_issuer,
    territory_issuer_of,
    territory_of_issuer,
)
from badgehub.errors import BadgeHubError, NotFound
from badgehub.extensions import db
from badgehub.jobs import enqueue
from badgehub.organisations.models import Organisation
from badgehub.pathways import service as pathways
from badgehub.pathways.errors import PathwayNotEditable
from badgehub.pathways.models import Pathway, PathwayStatus
from badgehub.pathways.progress import pathway_progress
from badgehub.territory import service as territories
from badgehub.web.achievement_forms import language_choices
from badgehub.web.endorsements import organisation_page

bp = Blueprint("pathways", __name__)
EXTRA_STEPS = 2


class PathwayForm(FlaskForm):
    """What a pathway says and leads to; its groups are read from the request (see :func:`_groups_from`)."""

    name = StringField(_l("Name of the pathway"))
    description = TextAreaField(_l("Description"))
    in_language = SelectField(_l("Language of the name and description"), default="fr")
    achievement = SelectField(_l("Badge awarded on completion"))
    qualification_name = StringField(_l("Qualification or job it leads to (optional)"))
    qualification_uri = StringField(_l("Reference of the qualification (RNCP, ESCO… address, optional)"),
                                    render_kw={"inputmode": "url"})
    job_profile = TextAreaField(_l("Job profile (optional)"))
    submit = SubmitField(_l("Save"))


class ActionForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


@dataclass
class GroupSlot:
    """One group as the form shows it: what was typed, padded with empty steps, and its errors."""

    index: int
    title: str = ""
    ordered: bool = False
    min_count: str = ""
    steps: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _groups_from(data: MultiDict[str, str]) -> tuple[pathways.GroupInput, ...]:
    """The groups of a posted form (``groups-<n>-…``), empty ones left out."""
    found = []
    for index in range(pathways.MAX_GROUPS + 1):
        prefix = f"groups-{index}-"
        if f"{prefix}present" not in data:
            break
        group = pathways.GroupInput(
            title=data.get(f"{prefix}title", ""), ordered=data.get(f"{prefix}ordered") == "1",
            min_count=data.get(f"{prefix}min_count", ""),
            achievements=tuple(a for a in data.getlist(f"{prefix}achievements") if a.strip()))
        if group.title.strip() or group.achievements:
            found.append(group)
    return tuple(found)


def _slots(groups: tuple[pathways.GroupInput, ...], errors: dict[str, Any]) -> list[GroupSlot]:
    slots = []
    for index, group in enumerate((*groups, pathways.GroupInput())[:pathways.MAX_GROUPS]):
        steps = list(group.achievements)
        steps += [""] * max(EXTRA_STEPS, 3 - len(steps))
        mine = {key.rsplit("-", 1)[1]: str(message) for key, message in errors.items()
                if key.startswith(f"groups-{index}-")}
        minimum = "" if group.min_count is None else str(group.min_count)
        slots.append(GroupSlot(index, group.title, group.ordered, minimum, steps[:pathways.MAX_STEPS], mine))
    return slots


def _form_page(organisation: Organisation, form: PathwayForm, groups: tuple[pathways.GroupInput, ...], *,
               pathway: Pathway | None, errors: dict[str, Any] | None = None, problem: str | None = None,
               status: int = 200) -> Response:
    return _render("pathways/form.html", status, organisation=organisation, form=form, pathway=pathway,
                   slots=_slots(groups, errors or {}), choices=pathways.step_choices(organisation),
                   group_problem=str((errors or {}).get("groups", "")) or None, problem=problem,
                   max_steps=pathways.MAX_STEPS)


def _prepared(organisation: Organisation, form: PathwayForm) -> PathwayForm:
    form.in_language.choices = language_choices(form.in_language.data)
    badges = pathways.owner_badges(organisation)
    form.achievement.choices = [("", gettext("None: the pathway leads to a qualification only"))] + [
        (a.public_id, a.current_version.name) for a in badges if a.current_version is not None]
    return form


def _fields(form: PathwayForm, groups: tuple[pathways.GroupInput, ...]) -> pathways.PathwayFields:
    return pathways.PathwayFields(
        name=form.name.data or "", description=form.description.data or "", in_language=form.in_language.data or "",
        achievement=form.achievement.data or None, qualification_uri=form.qualification_uri.data or None,
        qualification_name=form.qualification_name.data or "", job_profile=form.job_profile.data or "",
        groups=groups)


def _save(organisation: Organisation, pathway: Pathway | None) -> ResponseReturnValue:
    form = _prepared(organisation, PathwayForm())
    groups = _groups_from(request.form) if request.method == "POST" else ()
    if pathway is not None and request.method == "GET":
        values = pathways.fields_of(pathway)
        form = _prepared(organisation, PathwayForm(data={
            "name": values.name, "description": values.description, "in_language": values.in_language,
            "achievement": values.achievement, "qualification_uri": values.qualification_uri,
            "qualification_name": values.qualification_name, "job_profile": values.job_profile}))
        groups = values.groups
    if request.method != "POST":
        return _form_page(organisation, form, groups, pathway=pathway)
    if not form.validate_on_submit():
        return _form_page(organisation, form, groups, pathway=pathway, status=400)
    try:
        if pathway is None:
            pathway = pathways.create_pathway(organisation, _actor(), _fields(form, groups))
        else:
            pathways.update_pathway(pathway, _actor(), _fields(form, groups))
        db.session.commit()
    except BadgeHubError as error:
        db.session.rollback()
        errors = dict(error.details.get("fields") or {})
        for name, message in errors.items():
            if name in form:
                form[name].errors = [str(message)]
        problem = gettext("Please correct the fields marked below.") if errors else str(error.message)
        return _form_page(organisation, form, groups, pathway=pathway, errors=errors, problem=problem,
                          status=error.http_status)
    flash(gettext("The pathway is saved."), "success")
    return redirect(url_for("pathways.index", slug=organisation.slug))


@bp.get("/organisations/<slug>/pathways")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, signs, member = organisation_page(slug)
    listed = pathways.pathways_of(organisation)
    return _render("pathways/index.html", organisation=organisation, signs=signs, is_member=member is not None,
                   is_owner=member is not None and member.role.value == "owner", pathways=listed,
                   owed=pathways.owed_badges(listed), form=ActionForm(formdata=None),
                   Status=PathwayStatus, territory=territory_of_issuer(organisation))


@bp.route("/organisations/<slug>/pathways/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    organisation, signs, _member = organisation_page(slug)
    if not signs:
        raise NotFound()
    return _save(organisation, None)


@bp.route("/organisations/<slug>/pathways/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, signs, _member = organisation_page(slug)
    pathway = pathways.pathway_for(organisation, public_id)
    if not signs:
        raise NotFound()
    if pathway.status is PathwayStatus.ARCHIVED:
        raise PathwayNotEditable()
    return _save(organisation, pathway)


@bp.post("/organisations/<slug>/pathways/<public_id>/status")
@login_required
def change_status(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _signs, _member = organisation_page(slug)
    pathway = pathways.pathway_for(organisation, public_id)
    if not ActionForm().validate_on_submit():
        raise NotFound()
    pathways.set_status(pathway, _actor(), request.form.get("status", ""))
    db.session.commit()
    if pathway.status is PathwayStatus.PUBLISHED:  # those who completed it already (or wait for it) get its badge
        enqueue(current_app._get_current_object(), "pathways.award_completed", pathway.id)  # type: ignore[attr-defined]
    flash(gettext("The pathway is published: learners see it and its badge is awarded on completion.")
          if pathway.status is PathwayStatus.PUBLISHED else gettext("The pathway is archived."), "success")
    return redirect(url_for("pathways.index", slug=slug))


@bp.route("/coordinate/<slug>/pathways", methods=["GET", "POST"])
@login_required
def territory_pathways(slug: str) -> ResponseReturnValue:
    territory = territories.get_territory_by_slug(slug)
    territories.require_coordinator(territory, _actor())
    existing = territory_issuer_of(territory)
    if existing is not None:
        return redirect(url_for("pathways.index", slug=existing.slug))
    form = ActionForm()
    if form.validate_on_submit():
        issuer = ensure_territory_issuer(territory, _actor(), config=current_app.config)
        db.session.commit()
        return redirect(url_for("pathways.index", slug=issuer.slug))
    return _render("pathways/coordinate.html", territory=territory, form=form)


@bp.get("/pathways/<public_id>")
def public(public_id: str) -> ResponseReturnValue:
    actor = _actor()
    pathway = pathways.visible_pathway(public_id, actor)
    progress = None
    if getattr(actor, "is_authenticated", False):
        keys = verified_keys(actor)
        progress = pathway_progress(pathway, pathways.held_by(keys))
        completion = pathways.completion_of(pathway, keys) if keys else None
    else:
        progress, completion = pathway_progress(pathway, {}), None
    return _render("pathways/public.html", pathway=pathway, progress=progress, completion=completion,
                   signed_in=getattr(actor, "is_authenticated", False), Status=PathwayStatus)


@bp.get("/t/<slug>/pathways")
def territory_list(slug: str) -> ResponseReturnValue:
    territory = territories.get_territory_by_slug(slug)
    return _render("pathways/territory.html", territory=territory,
                   pathways=pathways.territory_pathways(territory.id))
