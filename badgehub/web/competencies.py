"""Competency pages: the public framework ``/competencies/<territory>`` and each competency's page
``/competencies/<territory>/<code>`` (HTML, or JSON-LD when asked: the ``targetUrl`` of OB alignments), and
the coordinators' pages under ``/coordinate/<territory>/competencies``.

Who may curate is decided in ``badgehub.competencies.service`` (``require_coordinator``), never here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from badgehub.competencies import csv_io, service
from badgehub.competencies.documents import competency_document, framework_document, france_competences_url
from badgehub.competencies.errors import ImportRejected
from badgehub.competencies.models import Competency
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.territory.models import Territory
from badgehub.territory.service import get_territory_by_slug, is_coordinator, require_coordinator
from badgehub.web.competency_forms import CompetencyForm, ConfirmForm, FrameworkForm, ImportForm
from badgehub.web.form_errors import place_errors

bp = Blueprint("competencies", __name__)

JSON_TYPES = ("application/ld+json", "application/json")
# Public documents may be cached a little: they change only when a coordinator edits the competency.
JSON_CACHE_CONTROL = "public, max-age=300"
QUERY_MAX = 200


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _query() -> str:
    return request.args.get("q", "", type=str)[:QUERY_MAX].strip()


def _json_type() -> str | None:
    """The JSON type the client prefers to HTML, if any (browsers get HTML, ``Accept: */*`` too)."""
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", *JSON_TYPES])
    if best in JSON_TYPES and accept[best] > accept["text/html"]:
        return best
    return None


def _json_response(document: dict[str, Any], json_type: str) -> Response:
    """A public JSON-LD document, cacheable for a while, revalidated by its ETag, readable from any site."""
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    response = Response(body, mimetype=json_type)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = JSON_CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    response.make_conditional(request)  # in place: a 304 when the ETag matches
    return response


@bp.get("/competencies/<slug>")
def framework(slug: str) -> ResponseReturnValue:
    territory = get_territory_by_slug(slug)
    json_type = _json_type()
    if json_type is not None:
        return _json_response(framework_document(territory, service.framework_of(territory),
                                                 service.competencies_of(territory), current_app.config), json_type)
    query = _query()
    return _render("competencies/framework.html", territory=territory, framework=service.framework_of(territory),
                   tree=service.framework_tree(territory), query=query,
                   results=service.search_competencies(territory, query) if query else None,
                   can_curate=is_coordinator(territory, current_user))


@bp.get("/competencies/<slug>/<code>")
def competency(slug: str, code: str) -> ResponseReturnValue:
    item = service.get_competency(slug, code)
    json_type = _json_type()
    if json_type is not None:
        return _json_response(competency_document(item, current_app.config), json_type)
    territory = item.framework.territory
    response = _render(
        "competencies/competency.html", territory=territory, competency=item, ancestors=service.ancestors(item),
        children=sorted((c for c in item.children if c.archived_at is None),
                        key=lambda c: service.code_sort_key(c.code)),
        url=service.competency_url(item, current_app.config),
        document=competency_document(item, current_app.config),
        rncp_url=france_competences_url(item.rncp_code) if item.rncp_code else None,
        can_curate=is_coordinator(territory, current_user))
    response.vary.add("Accept")
    return response


def _coordinated(slug: str) -> Territory:
    territory = get_territory_by_slug(slug)
    require_coordinator(territory, _actor())
    return territory


def _manage_page(territory: Territory, *, status: int = 200, framework_form: FrameworkForm | None = None,
                 import_form: ImportForm | None = None, import_error: ImportRejected | None = None) -> Response:
    framework = service.framework_of(territory)
    if framework_form is None:
        framework_form = FrameworkForm(formdata=None, data={
            "name": framework.name if framework else territory.name,
            "description": framework.description if framework else ""})
    query = _query()
    return _render("competencies/manage.html", status, territory=territory, framework=framework,
                   tree=service.framework_tree(territory, include_archived=True), query=query,
                   results=service.search_competencies(territory, query, include_archived=True) if query else None,
                   framework_form=framework_form, import_form=import_form or ImportForm(formdata=None),
                   confirm_form=ConfirmForm(formdata=None), import_error=import_error,
                   max_rows=csv_io.MAX_IMPORT_ROWS, max_megabytes=csv_io.MAX_IMPORT_BYTES // (1024 * 1024))


def _to_manage(territory: Territory) -> Response:
    return redirect(url_for("competencies.manage", slug=territory.slug))  # type: ignore[return-value]


@bp.get("/coordinate/<slug>/competencies")
@login_required
def manage(slug: str) -> ResponseReturnValue:
    return _manage_page(_coordinated(slug))


@bp.post("/coordinate/<slug>/competencies/framework")
@login_required
def edit_framework(slug: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    form = FrameworkForm()
    if not form.validate_on_submit():
        return _manage_page(territory, status=400, framework_form=form)
    try:
        service.update_framework(territory, _actor(), name=form.name.data or "",
                                 description=form.description.data or "")
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status != 400:
            raise
        db.session.rollback()
        place_errors(form, error)
        return _manage_page(territory, status=400, framework_form=form)
    flash(gettext("The framework is saved."), "success")
    return _to_manage(territory)


def _edit_page(territory: Territory, form: CompetencyForm, competency: Competency | None, *, status: int = 200,
               problem: Any = None) -> Response:
    form.offer_parents(service.parent_options(territory, competency))
    return _render("competencies/edit.html", status, territory=territory, form=form, competency=competency,
                   problem=problem)


@bp.route("/coordinate/<slug>/competencies/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    form = CompetencyForm()
    if request.method == "GET":
        form.parent_code.data = request.args.get("parent", "", type=str)
        return _edit_page(territory, form, None)
    if not form.validate_on_submit():
        return _edit_page(territory, form, None, status=400)
    try:
        created = service.create_competency(territory, _actor(), form.code.data or "", form.competency_fields())
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        problem = place_errors(form, error)
        return _edit_page(territory, form, None, status=error.http_status, problem=problem)
    flash(gettext("%(code)s is created.", code=created.code), "success")
    return _to_manage(territory)


@bp.route("/coordinate/<slug>/competencies/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, code: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    item = service.get_competency_in(territory, code)
    form = CompetencyForm()
    if request.method == "GET":
        form.fill(service.fields_of(item))
        return _edit_page(territory, form, item)
    if not form.validate_on_submit():
        return _edit_page(territory, form, item, status=400)
    try:
        service.update_competency(item, _actor(), form.competency_fields())
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        problem = place_errors(form, error)
        return _edit_page(territory, form, service.get_competency_in(territory, code), status=error.http_status,
                          problem=problem)
    flash(gettext("%(code)s is saved.", code=code), "success")
    return _to_manage(territory)


@bp.post("/coordinate/<slug>/competencies/<code>/archive")
@login_required
def archive(slug: str, code: str) -> ResponseReturnValue:
    return _change_state(slug, code, archive=True)


@bp.post("/coordinate/<slug>/competencies/<code>/restore")
@login_required
def restore(slug: str, code: str) -> ResponseReturnValue:
    return _change_state(slug, code, archive=False)


def _change_state(slug: str, code: str, *, archive: bool) -> Response:
    territory = _coordinated(slug)
    item = service.get_competency_in(territory, code)
    if not ConfirmForm().validate_on_submit():
        return _manage_page(territory, status=400)
    try:
        if archive:
            service.archive_competency(item, _actor())
        else:
            service.restore_competency(item, _actor())
        db.session.commit()
    except BadgeHubError as error:
        if error.http_status not in (400, 409):
            raise
        db.session.rollback()
        flash(gettext("%(code)s: %(message)s", code=code, message=error.message), "error")
        return _to_manage(territory)
    flash(gettext("%(code)s is archived.", code=code) if archive else gettext("%(code)s is restored.", code=code),
          "success")
    return _to_manage(territory)


@bp.post("/coordinate/<slug>/competencies/import")
@login_required
def import_file(slug: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    form = ImportForm()
    if not form.validate_on_submit():
        return _manage_page(territory, status=400, import_form=form)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [gettext("Choose a CSV file.")]
        return _manage_page(territory, status=400, import_form=form)
    # One byte more than the limit is enough to know the file is too large, without reading it all.
    data = upload.stream.read(csv_io.MAX_IMPORT_BYTES + 1)
    try:
        summary = csv_io.import_csv(territory, _actor(), data)
        db.session.commit()
    except ImportRejected as error:
        db.session.rollback()
        return _manage_page(territory, status=400, import_form=form, import_error=error)
    flash(gettext("Import done: %(created)s, %(updated)s, %(restored)s, %(unchanged)s.",
                  created=ngettext("%(num)d created", "%(num)d created", len(summary.created)),
                  updated=ngettext("%(num)d updated", "%(num)d updated", len(summary.updated)),
                  restored=ngettext("%(num)d restored", "%(num)d restored", len(summary.restored)),
                  unchanged=ngettext("%(num)d unchanged", "%(num)d unchanged", summary.unchanged)), "success")
    return _to_manage(territory)


@bp.get("/coordinate/<slug>/competencies/export.csv")
@login_required
def export(slug: str) -> ResponseReturnValue:
    territory = _coordinated(slug)
    separator = csv_io.EXPORT_SEPARATORS.get(request.args.get("separator", "comma", type=str), ",")
    data = csv_io.export_csv(territory, _actor(), separator=separator)
    db.session.commit()
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="competencies-{territory.slug}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
