"""Forms of the claim campaign pages. They parse and offer choices; the rules live in badgehub.claims.service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from badgehub.achievements.models import Achievement
from badgehub.claims.service import MAX_CAP, MAX_NOTES, MAX_TITLE

_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime typed in a form, read in the site's time zone (Flask-Babel's, which pages also display in)."""
    if value is None:
        return None
    zone: Any = get_timezone() or dt.UTC
    localize = getattr(zone, "localize", None)  # pytz zones need localize() to pick the right offset
    return localize(value) if localize is not None else value.replace(tzinfo=zone)


def local(value: dt.datetime) -> dt.datetime:
    """A stored (UTC) datetime as the form shows it: in the site's time zone, without seconds."""
    zone: Any = get_timezone() or dt.UTC
    return value.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


class CampaignForm(FlaskForm):
    """Create a claim campaign."""

    achievement = SelectField(_l("Badge"), validators=[InputRequired(_l("Choose the badge."))], validate_choice=True)
    title = StringField(_l("Name of the event (optional)"),
                        validators=[Optional(), Length(max=MAX_TITLE, message=_l("At most %(max)d characters."))])
    opens_at = DateTimeLocalField(_l("Opens on"), format=_FORMATS,
                                  validators=[InputRequired(_l("Say when the campaign opens."))])
    closes_at = DateTimeLocalField(_l("Closes on"), format=_FORMATS,
                                   validators=[InputRequired(_l("Say when the campaign ends."))])
    max_claims = IntegerField(_l("How many badges at most (optional)"),
                              validators=[Optional(), NumberRange(min=1, max=MAX_CAP, message=_l(
                                  "The cap is a whole number from 1 to %(max)s, or empty for no cap."))],
                              render_kw={"inputmode": "numeric", "min": 1})
    notes = TextAreaField(_l("Notes for the staff (optional)"),
                          validators=[Optional(), Length(max=MAX_NOTES, message=_l("At most %(max)d characters."))],
                          render_kw={"rows": 3})
    submit = SubmitField(_l("Create the campaign"))

    def offer_achievements(self, achievements: Sequence[Achievement]) -> None:
        self.achievement.choices = [("", str(_l("Choose a badge")))] + [
            (item.public_id, item.current_version.name if item.current_version else item.public_id)
            for item in achievements]


class CloseCampaignForm(FlaskForm):
    """Close a campaign before the end of its window."""

    submit = SubmitField(_l("Close the campaign now"))


class ClaimRequestForm(FlaskForm):
    """A participant asks for the badge."""

    email = StringField(_l("Your e-mail address"),
                        validators=[InputRequired(_l("Give your e-mail address.")),
                                    Length(max=254, message=_l("At most %(max)d characters."))],
                        render_kw={"type": "email", "autocomplete": "email", "inputmode": "email", **_NO_AUTOCORRECT})
    name = StringField(_l("Your name (optional)"),
                       validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))],
                       render_kw={"autocomplete": "name"})
    submit = SubmitField(_l("Send me the link"))


class ClaimConfirmForm(FlaskForm):
    """The button behind the e-mailed link: a GET shows it, only the POST claims."""

    submit = SubmitField(_l("Get my badge"))
