"""Forms of the wallet pages. They check presence and size; the rules live in the services of
:mod:`badgehub.wallet` and :mod:`badgehub.accounts.addresses`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, StringField, SubmitField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional

_TOO_LONG = _l("This is too long: at most %(max)s characters.")
_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


class AddressForm(FlaskForm):
    email = EmailField(_l("Another e-mail address of yours"),
                       validators=[DataRequired(_l("Please give the address.")), Length(max=320, message=_TOO_LONG)],
                       render_kw={**_NO_AUTOCORRECT, "inputmode": "email", "autocomplete": "email"})
    submit = SubmitField(_l("Add this address"))


class HolderDidForm(FlaskForm):
    holder_did = StringField(_l("Your DID (did:key)"), validators=[Length(max=600, message=_TOO_LONG)],
                             render_kw={**_NO_AUTOCORRECT, "placeholder": "did:key:z6Mk…"})
    submit = SubmitField(_l("Save the DID"))


class ButtonForm(FlaskForm):
    """A button that changes something: only the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class ShareForm(FlaskForm):
    title = StringField(_l("Title of the link"), validators=[Length(max=200, message=_TOO_LONG)],
                        render_kw={"placeholder": _l("For my job application")})
    expires_on = DateField(_l("Stops working after (optional)"), validators=[Optional()],
                           format="%Y-%m-%d")
    submit = SubmitField(_l("Make the link"))


class ImportForm(FlaskForm):
    credential_file = FileField(
        _l("Upload the badge file"),
        render_kw={"accept": ".json,.jwt,.txt,.png,.svg,application/json,application/ld+json,image/png,"
                             "image/svg+xml,text/plain"})
    credential_url = URLField(_l("Or give the badge's web address"),
                              validators=[Optional(), Length(max=2048, message=_TOO_LONG)],
                              render_kw={**_NO_AUTOCORRECT, "inputmode": "url", "placeholder": "https://"})
    credential_text = TextAreaField(_l("Or paste the badge's text (JSON or JWT)"),
                                    render_kw={**_NO_AUTOCORRECT, "rows": 5})
    submit = SubmitField(_l("Add to my wallet"))


class EraseForm(FlaskForm):
    email = EmailField(_l("Type the e-mail address of your account to confirm"),
                       validators=[DataRequired(_l("Type the e-mail address of your account to confirm.")),
                                   Length(max=320, message=_TOO_LONG)],
                       render_kw={**_NO_AUTOCORRECT, "inputmode": "email", "autocomplete": "off"})
    submit = SubmitField(_l("Erase my account for good"))
