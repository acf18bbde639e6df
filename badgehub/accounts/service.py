"""Accounts: the rules for e-mail identity and the loading of a signed-in user.

Services take the session, flush, and never commit: the caller (view, CLI, test) commits once.
"""

from __future__ import annotations

from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.extensions import db


def email_key(email: str) -> str:
    """The uniqueness key of an account e-mail: surrounding spaces removed, the whole address lower-cased.

    Lower-casing the local part is not RFC 5321 strictness, but no mail provider our users meet treats
    ``Ana@x.org`` and ``ana@x.org`` as two people, and two accounts for one person is the worse failure.
    This is the one place the rule is written.
    """
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
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
    """Validate an e-mail address's syntax (no DNS look-up) and return it trimmed; raises InvalidEmail."""
    from email_validator import EmailNotValidError, validate_email

    from badgehub.accounts.errors import InvalidEmail

    candidate = email.strip()
    if len(candidate) > 254:
        raise InvalidEmail()
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail() from exc


def create_user(email: str, *, name: str = "", password: str | None = None, verified: bool = False,
                locale: str | None = None, is_admin: bool = False) -> User:
    """Create an account; raises InvalidEmail, or EmailTaken when the address is used in any case."""
    from werkzeug.security import generate_password_hash

    from badgehub.accounts.errors import EmailTaken
    from badgehub.db import utcnow

    address = normalise_email(email)
    if get_user_by_email(address) is not None:
        raise EmailTaken()
    user = User(email=address, email_key=email_key(address), name=name.strip(), locale=locale, is_admin=is_admin,
                password_hash=generate_password_hash(password) if password else None,
                verified_at=utcnow() if verified else None)
    db.session.add(user)
    db.session.flush()
    return user
