"""Authlib's authorization server and resource protector, wired to our models.

``authorization`` and ``require_oauth`` are created unbound and initialised by :func:`init_oauth` from the app
factory, like every extension. The grants are Authlib's; we only say where codes and tokens are kept.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, ClassVar, Final

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, current_app
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.extensions import db
from badgehub.oauth.models import OAuthAuthorizationCode, OAuthClient, OAuthToken, digest

SCOPE_PREFIX: Final = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ: Final = SCOPE_PREFIX + "credential.readonly"
CREDENTIAL_UPSERT: Final = SCOPE_PREFIX + "credential.upsert"
PROFILE_READ: Final = SCOPE_PREFIX + "profile.readonly"
PROFILE_UPDATE: Final = SCOPE_PREFIX + "profile.update"
SCOPES: Final = (CREDENTIAL_READ, CREDENTIAL_UPSERT, PROFILE_READ, PROFILE_UPDATE)

CODE_LIFETIME: Final = dt.timedelta(minutes=10)
ACCESS_TOKEN_SECONDS: Final = 3600
REFRESH_TOKEN_LIFETIME: Final = dt.timedelta(days=90)
CLIENT_AUTH_METHODS: Final = ["client_secret_basic", "client_secret_post", "none"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RequiredS256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, public or confidential, and only S256 (OB 3.0 §6.3 wants PKCE; "plain" adds
    nothing over a leaked code)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        if not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required")
        if grant.request.payload.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        try:
            super().validate_code_verifier(grant, result)
        except InvalidGrantError:
            # One try per code: a wrong verifier spends it, so nobody can guess verifiers against a stolen code.
            db.session.delete(grant.request.authorization_code)
            db.session.flush()
            raise


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> OAuthAuthorizationCode:
        data = request.payload.data
        row = OAuthAuthorizationCode(
            code_hash=digest(code), client_id=request.client.id, user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or "", scope=request.payload.scope or "",
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            expires_at=_now() + CODE_LIFETIME)
        db.session.add(row)
        db.session.flush()
        return row

    def query_authorization_code(self, code: str, client: OAuthClient) -> OAuthAuthorizationCode | None:
        row = db.session.scalar(select(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.code_hash == digest(code), OAuthAuthorizationCode.client_id == client.id))
        return None if row is None or row.is_expired() else row

    def delete_authorization_code(self, authorization_code: OAuthAuthorizationCode) -> None:
        db.session.delete(authorization_code)
        db.session.flush()

    def authenticate_user(self, authorization_code: OAuthAuthorizationCode) -> User | None:
        return db.session.get(User, authorization_code.user_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: a stolen refresh token works once at most

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        row = db.session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == digest(refresh_token)))
        return row if row is not None and row.is_refresh_usable() else None

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        return db.session.get(User, refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        refresh_token.revoked_at = _now()
        db.session.flush()


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        hashed = digest(token_string)
        return db.session.scalar(select(OAuthToken).where(
            (OAuthToken.access_token_hash == hashed) | (OAuthToken.refresh_token_hash == hashed)))

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        # One row holds the access token and its refresh token: revoking either ends the grant (RFC 7009 §2.1).
        token.revoked_at = token.revoked_at or _now()
        db.session.flush()


class Registration(ClientRegistrationEndpoint):  # type: ignore[misc]
    """Open dynamic registration, as the OB 3.0 API expects: any platform may register; the learner decides
    on the consent page what it may see."""

    def authenticate_token(self, request: Any) -> bool:
        return True

    def get_server_metadata(self) -> dict[str, Any]:
        return {"scopes_supported": list(SCOPES), "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS}

    def generate_client_secret(self, request: Any) -> str | None:
        if request.payload.data.get("token_endpoint_auth_method") == "none":
            return None  # a public client (a single-page or mobile app) has no secret
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> OAuthClient:
        if not client_metadata.get("redirect_uris"):
            raise InvalidRequestError("redirect_uris is required")
        # What RFC 7591 leaves to the server when omitted: the grant this server has, and every API scope (the
        # learner still chooses on the consent page whether to grant what the application asks).
        metadata = {"grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic", **client_metadata}
        metadata["scope"] = metadata.get("scope") or " ".join(SCOPES)
        secret = client_info.get("client_secret")
        client = OAuthClient(client_id=client_info["client_id"], client_secret_hash=digest(secret) if secret else None,
                             client_metadata=metadata)
        db.session.add(client)
        db.session.flush()
        return client


class TokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        return db.session.scalar(select(OAuthToken).where(OAuthToken.access_token_hash == digest(token_string)))


def _query_client(client_id: str) -> OAuthClient | None:
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def _save_token(token: dict[str, Any], request: Any) -> None:
    moment = _now()
    refresh = token.get("refresh_token")
    db.session.add(OAuthToken(
        client_id=request.client.id, user_id=request.user.id, access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if refresh else None, scope=token.get("scope") or "",
        issued_at=moment, expires_at=moment + dt.timedelta(seconds=int(token.get("expires_in") or 0)),
        refresh_expires_at=moment + REFRESH_TOKEN_LIFETIME if refresh else None))
    db.session.flush()


EXTENSION: Final = "badgehub.oauth"


def init_oauth(app: Flask) -> None:
    """Give ``app`` its authorization server and resource protector (called by the factory).

    One pair per app: Authlib's server keeps its grants in lists, so a shared module-level one would gather
    a copy of each grant per app made (the tests make many).
    """
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": ACCESS_TOKEN_SECONDS,
                                                      "refresh_token": ACCESS_TOKEN_SECONDS})
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(AuthorizationCodeGrant, [RequiredS256(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)
    protector = ResourceProtector()
    protector.register_token_validator(TokenValidator())
    app.extensions[EXTENSION] = (server, protector)


def authorization_server() -> AuthorizationServer:
    """The current app's authorization server."""
    return current_app.extensions[EXTENSION][0]


def resource_protector() -> ResourceProtector:
    """The current app's resource protector (bearer tokens of the Open Badges API)."""
    return current_app.extensions[EXTENSION][1]
