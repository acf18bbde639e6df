"""Accounts: e-mail identity, passwords, one-time links sent by e-mail, and the account's own settings.

Services take the session, flush, and never commit: the caller (view, CLI, test) commits once. They never
send mail either: a function that starts an e-mail flow returns the secret the message must carry, and the
caller sends it *after* committing, so a rolled-back transaction never leaves a working link in a mailbox.

The rules, written here and nowhere else:

- **Identity**: one account per address, whatever its case (:func:`badgehub.fields.email_key`).
- **Passwords are optional.** When given: :data:`PASSWORD_MIN_LENGTH` to :data:`PASSWORD_MAX_LENGTH`
  characters, counted after Unicode NFKC normalisation (so the same password typed on two keyboards is the
  same password), hashed with Werkzeug's default (scrypt). No composition rules: length is what counts.
- **One-time links**: ``secrets.token_urlsafe(32)`` (256 bits); only its SHA-256 is stored; each link works
  once. Sign-in and password-reset links live ``LOGIN_LINK_MINUTES`` (they open the account); e-mail
  confirmation links live :data:`VERIFY_EMAIL_LIFETIME` (they only prove the address).
- **Any link proves the address**: confirming it, signing in with a link or resetting the password all mark
  the account verified. Nobody signs in with a password before that.
- **Pre-hijacking**: a password chosen before the address was proven is dropped when a sign-in link proves it,
  since whoever chose it never showed they own the mailbox.
- **Password change or reset ends every other session** (``session_version`` is bumped) and voids the
  sign-in and reset links still waiting in the mailbox.
- **No account enumeration**: the ``request_*`` functions answer every well-formed address with a
  :class:`LinkRequest`; the caller sends exactly one e-mail to that address in every case (the link, or a
  notice saying there is no account) and shows the same page. Password sign-in compares against a dummy
  hash when there is no account, so that a miss costs the same time as a wrong password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from badgehub.accounts.errors import (
    BadCredentials,
    EmailNotVerified,
    EmailTaken,
    InvalidEmail,
    InvalidLink,
    InvalidLocale,
    InvalidName,
    LinkExpired,
    LinkUsed,
    PasswordTooLong,
    PasswordTooShort,
    WrongPassword,
)
from badgehub.accounts.models import EmailToken, TokenPurpose, User, WalletEmail
from badgehub.accounts.sessions import end_other_sessions
from badgehub.config import SUPPORTED_LOCALES
from badgehub.db import utcnow
from badgehub.extensions import db
from badgehub.fields import MAX_EMAIL, FieldError, email_address, email_key, person_name

PASSWORD_MIN_LENGTH = 10
# Generous enough for any passphrase or password manager, small enough to bound the hashing work.
PASSWORD_MAX_LENGTH = 128
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = MAX_EMAIL
VERIFY_EMAIL_LIFETIME = dt.timedelta(hours=48)
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not ours and is refused before hashing.
TOKEN_MAX_CHARS = 100
# Used and expired links are kept this long, so that a late click can be told "expired" or "already used"
# rather than "unknown"; older ones are purged whenever the same person gets a new link.
TOKEN_RETENTION = dt.timedelta(days=7)


@dataclass(frozen=True)
class IssuedToken:
    """A one-time link secret, just created for ``user``. ``token`` goes into the e-mail and nowhere else."""

    user: User
    token: str
    purpose: TokenPurpose
    expires_at: dt.datetime


@dataclass(frozen=True)
class LinkRequest:
    """The answer to "e-mail me a link": the address as normalised, its account if any, the link if any.

    ``issued`` is None when there is no account (or, for confirmation, when the address is already
    confirmed). The caller still sends one e-mail to ``address`` and shows the same page either way.
    """

    address: str
    user: User | None
    issued: IssuedToken | None
    recipient: str = ""  # where the link goes: the account's own spelling of the address (empty: ``address``)


@dataclass(frozen=True)
class LinkSignIn:
    """A successful sign-in by link: who, whether the link just proved the address, and whether a
    password set before that proof was dropped."""

    user: User
    verified_now: bool
    password_removed: bool


def get_user_by_email(email: str) -> User | None:
    """The account whose address is ``email`` in any case, or None."""
    if len(email) > EMAIL_MAX_LENGTH + 64:  # no such address can exist; spare the database the look-up
        return None
    return db.session.scalar(select(User).where(User.email_key == email_key(email)))


def load_user_for_session(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<session_version>"``; a bumped version signs every session out."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def normalise_email(email: str) -> str:
    """An account's address by the rule of :func:`badgehub.fields.email_address`; raises InvalidEmail."""
    try:
        return email_address(email)
    except FieldError as exc:
        raise InvalidEmail() from exc


