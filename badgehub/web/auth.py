"""Registration, sign-in (password or e-mailed link), e-mail confirmation, password reset, the account page.

Views are thin: parse the form, call one service, commit, then send the e-mail, flash and redirect. E-mails
are rendered in their recipient's language and carry links built from ``BASE_URL``, never from the request's
``Host`` header. Requests that check a password or send an e-mail are rate limited with ``RATELIMIT_SIGNIN``,
per client address and per target address.

No account enumeration: every request for a link ("e-mail me a link", "I forgot my password", "send the
confirmation again") sends exactly one e-mail to the address typed (the link, or a notice that there is no
account for it) and answers with the same redirect and message, whether or not an account exists.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_fresh, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from badgehub.accounts import service as accounts
from badgehub.accounts import sessions
from badgehub.accounts.errors import (
    BadCredentials,
    EmailNotVerified,
    EmailTaken,
    InvalidEmail,
    InvalidLink,
    InvalidLocale,
    InvalidName,
    InvalidPassword,
    WrongPassword,
)
from badgehub.accounts.models import TokenPurpose, User
from badgehub.config import SUPPORTED_LOCALES
from badgehub.extensions import db, limiter
from badgehub.fields import email_key
from badgehub.mail import Mail, MailError
from badgehub.outbox.sender import send_now
from badgehub.web import sessions as web_sessions
from badgehub.web.auth_forms import (
    ChangePasswordForm,
    ConfirmEmailForm,
    EndDeviceForm,
    ForgotPasswordForm,
    LinkConfirmForm,
    LinkRequestForm,
    LocaleForm,
    NameForm,
    PasswordSignInForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
)
from badgehub.web.context import LANGUAGE_NAMES
from badgehub.web.main import safe_next

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def _signin_limit() -> str:
    return str(current_app.config["RATELIMIT_SIGNIN"])


def _target_address_key() -> str:
    # The bucket of the address a request is about. Hashed, so the limiter's storage (Redis in production)
    # holds no e-mail address.
    typed = request.form.get("email", "")
    return "address:" + hashlib.sha256(email_key(typed).encode("utf-8")).hexdigest()


def _rate_limited(view: View) -> View:
    """Limit the POSTs of ``view`` to RATELIMIT_SIGNIN per client address (for this page) and per target
    address (across every page that checks a password or sends a link), whichever runs out first."""
    per_target = limiter.shared_limit(_signin_limit, scope="auth-target-address", key_func=_target_address_key,
                                      methods=["POST"])
    per_client = limiter.limit(_signin_limit, methods=["POST"])
    return cast(View, per_client(per_target(view)))


def _current_locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _next_target() -> str:
    """This request's ``next`` when it is a path on this site, else ""."""
    return safe_next(request.values.get("next"), "")


def _absolute_url(endpoint: str, **values: Any) -> str:
    # From BASE_URL: the Host header is chosen by the client, and a link in an e-mail must not be.
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


