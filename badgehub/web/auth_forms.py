"""Forms of the registration, sign-in and account pages.

They check presence and size only. The rules (address syntax, password policy, what a name may hold) belong
to :mod:`badgehub.accounts.service`, so the web form, the API and the CLI cannot disagree; views put the
service's errors back on the fields. Every form carries Flask-WTF's CSRF token.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from badgehub.accounts.service import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH

# Generous: the service says precisely what is wrong; this only keeps absurd input away from it.
_TOO_LONG = _l("This is too long: at most %(max)s characters.")
_EMAIL_LENGTH = Length(max=EMAIL_MAX_LENGTH + 64, message=_TOO_LONG)
_PASSWORD_LENGTH = Length(max=4 * PASSWORD_MAX_LENGTH, message=_TOO_LONG)
_NAME_LENGTH = Length(max=NAME_MAX_LENGTH, message=_TOO_LONG)
# Phones must not capitalise or "correct" an address.
_EMAIL_INPUT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false", "inputmode": "email"}


def _email_field(field_id: str | None = None) -> EmailField:
    return EmailField(_l("E-mail address"), validators=[DataRequired(_l("Please give your e-mail address.")),
                                                         _EMAIL_LENGTH],
                      render_kw=_EMAIL_INPUT, id=field_id)


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please give your name.")),
                                                    _NAME_LENGTH])
    email = _email_field()
    password = PasswordField(_l("Password (optional)"), validators=[_PASSWORD_LENGTH])
    submit = SubmitField(_l("Create my account"))


class PasswordSignInForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Please give your password.")),
                                                         _PASSWORD_LENGTH])
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class LinkRequestForm(FlaskForm):
    """The "e-mail me a link" form, on the same page as the password form: its own field id."""

    email = _email_field("link-email")
    next = HiddenField()
    submit = SubmitField(_l("E-mail me a sign-in link"))


class LinkConfirmForm(FlaskForm):
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class ConfirmEmailForm(FlaskForm):
    submit = SubmitField(_l("Confirm my address"))


class ResendVerificationForm(FlaskForm):
    """Shown inside the sign-in page's error box: its own field id."""

    email = HiddenField(validators=[DataRequired(), _EMAIL_LENGTH], id="resend-email")
    submit = SubmitField(_l("Send me a new confirmation link"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()
    submit = SubmitField(_l("E-mail me a reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(_l("Please choose a password.")),
                                                             _PASSWORD_LENGTH])
    submit = SubmitField(_l("Save my new password"))


class NameForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Please give your name.")),
                                                    _NAME_LENGTH])
    submit = SubmitField(_l("Save my name"))


class LocaleForm(FlaskForm):
    # Choices are filled by the view from the supported languages; the service judges the value, with
    # its own translated message (WTForms' "Not a valid choice" is outside our catalogue).
    locale = SelectField(_l("Language of pages and e-mails"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save my language"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_PASSWORD_LENGTH])
    new_password = PasswordField(_l("New password"), validators=[InputRequired(_l("Please choose a password.")),
                                                                 _PASSWORD_LENGTH])
    submit = SubmitField(_l("Save my password"))


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Sign out on all other devices"))


class EndDeviceForm(FlaskForm):
    submit = SubmitField(_l("Sign out this device"))