def normalise_name(name: str, *, required: bool = True) -> str:
    """Return ``name`` with its white space collapsed; raises InvalidName when it is empty (and
    ``required``), longer than :data:`NAME_MAX_LENGTH`, or holds control or text-direction characters."""
    try:
        return person_name(name, NAME_MAX_LENGTH, required=required)
    except FieldError as exc:
        raise InvalidName() from exc


def _nfkc(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def validate_password(password: str) -> str:
    """Apply the password policy and return the password as it will be hashed (NFKC-normalised).

    Raises PasswordTooShort or PasswordTooLong (both InvalidPassword), with the bound in the message.
    """
    from flask_babel import lazy_gettext as _l

    normalised = _nfkc(password)
    if len(normalised) < PASSWORD_MIN_LENGTH:
        raise PasswordTooShort(_l("Choose a password of at least %(count)s characters.",
                                  count=PASSWORD_MIN_LENGTH))
    if len(normalised) > PASSWORD_MAX_LENGTH:
        raise PasswordTooLong(_l("Choose a password of at most %(count)s characters.",
                                 count=PASSWORD_MAX_LENGTH))
    return normalised


PASSWORD_HASH_METHOD = "scrypt:32768:8:1"  # noqa: S105 (a hashing method, not a password)
"""How new passwords are hashed: Werkzeug's scrypt at its default cost (n=2**15, r=8, p=1), about 0.1 s a hash.
The test suite lowers the cost for speed and checks this value once."""


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


@cache
def _dummy_hash() -> str:
    # Made with the same method and cost as real hashes, so checking against it takes as long.
    return _hash_password(secrets.token_urlsafe(16))


def _password_matches(user: User | None, password: str) -> bool:
    """Timing-safe: a missing account or password is checked against a dummy hash, never skipped."""
    candidate = _nfkc(password) if len(password) <= 4 * PASSWORD_MAX_LENGTH else ""
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = check_password_hash(stored or _dummy_hash(), candidate)
    return stored is not None and matches and bool(candidate)


def create_user(email: str, *, name: str = "", password: str | None = None, verified: bool = False,
                locale: str | None = None, is_admin: bool = False) -> User:
    """Create an account; raises InvalidEmail, InvalidName, InvalidPassword, InvalidLocale, or EmailTaken
    when the address is used in any case (also when a concurrent request took it first)."""
    address = normalise_email(email)
    clean_name = normalise_name(name, required=False)
    password_hash = _hash_password(validate_password(password)) if password else None
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidLocale()
    if get_user_by_email(address) is not None or extra_address_owner(address) is not None:
        raise EmailTaken()
    user = User(email=address, email_key=email_key(address), name=clean_name, locale=locale, is_admin=is_admin,
                password_hash=password_hash, verified_at=utcnow() if verified else None)
    try:
        # A savepoint, so that losing the race to the unique constraint leaves the caller's transaction usable.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as exc:
        raise EmailTaken() from exc
    return user


def register(email: str, *, name: str, config: Mapping[str, Any], password: str | None = None,
             locale: str | None = None, now: dt.datetime | None = None) -> IssuedToken:
    """Create an unconfirmed account and the link of its first e-mail.

    With a password, the link is an e-mail confirmation (:data:`VERIFY_EMAIL_LIFETIME`); without one it is a
    sign-in link, which confirms the address and signs in at once. Raises InvalidEmail, InvalidName (a name
    is required here), InvalidPassword, InvalidLocale or EmailTaken.
    """
    user = create_user(email, name=normalise_name(name, required=True), password=password or None, locale=locale)
    if user.password_hash is not None:
        return issue_email_verification(user, now=now)
    return issue_sign_in_link(user, config=config, now=now)


def login_link_lifetime(config: Mapping[str, Any]) -> dt.timedelta:
    """How long sign-in and password-reset links work: ``LOGIN_LINK_MINUTES`` of ``config`` (the app's)."""
    return dt.timedelta(minutes=int(config["LOGIN_LINK_MINUTES"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _issue(user: User, purpose: TokenPurpose, lifetime: dt.timedelta, now: dt.datetime | None) -> IssuedToken:
    now = now or utcnow()
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user.id,
                                                EmailToken.expires_at < now - TOKEN_RETENTION))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = EmailToken(user_id=user.id, purpose=purpose, token_hash=_digest(token), created_at=now,
                     expires_at=now + lifetime)
    db.session.add(row)
    db.session.flush()
    return IssuedToken(user=user, token=token, purpose=purpose, expires_at=row.expires_at)


def issue_sign_in_link(user: User, *, config: Mapping[str, Any], now: dt.datetime | None = None) -> IssuedToken:
    """A new one-time sign-in link for ``user`` (also used by the CLI and the demo to hand out links), valid
    :func:`login_link_lifetime` of ``config``."""
    return _issue(user, TokenPurpose.SIGN_IN, login_link_lifetime(config), now)


def issue_email_verification(user: User, *, now: dt.datetime | None = None) -> IssuedToken:
    """A new one-time link that confirms ``user``'s address."""
    return _issue(user, TokenPurpose.VERIFY_EMAIL, VERIFY_EMAIL_LIFETIME, now)


def issue_password_reset(user: User, *, config: Mapping[str, Any], now: dt.datetime | None = None) -> IssuedToken:
    """A new one-time link that lets ``user`` choose a new password, valid :func:`login_link_lifetime` of
    ``config``."""
    return _issue(user, TokenPurpose.RESET_PASSWORD, login_link_lifetime(config), now)


def _find(token: str, purpose: TokenPurpose) -> EmailToken:
    if not token or len(token) > TOKEN_MAX_CHARS:
        raise InvalidLink()
    digest = _digest(token)
    row = db.session.scalar(select(EmailToken).where(EmailToken.token_hash == digest))
    # The look-up is by digest, so the secret is never compared byte by byte; the final check is
    # constant-time all the same, and a link made for one purpose never serves another.
    if row is None or row.purpose != purpose or not hmac.compare_digest(row.token_hash, digest):
        raise InvalidLink()
    return row


def _usable(row: EmailToken, now: dt.datetime) -> EmailToken:
    if row.used_at is not None:
        raise LinkUsed()
    if row.expires_at <= now:
        raise LinkExpired()
    return row


def _consume(token: str, purpose: TokenPurpose, now: dt.datetime) -> User:
    row = _usable(_find(token, purpose), now)
    # Conditional update: of two requests racing with the same link, exactly one sees a row change.
    result = db.session.execute(
        update(EmailToken).where(EmailToken.id == row.id, EmailToken.used_at.is_(None)).values(used_at=now))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkUsed()
    db.session.flush()
    return row.user


def check_link(token: str, purpose: TokenPurpose, *, now: dt.datetime | None = None) -> User:
    """The account a one-time link belongs to, without using the link up (for the page that asks to confirm).

    Raises InvalidLink (unknown, or made for another purpose), LinkExpired or LinkUsed.
    """
    return _usable(_find(token, purpose), now or utcnow()).user


def sign_in_with_link(token: str, *, now: dt.datetime | None = None) -> LinkSignIn:
    """Use a sign-in link up and return who signed in. The link proves the address: an unconfirmed account
    becomes confirmed, and a password set before that proof is dropped (see the module's rules).

    Raises InvalidLink, LinkExpired or LinkUsed.
    """
    now = now or utcnow()
    user = _consume(token, TokenPurpose.SIGN_IN, now)
    verified_now = password_removed = False
    if user.verified_at is None:
        user.verified_at = now
        verified_now = True
        if user.password_hash is not None:
            user.password_hash = None
            password_removed = True
    user.last_signed_in_at = now
    db.session.flush()
    return LinkSignIn(user=user, verified_now=verified_now, password_removed=password_removed)


def confirm_email(token: str, *, now: dt.datetime | None = None) -> User:
    """Use an e-mail confirmation link up and mark its account verified. Raises InvalidLink, LinkExpired or
    LinkUsed."""
    now = now or utcnow()
    user = _consume(token, TokenPurpose.VERIFY_EMAIL, now)
    if user.verified_at is None:
        user.verified_at = now
    db.session.flush()
    return user


def authenticate(email: str, password: str, *, now: dt.datetime | None = None) -> User:
    """Sign in with a password; returns the user and records the time.

    Raises BadCredentials for an unknown address, an account without a password or a wrong password (one
    message, one timing for all three), and EmailNotVerified when the password is right but the address was
    never confirmed.
    """
    user = get_user_by_email(email)
    if not _password_matches(user, password) or user is None:
        raise BadCredentials()
    if not user.is_verified:
        raise EmailNotVerified()
    user.last_signed_in_at = now or utcnow()
    db.session.flush()
    return user


def _request(email: str) -> tuple[str, User | None]:
    address = normalise_email(email)
    return address, get_user_by_email(address)


def extra_address_owner(address: str) -> tuple[User, str] | None:
    """The account that verified ``address`` as one of its extra addresses, with the address as it was added
    (the matching rule is :func:`badgehub.fields.email_key`'s), or None. Verified extra addresses are the
    account's as much as its first one: nobody else may register with them, and they sign in too."""
    found = db.session.execute(select(User, WalletEmail.email).join(WalletEmail, WalletEmail.user_id == User.id)
                               .where(WalletEmail.verified_key == email_key(address or ""))).first()
    return (found[0], found[1]) if found is not None else None


def owner_of_address(email: str) -> User | None:
    """The account that owns ``email`` (its own address, or an extra address it verified), or None."""
    user = get_user_by_email(email)
    if user is None and (extra := extra_address_owner(email_key(email))) is not None:
        user = extra[0]
    return user


def request_sign_in_link(email: str, *, config: Mapping[str, Any], now: dt.datetime | None = None) -> LinkRequest:
    """Answer "e-mail me a sign-in link" for ``email``: a link when it is an account's address, or an extra
    address an account verified in its wallet (the link is then written to that address, as it was added).
    Raises InvalidEmail for a malformed address only (whatever the accounts)."""
    address, user = _request(email)
    recipient = user.email if user is not None else address
    if user is None and (extra := extra_address_owner(address)) is not None and extra[0].is_verified:
        # (Using a sign-in link confirms the account's own address: never from a link sent elsewhere.)
        user, recipient = extra
    issued = issue_sign_in_link(user, config=config, now=now) if user is not None else None
    return LinkRequest(address, user, issued, recipient)


def request_password_reset(email: str, *, config: Mapping[str, Any], now: dt.datetime | None = None) -> LinkRequest:
    """Answer "I forgot my password" for ``email``: a reset link when it has an account. Raises InvalidEmail
    for a malformed address only."""
    address, user = _request(email)
    return LinkRequest(address, user, issue_password_reset(user, config=config, now=now) if user is not None else None)


def request_email_verification(email: str, *, now: dt.datetime | None = None) -> LinkRequest:
    """Answer "send the confirmation again" for ``email``: a link when it has an unconfirmed account.
    Raises InvalidEmail for a malformed address only."""
    address, user = _request(email)
    issued = issue_email_verification(user, now=now) if user is not None and not user.is_verified else None
    return LinkRequest(address, user, issued)


def _void_open_links(user: User) -> None:
    db.session.execute(delete(EmailToken).where(
        EmailToken.user_id == user.id, EmailToken.used_at.is_(None),
        EmailToken.purpose.in_([TokenPurpose.SIGN_IN, TokenPurpose.RESET_PASSWORD])))


def sign_out_everywhere(user: User) -> None:
    """End every session of ``user``, remembered ones included, by bumping ``session_version``.

    Every device row goes too. A caller that wants to keep the current device signs it in again.
    """
    user.session_version = user.session_version + 1
    end_other_sessions(user)


def reset_password(token: str, new_password: str, *, now: dt.datetime | None = None) -> User:
    """Use a password-reset link up and set ``new_password``; the address counts as proven.

    Every other session ends and the other waiting sign-in and reset links stop working. A password that
    breaks the policy leaves the link usable. Raises InvalidLink, LinkExpired, LinkUsed or InvalidPassword.
    """
    now = now or utcnow()
    check_link(token, TokenPurpose.RESET_PASSWORD, now=now)
    password = validate_password(new_password)
    user = _consume(token, TokenPurpose.RESET_PASSWORD, now)
    user.password_hash = _hash_password(password)
    if user.verified_at is None:
        user.verified_at = now
    user.last_signed_in_at = now
    _void_open_links(user)
    sign_out_everywhere(user)
    return user


def change_password(user: User, *, current_password: str | None, new_password: str) -> None:
    """Set a new password from the account page. When the account has a password, ``current_password``
    must match it. Ends every other session and voids waiting sign-in and reset links.

    Raises WrongPassword or InvalidPassword.
    """
    if user.password_hash is not None and not _password_matches(user, current_password or ""):
        raise WrongPassword()
    user.password_hash = _hash_password(validate_password(new_password))
    _void_open_links(user)
    sign_out_everywhere(user)


def change_name(user: User, name: str) -> None:
    """Rename the account; raises InvalidName."""
    user.name = normalise_name(name, required=True)
    db.session.flush()


def change_locale(user: User, locale: str) -> None:
    """Set the language of the account's pages and e-mails; raises InvalidLocale."""
    if locale not in SUPPORTED_LOCALES:
        raise InvalidLocale()
    user.locale = locale
    db.session.flush()
