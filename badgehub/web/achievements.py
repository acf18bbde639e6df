"""Achievement pages: the staff's list, creation and editing; the public page, JSON-LD and images.

Views parse, call one service, commit, then flash and redirect or render. Who may do what is decided in
``badgehub.achievements.service`` (and ``badgehub.organisations.service``), never here.

Public URLs (contracts, written into signed credentials):

* ``/achievements/<public_id>``: HTML, or the OB 3.0 ``Achievement`` JSON-LD when ``Accept`` prefers
  ``application/ld+json`` or ``application/json`` (``Vary: Accept``).
* ``/achievements/<public_id>/v/<n>/image``: the image of version ``n``, the ``image.id`` of credentials.
  Once the version is locked it never changes: cached for a year, ``immutable``.
* ``/achievements/<public_id>/image``: the current image; revalidated on every use (strong ETag) since a new
  version can replace it.

SVG images are served with ``Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'``: even
opened on its own, a badge image can run nothing and fetch nothing.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from badgehub.achievements import images
from badgehub.achievements import service as achievements
from badgehub.achievements.errors import AchievementArchived, ImageRejected
from badgehub.achievements.models import Achievement, AchievementVersion
from badgehub.catalogue import themes
from badgehub.competencies.service import competency_url
from badgehub.credentials.documents import achievement_document, to_json
from badgehub.endorsements.service import documents_of, public_endorsements
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.pathways.service import pathways_with_steps
from badgehub.web.achievement_forms import (
    IMAGE_GENERATE,
    AchievementForm,
    ConfirmForm,
)
from badgehub.web.endorsement_views import endorsement_list
from badgehub.web.form_errors import place_errors

bp = Blueprint("achievements", __name__)

JSON_TYPES = ("application/ld+json", "application/json")
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
DOCUMENT_CACHE = "public, max-age=300"
LIST_FILTERS = {"active": False, "archived": True, "all": None}
# Service field names that the form calls otherwise.
FORM_FIELDS = {"image": "image_file"}


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _can_edit(member: OrganisationMember) -> bool:
    return member.role in organisations.BADGE_ISSUERS



@bp.get("/organisations/<slug>/achievements")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    shown = request.args.get("show", "active")
    if shown not in LIST_FILTERS:
        shown = "active"
    items = achievements.list_for_organisation(organisation, _actor(), archived=LIST_FILTERS[shown])
    return _render("achievements/index.html", organisation=organisation, member=member, items=items, shown=shown,
                   can_edit=_can_edit(member), is_owner=member.role == Role.OWNER,
                   can_award=member.role in organisations.BADGE_ISSUERS,
                   standing=organisations.organisation_standing(organisation))


def _form_page(template: str, organisation: Organisation, form: AchievementForm, *, status: int = 200,
               problem: Any = None, achievement: Achievement | None = None, preview: str | None = None) -> Response:
    return _render(template, status, organisation=organisation, form=form, problem=problem,
                   achievement=achievement, preview=preview,
                   choices=achievements.alignment_choices(organisation),
                   selected=set(form.competency_ids.data or []),
                   theme_choices=themes.theme_choices(organisation.id),
                   selected_themes=set(form.theme_ids.data or []),
                   standing=organisations.organisation_standing(organisation),
                   versions=achievements.versions_of(achievement) if achievement is not None else [],
                   confirm_form=ConfirmForm(formdata=None))


def _preview(form: AchievementForm) -> tuple[str | None, int]:
    """Draw the designed image for the preview button: ``(data: URI, status)``; errors go on the form."""
    form.image_mode.data = IMAGE_GENERATE
    try:
        drawn = images.generate(form.design())
    except ImageRejected as error:
        place_errors(form, error, FORM_FIELDS)
        return None, error.http_status
    return "data:image/png;base64," + base64.b64encode(drawn.data).decode("ascii"), 200


@bp.route("/organisations/<slug>/achievements/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    form = AchievementForm()
    if request.method == "GET":
        return _form_page("achievements/new.html", organisation, form)
    organisations.require_good_standing(organisation)
    if not form.validate_on_submit():
        return _form_page("achievements/new.html", organisation, form, status=400)
    if form.preview.data:
        preview, status = _preview(form)
        return _form_page("achievements/new.html", organisation, form, status=status, preview=preview)
    try:
        achievement = achievements.create_achievement(organisation, _actor(), form.fields(), form.image_choice())
        themes.set_achievement_themes(achievement, form.theme_ids.data or [], _actor())
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _form_page("achievements/new.html", organisation, form, status=error.http_status,
                          problem=place_errors(form, error, FORM_FIELDS))
    flash(gettext("The badge “%(name)s” is created.", name=form.name.data), "success")
    return redirect(url_for("achievements.edit", slug=organisation.slug, public_id=achievement.public_id))


@bp.route("/organisations/<slug>/achievements/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    achievement = achievements.get_for_organisation(organisation, _actor(), public_id)
    form = AchievementForm(editing=True)
    if request.method == "GET":
        assert achievement.current_version is not None
        form.fill(achievement.current_version)
        form.theme_ids.data = themes.theme_ids_of(achievement)
        return _form_page("achievements/edit.html", organisation, form, achievement=achievement)
    organisations.require_good_standing(organisation)
    if achievement.is_archived:
        raise AchievementArchived()
    if not form.validate_on_submit():
        return _form_page("achievements/edit.html", organisation, form, status=400, achievement=achievement)
    if form.preview.data:
        preview, status = _preview(form)
        return _form_page("achievements/edit.html", organisation, form, status=status, preview=preview,
                          achievement=achievement)
    try:
        before = achievement.current_version_id
        version = achievements.update_achievement(achievement, _actor(), form.fields(), form.image_choice())
        themes.set_achievement_themes(achievement, form.theme_ids.data or [], _actor())
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        return _form_page("achievements/edit.html", organisation, form, status=error.http_status,
                          problem=place_errors(form, error, FORM_FIELDS), achievement=achievement)
    if version.id != before:
        flash(gettext("Saved as version %(number)s. Badges already awarded keep the version they were issued with.",
                      number=version.number), "success")
    else:
        flash(gettext("The badge is saved."), "success")
    return redirect(url_for("achievements.edit", slug=organisation.slug, public_id=achievement.public_id))


@bp.post("/organisations/<slug>/achievements/<public_id>/archive")
@login_required
def archive(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    achievement = achievements.get_for_organisation(organisation, _actor(), public_id)
    if ConfirmForm().validate_on_submit():
        achievements.archive_achievement(achievement, _actor())
        db.session.commit()
        flash(gettext("The badge is archived: it can no longer be awarded. Its page stays online."), "success")
    return redirect(url_for("achievements.index", slug=organisation.slug))


@bp.post("/organisations/<slug>/achievements/<public_id>/unarchive")
@login_required
def unarchive(slug: str, public_id: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    achievement = achievements.get_for_organisation(organisation, _actor(), public_id)
    if ConfirmForm().validate_on_submit():
        achievements.unarchive_achievement(achievement, _actor())
        db.session.commit()
        flash(gettext("The badge is restored: it can be awarded again."), "success")
    return redirect(url_for("achievements.edit", slug=organisation.slug, public_id=achievement.public_id))



def _wanted_json() -> str | None:
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return best if best in JSON_TYPES else None


@bp.get("/achievements/<public_id>")
def public(public_id: str) -> ResponseReturnValue:
    achievement = achievements.public_achievement(public_id)
    version = achievement.current_version
    assert version is not None
    media_type = _wanted_json()
    if media_type is not None:
        # Endorsements are embedded as published: shown by the organisation and not withdrawn (issue 17).
        definition = replace(achievements.achievement_definition(version, current_app.config),
                             endorsements=documents_of(public_endorsements(achievement=achievement)))
        body = to_json(achievement_document(definition))
        response = Response(body, mimetype=media_type)
        response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest())
        response.headers["Cache-Control"] = DOCUMENT_CACHE
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = _render("achievements/public.html", achievement=achievement, version=version,
                           organisation=achievement.organisation,
                           competencies=[(c, competency_url(c, current_app.config)) for c in version.competencies],
                           image_url=url_for("achievements.version_image", public_id=public_id,
                                             number=version.number),
                           endorsements=endorsement_list(public_endorsements(achievement=achievement)),
                           pathways=pathways_with_steps({achievement.id}))
    response.vary.add("Accept")
    return response.make_conditional(request)


def _image_response(version: AchievementVersion, cache_control: str) -> Response:
    response = Response(version.image, mimetype=version.image_media_type)
    response.set_etag(version.image_sha256)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if version.image_media_type == images.SVG:
        response.headers["Content-Security-Policy"] = SVG_POLICY
    response.make_conditional(request)  # answers 304 in place when the ETag matches
    return response


@bp.get("/achievements/<public_id>/image")
def image(public_id: str) -> ResponseReturnValue:
    achievement = achievements.public_achievement(public_id)
    assert achievement.current_version is not None
    return _image_response(achievement.current_version, REVALIDATE)


@bp.get("/achievements/<public_id>/v/<int:number>/image")
def version_image(public_id: str, number: int) -> ResponseReturnValue:
    version = achievements.version_of(achievements.public_achievement(public_id), number)
    return _image_response(version, IMMUTABLE if version.is_locked else REVALIDATE)
