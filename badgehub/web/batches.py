"""Award a badge to a list of participants: upload or paste a CSV, check the preview, confirm, follow progress.

Pages of one organisation's staff (every staff member reads; owners and issuers upload, confirm, cancel and
retry; other organisations' batches are 404):

* ``/organisations/<slug>/batches``: the organisation's lists, newest first;
* ``/organisations/<slug>/batches/new`` (``?achievement=<public_id>``): upload or paste;
* ``/organisations/<slug>/batches/<id>``: the preview of a draft (every row with its problems, in words), then
  once confirmed the progress and what each row became, with links to the credentials;
* ``…/<id>/confirm``, ``…/<id>/cancel``, ``…/<id>/retry`` (POST, CSRF);
* ``…/<id>/progress.json``: counts polled by ``static/js/batch-progress.js``;
* ``…/<id>/results.csv``: the rows and their results (cells inert in spreadsheets);
* ``/organisations/<slug>/batches/template.csv``: a list to fill in.

A confirmed batch of at most ``BATCH_INLINE_ROWS`` rows to issue is issued during the confirmation request;
a larger one goes to the job queue (:mod:`badgehub.jobs`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from badgehub import jobs
from badgehub.audit.service import record
from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing import batches, csv_rows
from badgehub.issuing import service as issuing
from badgehub.issuing.models import BatchState, IssueBatch
from badgehub.jobs import tasks
from badgehub.organisations import service as organisations
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.web.batch_forms import BatchActionForm, BatchUploadForm
from badgehub.web.labels import failure_label
from badgehub.web.paging import page_count, page_number

log = logging.getLogger(__name__)

bp = Blueprint("batches", __name__)

PAGE_SIZE: Final = 200
CSV_MEDIA_TYPE: Final = "text/csv"  # Flask adds "; charset=utf-8" to text types itself


def _actor() -> Any:
    return current_user._get_current_object()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _can_issue(member: OrganisationMember) -> bool:
    return member.role in organisations.BADGE_ISSUERS


def _batch_or_404(slug: str, batch_id: int, *roles: Role) -> tuple[Organisation, OrganisationMember, IssueBatch]:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *roles)
    return organisation, member, batches.get_batch_for(organisation, batch_id)


@bp.get("/organisations/<slug>/batches")
@login_required
def index(slug: str) -> ResponseReturnValue:
    organisation, member = organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    return _render("batches/index.html", organisation=organisation, items=batches.batches_of(organisation),
                   can_issue=_can_issue(member), is_owner=member.role == Role.OWNER,
                   standing=organisations.organisation_standing(organisation))


@bp.get("/organisations/<slug>/batches/template.csv")
@login_required
def template(slug: str) -> ResponseReturnValue:
    organisations.get_organisation_for(slug, _actor(), *organisations.READERS)
    return _csv_download("\ufeff" + batches.template_csv(), "participants.csv")


def _csv_download(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype=CSV_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _new_page(organisation: Organisation, form: BatchUploadForm, *, status: int = 200,
              problem: Any = None) -> Response:
    limits = {"max_rows": current_app.config.get("CSV_MAX_ROWS") or csv_rows.MAX_ROWS,
              "max_mb": f"{(current_app.config.get('CSV_MAX_BYTES') or csv_rows.MAX_BYTES) / (1024 * 1024):g}"}
    return _render("batches/new.html", status, organisation=organisation, form=form, problem=problem,
                   limits=limits, standing=organisations.organisation_standing(organisation))


def _read_upload(form: BatchUploadForm) -> tuple[bytes | str | None, str]:
    """The uploaded file's bytes (read no further than the size cap allows) or the pasted text."""
    limit = int(current_app.config.get("CSV_MAX_BYTES") or csv_rows.MAX_BYTES)
    upload: Any = form.upload.data
    if upload is not None and upload.filename:
        # Some browsers send the whole path ("C:\\Users\\…\\list.csv"): keep the file's own name.
        name = str(upload.filename).replace("\\", "/").rsplit("/", 1)[-1]
        # One byte more than allowed is enough to know it is too large; the reader says so.
        return upload.stream.read(limit + 1), name
    text = form.pasted.data or ""
    return (text if text.strip() else None), ""


