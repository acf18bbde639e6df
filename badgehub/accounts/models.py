"""People: users, the one-time tokens sent to them by e-mail, their extra addresses and holder DID.

The extra addresses and the holder DID keep their ``wallet_*`` tables (the wallet pages are where a learner
sets them), but they are the account's identity: sign-in, registration and issuing read them.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, str_enum, utcnow


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A person. Every user is a learner; roles elsewhere make them staff, coordinator or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed by the person, for display and for sending mail.
    email: Mapped[str] = mapped_column(String(254))
    # The uniqueness key: see badgehub.fields.email_key for the rule, written in one place.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    verified_at: Mapped[dt.datetime | None]
    locale: Mapped[str | None] = mapped_column(String(8))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[dt.datetime | None]
    # Bumped to invalidate every session of the user (sign out everywhere, password change).
    session_version: Mapped[int] = mapped_column(default=1)

    tokens: Mapped[list[EmailToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class TokenPurpose(enum.StrEnum):
    SIGN_IN = "sign_in"
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose name, not a secret)


class EmailToken(db.Model):  # type: ignore[name-defined,misc]
    """A single-use secret sent by e-mail. Only its SHA-256 is stored."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """One signed-in device: the browser's session cookie and its "keep me signed in" cookie point here.

    Only SHA-256 digests of the two secrets are stored. Deleting the row ends that device's session and its
    remember-me cookie at once, whatever copies of the cookies exist.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The remember-me secret replaced last, accepted for a short while: a browser restoring several tabs
    # sends the old cookie several times at once, and only the first answer carries the new one.
    previous_remember_hash: Mapped[str | None] = mapped_column(String(64))
    remember_rotated_at: Mapped[dt.datetime | None]
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class WalletEmail(db.Model):  # type: ignore[name-defined,misc]
    """An extra e-mail address of a learner, beside the account's own.

    ``verified_key`` is ``email_key`` once the address is proven, else NULL: its unique constraint is the rule
    "an address verified by one account cannot be claimed by another" (NULLs never collide, so several
    accounts may *ask* for the same address; the first to prove it wins).
    """

    __tablename__ = "wallet_emails"
    __table_args__ = (UniqueConstraint("user_id", "email_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    verified_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    verified_at: Mapped[dt.datetime | None]
    # SHA-256 of the confirmation link's secret; cleared once used.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class WalletProfile(db.Model):  # type: ignore[name-defined,misc]
    """Wallet settings of one user: the holder DID written into credentials issued to them afterwards."""

    __tablename__ = "wallet_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    holder_did: Mapped[str | None] = mapped_column(String(500))
    did_added_at: Mapped[dt.datetime | None]
