"""``/_styleguide``: every component of the design system on one page, for whoever changes the CSS.

Only when the app runs in debug mode (``flask --debug run``); a 404 otherwise. It is shown in the current
language: the language switcher of the page shows it in the other.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

bp = Blueprint("styleguide", __name__)


class SampleForm(FlaskForm):
    email = EmailField("E-mail")
    reason = SelectField("Reason", choices=[SelectChoice("", "…"), SelectChoice("a", "A"), SelectChoice("b", "B")])
    note = TextAreaField("Note")


@bp.get("/_styleguide")
def page() -> ResponseReturnValue:
    if not current_app.debug:
        abort(404)
    form = SampleForm(formdata=None)
    form.email.errors = ["—"]
    return render_template("main/styleguide.html", form=form, now=dt.datetime.now(dt.UTC))
