"""Forms of the theme, catalogue and skills-demand pages. They parse; the rules live in badgehub.territory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField


class ThemeForm(FlaskForm):
    """A local theme's name and description (a UNESCO theme's name is fixed: only its description is used)."""

    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description (optional)"))
    submit = SubmitField(_l("Add the theme"))

    @staticmethod
    def prefix_for(theme_id: int) -> str:
        # One edit form per theme on the page: the prefix keeps their field ids apart.
        return f"t{theme_id}"


class ButtonForm(FlaskForm):
    """A button that only needs the CSRF token (add the UNESCO themes, move, delete, withdraw)."""


class DemandForm(FlaskForm):
    """A competency the organisation looks for, with an optional note."""

    # Checked by the service (with a message that says why), not against the offered list.
    competency_id = SelectField(_l("Competency"), validate_choice=False)
    note = TextAreaField(_l("Note (optional)"))
    submit = SubmitField(_l("Declare"))
