"""Forms of the issuing pages. They parse and offer choices; the rules live in badgehub.issuing.service."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from badgehub.issuing.models import RevocationReason
from badgehub.issuing.service import MAX_NARRATIVE, MAX_REASON, MAX_RESULT, MAX_URL
from badgehub.territory.models import Area
from badgehub.web import labels

_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


def _area_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the SelectField refuses it


class AwardForm(FlaskForm):
    """Award an achievement to one person."""

    recipient_email = StringField(_l("E-mail address of the person"),
                                  validators=[InputRequired(_l("Give the person's e-mail address.")),
                                              Length(max=254, message=_l("At most %(max)d characters."))],
                                  render_kw={"type": "email", "autocomplete": "off", **_NO_AUTOCORRECT})
    recipient_name = StringField(_l("Their name (optional)"),
                                 validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))],
                                 render_kw={"autocomplete": "off"})
    evidence_url = URLField(_l("Evidence: a web address (optional)"),
                            validators=[Optional(), Length(max=MAX_URL, message=_l("At most %(max)d characters."))],
                            render_kw=_NO_AUTOCORRECT)
    narrative = TextAreaField(_l("Evidence: what the person did (optional)"),
                              validators=[Optional(),
                                          Length(max=MAX_NARRATIVE, message=_l("At most %(max)d characters."))],
                              render_kw={"rows": 4})
    activity_start = DateField(_l("Activity started on (optional)"), validators=[Optional()])
    activity_end = DateField(_l("Activity ended on (optional)"), validators=[Optional()])
    area_id = SelectField(_l("Where it happened (optional)"), coerce=_area_or_none, validate_choice=True)
    result = StringField(_l("Result (optional)"),
                         validators=[Optional(), Length(max=MAX_RESULT, message=_l("At most %(max)d characters."))])
    idempotency_key = HiddenField()
    submit = SubmitField(_l("Award the badge"))

    def offer_areas(self, areas: Sequence[Area]) -> None:
        """Offer the organisation's areas (named with their territory) after a "not said" choice."""
        choices: list[tuple[Any, str]] = [("", str(_l("Not said")))]
        choices += [(area.id, f"{area.name} — {area.territory.name}") for area in areas]
        self.area_id.choices = choices

    def ensure_idempotency_key(self) -> None:
        """A fresh key for a form shown for the first time: submitting it twice awards once."""
        if not self.idempotency_key.data:
            self.idempotency_key.data = secrets.token_urlsafe(18)


class RevokeForm(FlaskForm):
    """Revoke one credential: a public reason from the short list, and an optional private note."""

    reason = SelectField(_l("Reason shown on the badge's public page"),
                         validators=[InputRequired(_l("Choose the reason from the list."))])
    note = TextAreaField(_l("Private note (optional)"),
                         validators=[Optional(), Length(max=MAX_REASON, message=_l("At most %(max)d characters."))],
                         render_kw={"rows": 3})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice("", _l("Choose…")), *labels.choices(RevocationReason)]

    submit = SubmitField(_l("Revoke for good"))
