"""Forms of the coordinators' pages. They parse; the rules live in territory.service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField

from badgehub.territory.service import Decision
from badgehub.web import labels


class DecisionForm(FlaskForm):
    """One membership's decision. Each decision is its own submit button named ``decision``."""

    decision = SelectField(_l("Decision"), choices=labels.choices(Decision))
    reason = TextAreaField(_l("Reason"))

    @staticmethod
    def prefix_for(membership_id: int) -> str:
        # One form per membership on the page: the prefix keeps their field ids apart.
        return f"m{membership_id}"