def _link_minutes() -> int:
    return int(accounts.login_link_lifetime(current_app.config).total_seconds() // 60)


def _send_mail(to: str, locale: str | None, subject: Any, template: str, **context: Any) -> bool:
    """Render ``email/<template>.txt`` in ``locale`` (default: the page's) and send it.

    A failure is logged (never the message: it holds the link) and told to the person; returns whether
    the mail left.
    """
    try:
        with force_locale(locale or _current_locale()):
            mail = Mail(to=to, subject=str(subject), text=render_template(f"email/{template}.txt", **context))
        send_now(mail, config=current_app.config)
    except MailError:
        log.exception("could not send the %s e-mail", template)
        flash(gettext("We could not send the e-mail just now. Please try again in a few minutes."), "error")
        return False
    return True


def _send_no_account_notice(address: str) -> bool:
    return _send_mail(address, None, _l("No account with this address"), "auth_no_account",
                      register_url=_absolute_url("auth.register"), sign_in_url=_absolute_url("auth.sign_in"))


def _mail_sent_answer(address: str, sent: bool) -> ResponseReturnValue:
    """The one answer every link request gets, whatever the accounts."""
    if not sent:
        return redirect(url_for("auth.sign_in"))
    flash(gettext("We have sent an e-mail to %(address)s. Open it and follow the link it holds.", address=address),
          "success")
    return redirect(url_for("auth.check_mail"))


def start_session(user: User, *, remember: bool, fresh: bool = True) -> None:
    """Sign ``user`` in on a clean session, recorded as a device: nothing from before survives but the
    chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    web_sessions.start(user, remember=remember, user_agent=request.user_agent.string)
    db.session.commit()
    login_user(user, remember=False, fresh=fresh)


def _device_remembered() -> bool:
    device = web_sessions.current_device()
    return device is not None and device.remember_hash is not None


def _no_store(response: Response) -> Response:
    # Pages reached through a secret link: neither the browser nor a proxy should keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid_link(error: InvalidLink, retry_endpoint: str) -> Response:
    html = render_template("auth/link_invalid.html", message=error.message, code=error.code,
                           retry_url=url_for(retry_endpoint))
    return _no_store(Response(html, status=error.http_status, mimetype="text/html"))


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _no_store(Response(render_template(template, **context), status=status, mimetype="text/html"))


@bp.route("/register", methods=["GET", "POST"])
@_rate_limited
def register() -> ResponseReturnValue:
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        with_password = bool(form.password.data)
        try:
            issued = accounts.register(form.email.data or "", name=form.name.data or "", config=current_app.config,
                                       password=form.password.data or None, locale=_current_locale())
        except EmailTaken:
            # Same answer as a new address, so the page tells nobody who has an account; the owner is told.
            return _registration_answer(_registered_elsewhere(form.email.data or ""), with_password)
        except InvalidEmail as exc:
            form.email.errors.append(exc.message)
            status = exc.http_status
        except InvalidName as exc:
            form.name.errors.append(exc.message)
            status = exc.http_status
        except InvalidPassword as exc:
            form.password.errors.append(exc.message)
            status = exc.http_status
        else:
            db.session.commit()
            user = issued.user
            if issued.purpose is TokenPurpose.VERIFY_EMAIL:
                sent = _send_mail(user.email, user.locale, _l("Confirm your e-mail address"), "auth_verify_email",
                                  name=user.name, link=_absolute_url("auth.verify_email", token=issued.token),
                                  hours=int(accounts.VERIFY_EMAIL_LIFETIME.total_seconds() // 3600))
            else:
                sent = _send_mail(user.email, user.locale, _l("Welcome: confirm your address and sign in"),
                                  "auth_welcome", name=user.name, minutes=_link_minutes(),
                                  link=_absolute_url("auth.link_sign_in", token=issued.token),
                                  sign_in_url=_absolute_url("auth.sign_in"))
            return _registration_answer((user.email, sent), with_password)
    elif form.is_submitted():
        status = 400
    return render_template("auth/register.html", form=form, password_min=accounts.PASSWORD_MIN_LENGTH), status


def _registered_elsewhere(typed: str) -> tuple[str, bool]:
    """Tell the owner of ``typed`` that someone tried to register with it; returns (address, sent)."""
    address = accounts.normalise_email(typed)
    owner = accounts.owner_of_address(address)
    sent = _send_mail(address, owner.locale if owner is not None else None,
                      _l("Someone tried to create an account with your address"), "auth_register_existing",
                      name=owner.name if owner is not None else "", sign_in_url=_absolute_url("auth.sign_in"),
                      forgot_url=_absolute_url("auth.forgot_password"))
    return address, sent


def _registration_answer(outcome: tuple[str, bool], with_password: bool) -> ResponseReturnValue:
    address, sent = outcome
    if not sent:
        return redirect(url_for("auth.sign_in"))
    if with_password:
        message = gettext("Your account is created. We have sent a link to %(address)s: open it to "
                          "confirm your address, then sign in with your password.", address=address)
    else:
        message = gettext("Your account is created. We have sent a link to %(address)s: open it to "
                          "confirm your address and sign in.", address=address)
    flash(message, "success")
    return redirect(url_for("auth.check_mail"))


def _render_sign_in(*, form: PasswordSignInForm | None = None, link_form: LinkRequestForm | None = None,
                    problem: Any = None, resend_form: ResendVerificationForm | None = None,
                    status: int = 200) -> ResponseReturnValue:
    next_target = _next_target()
    return render_template(
        "auth/sign_in.html", form=form or PasswordSignInForm(formdata=None),
        link_form=link_form or LinkRequestForm(formdata=None, next=next_target),
        problem=problem, resend_form=resend_form, next=next_target or None), status


@bp.route("/sign-in", methods=["GET", "POST"])
@_rate_limited
def sign_in() -> ResponseReturnValue:
    form = PasswordSignInForm()
    if not form.validate_on_submit():
        return _render_sign_in(form=form, status=400 if form.is_submitted() else 200)
    try:
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
    except EmailNotVerified as exc:
        resend = ResendVerificationForm(formdata=None, email=form.email.data)
        return _render_sign_in(form=form, problem=exc.message, resend_form=resend, status=exc.http_status)
    except BadCredentials as exc:
        return _render_sign_in(form=form, problem=exc.message, status=exc.http_status)
    db.session.commit()
    start_session(user, remember=bool(form.remember.data))
    return redirect(_next_target() or url_for("home.index"))


@bp.post("/sign-in/link")
@_rate_limited
def request_link() -> ResponseReturnValue:
    form = LinkRequestForm()
    if not form.validate_on_submit():
        return _render_sign_in(link_form=form, status=400)
    try:
        answer = accounts.request_sign_in_link(form.email.data or "", config=current_app.config)
    except InvalidEmail as exc:
        form.email.errors.append(exc.message)
        return _render_sign_in(link_form=form, status=exc.http_status)
    db.session.commit()
    if answer.issued is None:
        sent = _send_no_account_notice(answer.address)
    else:
        user, next_target = answer.issued.user, safe_next(form.next.data, "")
        sent = _send_mail(answer.recipient or user.email, user.locale, _l("Your sign-in link"), "auth_sign_in_link",
                          name=user.name,
                          minutes=_link_minutes(),
                          link=_absolute_url("auth.link_sign_in", token=answer.issued.token, next=next_target or None))
    return _mail_sent_answer(answer.address, sent)


@bp.get("/sign-in/check-your-mail")
def check_mail() -> ResponseReturnValue:
    return render_template("auth/check_mail.html", minutes=_link_minutes())


@bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
def link_sign_in(token: str) -> ResponseReturnValue:
    # GET only shows a button: mail scanners that open links must not use them up.
    form = LinkConfirmForm()
    if form.validate_on_submit():
        try:
            result = accounts.sign_in_with_link(token)
        except InvalidLink as exc:
            return _invalid_link(exc, "auth.sign_in")
        db.session.commit()
        start_session(result.user, remember=bool(form.remember.data))
        if result.password_removed:
            flash(gettext("Your e-mail address is confirmed. The password chosen before that was removed, "
                          "for your safety: you can choose a new one below."), "success")
        elif result.verified_now:
            flash(gettext("Welcome! Your e-mail address is confirmed and you are signed in."), "success")
        else:
            flash(gettext("You are signed in."), "success")
        # After a removed password, the account page is where a new one is chosen ("below" in the message).
        landing = url_for("auth.account") if result.password_removed else url_for("home.index")
        return redirect(_next_target() or landing)
    try:
        user = accounts.check_link(token, TokenPurpose.SIGN_IN)
    except InvalidLink as exc:
        return _invalid_link(exc, "auth.sign_in")
    return _page("auth/link_confirm.html", form=form, email=user.email)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> ResponseReturnValue:
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            user = accounts.confirm_email(token)
        except InvalidLink as exc:
            return _invalid_link(exc, "auth.sign_in")
        db.session.commit()
        flash(gettext("Thank you: your e-mail address is confirmed."), "success")
        if current_user.is_authenticated and current_user.id == user.id:
            return redirect(url_for("auth.account"))
        flash(gettext("You can now sign in."), "info")
        return redirect(url_for("auth.sign_in"))
    try:
        user = accounts.check_link(token, TokenPurpose.VERIFY_EMAIL)
    except InvalidLink as exc:
        return _invalid_link(exc, "auth.sign_in")
    return _page("auth/verify_confirm.html", form=form, email=user.email)


@bp.post("/verify-email/resend")
@_rate_limited
def resend_verification() -> ResponseReturnValue:
    form = ResendVerificationForm()
    try:
        if not form.validate_on_submit():
            raise InvalidEmail()
        answer = accounts.request_email_verification(form.email.data or "")
    except InvalidEmail as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("auth.sign_in"))
    db.session.commit()
    user = answer.user
    if answer.issued is not None and user is not None:
        sent = _send_mail(user.email, user.locale, _l("Confirm your e-mail address"), "auth_verify_email",
                          name=user.name, link=_absolute_url("auth.verify_email", token=answer.issued.token),
                          hours=int(accounts.VERIFY_EMAIL_LIFETIME.total_seconds() // 3600))
    elif user is not None:
        sent = _send_mail(user.email, user.locale, _l("Your address is already confirmed"),
                          "auth_already_confirmed", name=user.name, sign_in_url=_absolute_url("auth.sign_in"),
                          forgot_url=_absolute_url("auth.forgot_password"))
    else:
        sent = _send_no_account_notice(answer.address)
    return _mail_sent_answer(answer.address, sent)


@bp.route("/password/forgot", methods=["GET", "POST"])
@_rate_limited
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 400 if form.is_submitted() else 200
    try:
        answer = accounts.request_password_reset(form.email.data or "", config=current_app.config)
    except InvalidEmail as exc:
        form.email.errors.append(exc.message)
        return render_template("auth/forgot.html", form=form), exc.http_status
    db.session.commit()
    if answer.issued is None:
        sent = _send_no_account_notice(answer.address)
    else:
        user = answer.issued.user
        sent = _send_mail(user.email, user.locale, _l("Choose a new password"), "auth_password_reset",
                          name=user.name, minutes=_link_minutes(),
                          link=_absolute_url("auth.reset_password", token=answer.issued.token))
    return _mail_sent_answer(answer.address, sent)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(token, form.password.data or "")
        except InvalidLink as exc:
            return _invalid_link(exc, "auth.forgot_password")
        except InvalidPassword as exc:
            form.password.errors.append(exc.message)
            status = exc.http_status
        else:
            db.session.commit()
            start_session(user, remember=False)
            flash(gettext("Your new password is saved and you are signed in. Every other session of your "
                          "account has been signed out."), "success")
            return redirect(url_for("auth.account"))
    elif form.is_submitted():
        status = 400
    try:
        user = accounts.check_link(token, TokenPurpose.RESET_PASSWORD)
    except InvalidLink as exc:
        return _invalid_link(exc, "auth.forgot_password")
    return _page("auth/reset.html", status, form=form, email=user.email, password_min=accounts.PASSWORD_MIN_LENGTH)


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    if current_user.is_authenticated:
        web_sessions.end()
        db.session.commit()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("main.home"))


def _locale_form(**kwargs: Any) -> LocaleForm:
    form = LocaleForm(**kwargs)
    form.locale.choices = [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]
    return form


def _render_account(status: int = 200, **forms: Any) -> Response:
    user = _user()
    context = {
        "name_form": NameForm(formdata=None, name=user.name),
        "locale_form": _locale_form(formdata=None, locale=user.locale or _current_locale()),
        "password_form": ChangePasswordForm(formdata=None),
        "sign_out_form": SignOutEverywhereForm(formdata=None),
        "devices": web_sessions.device_rows(sessions.user_sessions(user)),
        "end_device_form": EndDeviceForm(formdata=None),
    }
    context.update(forms)
    return _page("auth/account.html", status, user=user, password_min=accounts.PASSWORD_MIN_LENGTH, **context)


def _sign_in_again(user: User, remembered: bool) -> None:
    """Keep this device signed in (and remembered, if it was) after every session of ``user`` ended."""
    start_session(user, remember=remembered, fresh=login_fresh())


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return _render_account()


@bp.post("/account/name")
@login_required
def change_name() -> ResponseReturnValue:
    form = NameForm()
    if form.validate_on_submit():
        try:
            accounts.change_name(_user(), form.name.data or "")
        except InvalidName as exc:
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(gettext("Your name is saved."), "success")
            return redirect(url_for("auth.account"))
    return _render_account(400, name_form=form)


@bp.post("/account/language")
@login_required
def change_language() -> ResponseReturnValue:
    form = _locale_form()
    if form.validate_on_submit():
        try:
            accounts.change_locale(_user(), form.locale.data or "")
        except InvalidLocale as exc:
            form.locale.errors.append(exc.message)
        else:
            db.session.commit()
            session["locale"] = form.locale.data
            with force_locale(form.locale.data):
                flash(gettext("Your language is saved."), "success")
            return redirect(url_for("auth.account"))
    return _render_account(400, locale_form=form)


@bp.post("/account/password")
@login_required
def change_password() -> ResponseReturnValue:
    if not login_fresh():
        # A remembered session is not enough to change how the account is protected.
        flash(gettext("Please sign in again to change your password."), "info")
        return redirect(url_for("auth.sign_in", next=url_for("auth.account")))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user, remembered = _user(), _device_remembered()
        try:
            accounts.change_password(user, current_password=form.current_password.data,
                                     new_password=form.new_password.data or "")
        except WrongPassword as exc:
            form.current_password.errors.append(exc.message)
        except InvalidPassword as exc:
            form.new_password.errors.append(exc.message)
        else:
            db.session.commit()
            _sign_in_again(user, remembered)
            _send_mail(user.email, user.locale, _l("Your password was changed"), "auth_password_changed",
                       name=user.name, forgot_url=_absolute_url("auth.forgot_password"))
            flash(gettext("Your password is saved. Every other session of your account has been signed out."),
                  "success")
            return redirect(url_for("auth.account"))
    return _render_account(400, password_form=form)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    form = SignOutEverywhereForm()
    if form.validate_on_submit():
        user, remembered = _user(), _device_remembered()
        accounts.sign_out_everywhere(user)
        db.session.commit()
        _sign_in_again(user, remembered)
        flash(gettext("Every other session of your account has been signed out."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/devices/<int:device_id>/sign-out")
@login_required
def sign_out_device(device_id: int) -> ResponseReturnValue:
    form = EndDeviceForm()
    if not form.validate_on_submit():
        return _render_account(400)
    this_device = web_sessions.current_device()
    if this_device is not None and this_device.id == device_id:
        return sign_out()
    if not sessions.end_session_of(_user(), device_id):
        return _render_account(404)
    db.session.commit()
    flash(gettext("That device is signed out."), "success")
    return redirect(url_for("auth.account"))
