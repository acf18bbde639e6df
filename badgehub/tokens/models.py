"""API tokens of organisations: only a hash of the secret is kept.

A token reads ``bh_<8 characters>_<secret>``. The first part (``prefix``, ``bh_`` and 8 characters) is stored
in clear: it finds the row and lets people recognise the token in lists. The whole token is hashed with
SHA-256 (``secret_hash``): a random 256-bit secret needs no slow hash, and the hash is compared in constant
time. The token itself is shown once, when it is created.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User
    from badgehub.organisations.models import Organisation


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """One API token of one organisation, with the scopes it grants."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    # Written at most once a minute (see badgehub.tokens.service.LAST_USED_RESOLUTION).
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        """True when the token has an end of validity and it has passed."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} organisation_id={self.organisation_id}>"