@bp.route("/organisations/<slug>/batches/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> ResponseReturnValue:
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    form = BatchUploadForm()
    form.offer(issuing.achievements_catalogue(organisation))
    if request.method == "GET":
        chosen = request.args.get("achievement", "")
        if any(value == chosen for value, _text in form.achievement.choices or []):
            form.achievement.data = chosen
        return _new_page(organisation, form)
    organisations.require_good_standing(organisation)
    if not form.validate_on_submit():
        return _new_page(organisation, form, status=400)
    source, filename = _read_upload(form)
    if source is None:
        return _new_page(organisation, form, status=400,
                         problem=gettext("Choose a CSV file, or paste the list of participants."))
    achievement = issuing.get_achievement_for(organisation, form.achievement.data or "")
    try:
        batch = batches.create_draft(organisation, achievement, source, filename=filename, actor_id=_actor().id,
                                     config=current_app.config)
        db.session.commit()
    except batches.CsvFileRefused as error:
        db.session.rollback()
        return _new_page(organisation, form, status=400, problem=str(error.message))
    return redirect(url_for("batches.detail", slug=organisation.slug, batch_id=batch.id))


@bp.get("/organisations/<slug>/achievements/<public_id>/award-list")
@login_required
def from_achievement(slug: str, public_id: str) -> ResponseReturnValue:
    """The achievement pages' "award from a list" link."""
    organisation, _member = organisations.get_organisation_for(slug, _actor(), *organisations.BADGE_ISSUERS)
    achievement = issuing.get_achievement_for(organisation, public_id)
    return redirect(url_for("batches.new", slug=organisation.slug, achievement=achievement.public_id))


@bp.get("/organisations/<slug>/batches/<int:batch_id>")
@login_required
def detail(slug: str, batch_id: int) -> ResponseReturnValue:
    organisation, member, batch = _batch_or_404(slug, batch_id, *organisations.READERS)
    show = request.args.get("show", "")
    if show not in batches.ROW_FILTERS:
        show = ""
    number = page_number(10_000)
    rows, total = batches.rows_of(batch, show=show or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    return _render("batches/detail.html", organisation=organisation, batch=batch, rows=rows, total=total,
                   show=show, page=number, pages=page_count(total, PAGE_SIZE), can_issue=_can_issue(member),
                   progress=batches.progress(batch), action_form=BatchActionForm(),
                   version=batch.achievement.current_version, problem_text=batches.problem_text,
                   column_label=batches.column_label, failure=failure_label, is_owner=member.role == Role.OWNER,
                   standing=organisations.organisation_standing(organisation))


@bp.get("/organisations/<slug>/batches/<int:batch_id>/progress.json")
@login_required
def progress(slug: str, batch_id: int) -> ResponseReturnValue:
    _organisation, _member, batch = _batch_or_404(slug, batch_id, *organisations.READERS)
    response = jsonify(batches.progress(batch))
    response.headers["Cache-Control"] = "no-store"
    return response


def _dispatch(batch: IssueBatch) -> None:
    """Issue a confirmed batch now when it is small, else hand it to the job queue."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    inline = int(app.config.get("BATCH_INLINE_ROWS") or batches.DEFAULT_INLINE_ROWS)
    if batches.pending_count(batch) > inline:
        jobs.enqueue(app, "batches.run", batch.id)
        return
    try:
        tasks.run_batch(batch.id)
    except Exception:
        # Rows issued so far are committed, the others still pending: the queue finishes the batch (the person
        # sees it progress) rather than the request failing.
        log.exception("batch %s could not be issued during the request; handed to the queue", batch.id)
        db.session.rollback()
        jobs.enqueue(app, "batches.run", batch.id)


@bp.post("/organisations/<slug>/batches/<int:batch_id>/confirm")
@login_required
def confirm(slug: str, batch_id: int) -> ResponseReturnValue:
    organisation, _member, batch = _batch_or_404(slug, batch_id, *organisations.BADGE_ISSUERS)
    form = BatchActionForm()
    if not form.validate_on_submit():
        flash(gettext("This form has expired. Please try again."), "error")
        return redirect(url_for("batches.detail", slug=organisation.slug, batch_id=batch.id))
    was_draft = batch.state is BatchState.DRAFT
    batch = batches.confirm(batch, actor_id=_actor().id)
    db.session.commit()
    if was_draft:
        _dispatch(batch)
        batch = batches.get_batch_for(organisation, batch_id)
        if batch.state is BatchState.DONE:
            flash(ngettext("%(num)s badge was awarded; the people were sent an e-mail.",
                           "%(num)s badges were awarded; the people were sent an e-mail.", batch.issued_count),
                  "success")
        else:
            flash(gettext("The badges are being awarded. This page shows the progress."), "success")
    return redirect(url_for("batches.detail", slug=organisation.slug, batch_id=batch.id))


@bp.post("/organisations/<slug>/batches/<int:batch_id>/cancel")
@login_required
def cancel(slug: str, batch_id: int) -> ResponseReturnValue:
    organisation, _member, batch = _batch_or_404(slug, batch_id, *organisations.BADGE_ISSUERS)
    if BatchActionForm().validate_on_submit():
        batches.cancel(batch, actor_id=_actor().id)
        db.session.commit()
        flash(gettext("The list was cancelled; nothing was awarded."), "success")
    return redirect(url_for("batches.index", slug=organisation.slug))


@bp.post("/organisations/<slug>/batches/<int:batch_id>/retry")
@login_required
def retry(slug: str, batch_id: int) -> ResponseReturnValue:
    organisation, _member, batch = _batch_or_404(slug, batch_id, *organisations.BADGE_ISSUERS)
    if BatchActionForm().validate_on_submit():
        moved = batches.retry_failed(batch, actor_id=_actor().id)
        db.session.commit()
        if batch.state is BatchState.QUEUED:
            _dispatch(batch)
        flash(ngettext("%(num)s row is being tried again.", "%(num)s rows are being tried again.", moved),
              "success")
    return redirect(url_for("batches.detail", slug=organisation.slug, batch_id=batch.id))


@bp.get("/organisations/<slug>/batches/<int:batch_id>/results.csv")
@login_required
def export(slug: str, batch_id: int) -> ResponseReturnValue:
    organisation, _member, batch = _batch_or_404(slug, batch_id, *organisations.READERS)
    config = current_app.config
    text = batches.export_csv(batch, credential_url=lambda c: issuing.credential_url(c, config))
    record("batch.exported", actor_id=_actor().id, organisation_id=organisation.id, subject_type="batch",
           subject_id=batch.id, details={"rows": batch.total_rows})
    db.session.commit()
    return _csv_download("\ufeff" + text, f"batch-{batch.id}-results.csv")


@bp.errorhandler(BadgeHubError)
def _domain_error(error: BadgeHubError) -> ResponseReturnValue:
    # The app-wide handler renders it; the session is rolled back first so nothing half-done is kept.
    db.session.rollback()
    from badgehub.errors import error_response

    return error_response(error.http_status, error.code, error.message, error.details)
