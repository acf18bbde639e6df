"""The learner's wallet: extra addresses, holder DID, imported credentials and share links.

The credentials issued here are not copied into the wallet: a learner's wallet is every
:class:`~badgehub.issuing.models.IssuedCredential` whose ``recipient_email_key`` is one of the learner's
verified keys (see :mod:`badgehub.wallet.service` for the matching rule).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.issuing.models import IssuedCredential


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


class ImportedCredential(db.Model):  # type: ignore[name-defined,misc]
    """A badge from elsewhere, kept byte for byte as it was given, with its last verification report."""

    __tablename__ = "wallet_imported_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    # json / jwt / png / svg: what the pipeline read it as.
    format: Mapped[str] = mapped_column(String(8))
    ob_version: Mapped[str | None] = mapped_column(String(8))
    source_url: Mapped[str | None] = mapped_column(String(2048))
    achievement_name: Mapped[str] = mapped_column(String(300), default="")
    issuer_name: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_verdict: Mapped[str] = mapped_column(String(32), default="")
    last_checked_at: Mapped[dt.datetime | None]


class WalletShare(db.Model):  # type: ignore[name-defined,misc]
    """A public link ``/w/<token>`` to a chosen set of a learner's credentials.

    ``token`` is ``secrets.token_urlsafe(18)`` (144 random bits), kept in clear so that the owner can copy the
    link and its QR code again; it is only ever compared through the unique index.
    """

    __tablename__ = "wallet_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    items: Mapped[list[WalletShareItem]] = relationship(
        back_populates="share", cascade="all, delete-orphan", order_by="WalletShareItem.position")

    def is_live(self, now: dt.datetime | None = None) -> bool:
        """Neither revoked nor past its expiry."""
        moment = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


class WalletShareItem(db.Model):  # type: ignore[name-defined,misc]
    """One credential of a share: an issued one or an imported one (exactly one of the two)."""

    __tablename__ = "wallet_share_items"
    __table_args__ = (
        CheckConstraint("(credential_id IS NULL) <> (imported_id IS NULL)", name="one_credential"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("wallet_shares.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), index=True)
    imported_id: Mapped[int | None] = mapped_column(
        ForeignKey("wallet_imported_credentials.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    share: Mapped[WalletShare] = relationship(back_populates="items")
    credential: Mapped[IssuedCredential | None] = relationship()
    imported: Mapped[ImportedCredential | None] = relationship()


class KeepLinkUse(db.Model):  # type: ignore[name-defined,misc]
    """A "See and keep your badge" link that was used: the links are signed, not stored, and this row is what
    makes each work once (its digest is the primary key, so two clicks racing cannot both pass)."""

    __tablename__ = "keep_link_uses"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
