"""The learner's wallet: imported credentials, share links, and the uses of "keep your badge" links.

The credentials issued here are not copied into the wallet: a learner's wallet is every
:class:`~badgehub.issuing.models.IssuedCredential` whose ``recipient_email_key`` is one of the learner's
verified keys (see :mod:`badgehub.accounts.addresses` for the matching rule). The extra addresses and the
holder DID belong to the account (:mod:`badgehub.accounts.models`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.issuing.models import IssuedCredential


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
