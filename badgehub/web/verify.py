"""``/verify``: anyone checks any Open Badge (a file, pasted text or an address) and reads the report.

The form takes one badge (a JSON, JWT, PNG or SVG file; its text; or its address, fetched through
the platform's safe fetcher) and optionally the e-mail address it should have been issued to. The
answer is the report page: the verdict in plain words first, then who issued the badge, what it
means, its dates, and every step of the check. What cannot be read at all (not a badge format, too
large, an address that is refused or unreachable, a damaged file) goes back to the form with a
message and a 4xx status. Nothing submitted is stored.

POSTs are rate limited per client address (``RATELIMIT_VERIFY``, shared with the API) and carry the
form's CSRF token. The in-page QR scanner (``static/js/verify-scan.js``) only fills the address field
and submits this same form; the page works without JavaScript.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import EmailField, SubmitField, TextAreaField, URLField
from wtforms.validators import Length, Optional

from badgehub.events import verdict_of, verification_finished
from badgehub.extensions import verification_rate_limited
from badgehub.fields import MAX_EMAIL
from badgehub.issuing.live import verify_submitted
from badgehub.presenters.messages import submission_message
from badgehub.presenters.reports import present
from badgehub.verification.platform import (
    SubmissionRefused,
    max_submission_bytes,
    recipient_address,
)

bp = Blueprint("verify", __name__)


_TOO_LONG = _l("This is too long: at most %(max)s characters.")
# Phones must not capitalise or "correct" an address.
_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


class VerifyForm(FlaskForm):
    """One badge (file, address or text) and an optional e-mail address. Which one was given, and
    whether it can be read, is decided by :func:`badgehub.verification.platform.verify_submission`."""

    credential_file = FileField(
        _l("Upload the badge file"),
        render_kw={"accept": ".json,.jwt,.txt,.png,.svg,application/json,application/ld+json,image/png,"
                             "image/svg+xml,text/plain"},
    )
    credential_url = URLField(
        _l("Or give the badge's web address"),
        validators=[Optional(), Length(max=2048, message=_TOO_LONG)],
        render_kw={**_NO_AUTOCORRECT, "inputmode": "url", "placeholder": "https://"},
    )
    credential_text = TextAreaField(
        _l("Or paste the badge's text (JSON or JWT)"),
        render_kw={**_NO_AUTOCORRECT, "rows": 5},
    )
    email = EmailField(
        _l("E-mail address of the holder (optional)"),
        validators=[Optional(), Length(max=MAX_EMAIL, message=_TOO_LONG)],
        render_kw={**_NO_AUTOCORRECT, "inputmode": "email", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Check this badge"))


def submission_of(form: Any) -> tuple[str, bytes | str]:
    """What a badge form was given (its ``credential_file``, ``credential_url`` and ``credential_text`` fields:
    /verify and the wallet's import), as ``(kind, data)``; raises :class:`SubmissionRefused` for none or several."""
    given: list[tuple[str, bytes | str]] = []
    upload = form.credential_file.data
    if isinstance(upload, FileStorage) and (upload.filename or upload.mimetype != "application/octet-stream"):
        # Read one byte past the limit: enough to know it is too large, without holding more.
        content = upload.stream.read(max_submission_bytes(current_app.config) + 1)
        if content:
            given.append(("file", content))
    if (form.credential_url.data or "").strip():
        given.append(("url", form.credential_url.data.strip()))
    if (form.credential_text.data or "").strip():
        given.append(("text", form.credential_text.data))
    if not given:
        raise SubmissionRefused("empty_input")
    if len(given) > 1:
        raise SubmissionRefused("too_many_inputs")
    return given[0]


def _form_page(form: VerifyForm, problem: Any = None, status: int = 200) -> ResponseReturnValue:
    megabytes = max(1, max_submission_bytes(current_app.config) // (1024 * 1024))
    return render_template("verify/index.html", form=form, problem=problem, max_megabytes=megabytes), status


@bp.route("/verify", methods=["GET", "POST"])
@verification_rate_limited
def verify_page() -> ResponseReturnValue:
    form = VerifyForm()
    if request.method == "GET":
        return _form_page(form)
    if not form.validate_on_submit():
        return _form_page(form, status=400)
    try:
        known_email = recipient_address(form.email.data)
    except SubmissionRefused as refused:
        form.email.errors = [submission_message(refused.code)]
        return _form_page(form, status=400)
    try:
        kind, data = submission_of(form)
        report, standing = verify_submitted(current_app, data, kind=kind, now=datetime.now(UTC),
                                            known_email=known_email)
        verification_finished.send(verdict=verdict_of(report))
    except SubmissionRefused as refused:
        return _form_page(form, submission_message(refused.code, refused.params), refused.status)
    # The page repeats the address as the person typed it; the check itself used its normal form.
    checked_email = (form.email.data or "").strip() if known_email else None
    return render_template("verify/report.html", view=present(report), checked_email=checked_email,
                           standing=standing)
