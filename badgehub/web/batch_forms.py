"""Forms of the CSV batch pages. They parse and offer choices; the rules live in badgehub.issuing.batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from badgehub.achievements.models import Achievement


class BatchUploadForm(FlaskForm):
    """Choose an achievement, then upload a CSV file or paste the list."""

    achievement = SelectField(_l("Badge to award"), validators=[InputRequired(_l("Choose a badge."))],
                              validate_choice=True)
    upload = FileField(_l("CSV file"), render_kw={"accept": ".csv,.txt,text/csv,text/plain"})
    pasted = TextAreaField(_l("Or paste the list"), render_kw={"rows": 8, "spellcheck": "false"})
    submit = SubmitField(_l("Check the list"))

    def offer(self, achievements: Sequence[Achievement]) -> None:
        choices: list[tuple[Any, str]] = [("", str(_l("Choose a badge")))]
        choices += [(a.public_id, a.current_version.name if a.current_version else a.public_id)
                    for a in achievements]
        self.achievement.choices = choices


class BatchActionForm(FlaskForm):
    """A button on a batch (confirm, cancel, retry): only the CSRF token."""
