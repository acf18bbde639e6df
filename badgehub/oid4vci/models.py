"""Credential offers (one per "add to a phone wallet") and the nonces wallets answer with their key proofs.

Only SHA-256 digests of the secrets are stored: the pre-authorized code, the transaction code, the access
token and the nonces. Whoever reads the database cannot redeem an offer with them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.issuing.models import IssuedCredential


class CredentialOffer(db.Model):  # type: ignore[name-defined,misc]
    """An offer of one issued credential to a wallet, redeemed once with its pre-authorized code.

    ``redeemed_at`` is set when the code is traded for the access token (a replayed code then fails);
    ``tx_attempts`` counts wrong transaction codes, and the offer dies at the limit.
    """

    __tablename__ = "oid4vci_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id", ondelete="CASCADE"),
                                               index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    redeemed_at: Mapped[dt.datetime | None]
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    delivered: Mapped[int] = mapped_column(default=0)

    credential: Mapped[IssuedCredential] = relationship()


class IssuanceNonce(db.Model):  # type: ignore[name-defined,misc]
    """A ``c_nonce`` from the nonce endpoint: good for one key proof, until it expires."""

    __tablename__ = "oid4vci_nonces"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]
