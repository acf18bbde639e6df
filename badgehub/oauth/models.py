"""Registered applications, authorization codes and tokens of the Open Badges API's OAuth server.

They implement Authlib's model interfaces (``ClientMixin``, ``AuthorizationCodeMixin``, ``TokenMixin``) on our
own columns: client secrets, codes and tokens are stored as SHA-256 digests only, so a copy of the database
opens nobody's wallet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.accounts.models import User


def digest(secret: str) -> str:
    """The stored form of a client secret, code or token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OAuthClient(db.Model, ClientMixin):  # type: ignore[name-defined,misc]
    """An application registered through RFC 7591; ``client_metadata`` is what it registered, as validated."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def name(self) -> str:
        return str(self.client_metadata.get("client_name") or self.client_id)

    @property
    def uri(self) -> str | None:
        value = self.client_metadata.get("client_uri")
        return str(value) if value else None

    @property
    def redirect_uris(self) -> list[str]:
        return list(self.client_metadata.get("redirect_uris") or [])

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.redirect_uris
        return uris[0] if uris else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.client_metadata.get("scope") or ""))
        return str(list_to_scope([s for s in scope_to_list(scope) if s in allowed]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret_hash is not None and hmac.compare_digest(self.client_secret_hash,
                                                                           digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        registered = self.client_metadata.get("token_endpoint_auth_method") or "client_secret_basic"
        return bool(method == registered)

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.client_metadata.get("response_types") or ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.client_metadata.get("grant_types") or ["authorization_code"])


class OAuthAuthorizationCode(db.Model, AuthorizationCodeMixin):  # type: ignore[name-defined,misc]
    """A code the learner's consent produced: single use, ten minutes, bound to the PKCE challenge."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> int:
        return int(self.created_at.timestamp())

    def is_expired(self) -> bool:
        return self.expires_at <= _now()


class OAuthToken(db.Model, TokenMixin):  # type: ignore[name-defined,misc]
    """An access token and its refresh token, for one learner and one application."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    refresh_expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.expires_at - self.issued_at).total_seconds()))

    def is_expired(self) -> bool:
        return self.expires_at <= _now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_refresh_usable(self) -> bool:
        return (self.revoked_at is None and self.refresh_token_hash is not None
                and (self.refresh_expires_at is None or self.refresh_expires_at > _now()))

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client
