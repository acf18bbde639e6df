"""API token rules: only a hash is kept, owners create and revoke, refusals say why, last use is coarse."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from badgehub.audit.models import AuditEvent
from badgehub.errors import Forbidden, NotFound, ValidationError
from badgehub.extensions import db
from badgehub.tokens import service as tokens
from badgehub.tokens.errors import (
    MissingScope,
    TokenAlreadyRevoked,
    TokenExpired,
    TokenMissing,
    TokenNotFound,
    TokenRefused,
    TokenRevoked,
)
from badgehub.tokens.models import ApiToken
from tests.factories import World, build_world

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(ctx, snapshot) -> World:
    return snapshot(build_world)


def test_the_secret_is_not_stored_only_its_sha256(world):
    row, token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=[tokens.CREDENTIALS_ISSUE])
    assert tokens.TOKEN_RE.fullmatch(token) and token.startswith(row.prefix + "_")
    assert row.secret_hash == tokens.hash_token(token)
    stored = db.session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": row.id}).one()
    secret = token.split("_", 2)[2]
    assert not any(isinstance(value, str) and secret in value for value in stored)


def test_a_token_authenticates_and_grants_only_its_scopes(world):
    row, token = tokens.create_token(world.a, world.owner_a, name="CRM",
                                     scopes=[tokens.CREDENTIALS_READ, tokens.ACHIEVEMENTS_READ])
    found = tokens.authenticate(token)
    assert found.id == row.id and found.organisation_id == world.a.id
    assert found.scopes == [tokens.ACHIEVEMENTS_READ, tokens.CREDENTIALS_READ]
    tokens.require_scope(found, tokens.CREDENTIALS_READ)
    with pytest.raises(MissingScope) as refused:
        tokens.require_scope(found, tokens.CREDENTIALS_ISSUE)
    assert refused.value.http_status == 403 and refused.value.details["required_scope"] == "credentials:issue"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # right prefix, wrong secret
    lambda t: "bh_zzzzzzzz_" + t.split("_", 2)[2],  # unknown prefix
    lambda t: "not a token",
    lambda t: "",
])
def test_wrong_tokens_are_refused(world, mangle):
    _row, token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES)
    with pytest.raises(TokenRefused) as refused:
        tokens.authenticate(mangle(token))
    assert refused.value.code == "invalid_token" and refused.value.http_status == 401


def test_revoked_and_expired_tokens_are_refused_with_their_own_code(world):
    row, token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES,
                                     expires_at=NOW + dt.timedelta(days=1), now=NOW)
    assert tokens.authenticate(token, now=NOW).id == row.id
    with pytest.raises(TokenExpired):
        tokens.authenticate(token, now=NOW + dt.timedelta(days=1))
    tokens.revoke_token(world.a, world.owner_a, row.id, now=NOW)
    with pytest.raises(TokenRevoked):
        tokens.authenticate(token, now=NOW)
    with pytest.raises(TokenAlreadyRevoked):
        tokens.revoke_token(world.a, world.owner_a, row.id)


def test_last_use_is_written_at_most_once_a_minute(world):
    row, token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES, now=NOW)
    assert row.last_used_at is None
    tokens.authenticate(token, now=NOW)
    assert row.last_used_at == NOW
    tokens.authenticate(token, now=NOW + dt.timedelta(seconds=59))
    assert row.last_used_at == NOW
    tokens.authenticate(token, now=NOW + dt.timedelta(seconds=61))
    assert row.last_used_at == NOW + dt.timedelta(seconds=61)


def test_only_owners_create_and_revoke_tokens(world):
    with pytest.raises(Forbidden):
        tokens.create_token(world.a, world.issuer_a, name="CRM", scopes=tokens.SCOPES)
    with pytest.raises(NotFound):
        tokens.create_token(world.a, world.owner_b, name="CRM", scopes=tokens.SCOPES)
    row, _token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES)
    with pytest.raises(Forbidden):
        tokens.revoke_token(world.a, world.viewer_a, row.id)
    with pytest.raises(NotFound):
        tokens.revoke_token(world.b, world.owner_b, row.id)
    with pytest.raises(TokenNotFound):
        tokens.get_token_for(world.b, row.id)


def test_creation_checks_name_scopes_and_expiry(world):
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(world.a, world.owner_a, name=" ", scopes=["credentials:delete"],
                            expires_at=NOW - dt.timedelta(days=1), now=NOW)
    assert set(refused.value.details["fields"]) == {"name", "scopes", "expires_at"}
    with pytest.raises(ValidationError) as refused:
        tokens.create_token(world.a, world.owner_a, name="x" * 101, scopes=[], now=NOW)
    assert set(refused.value.details["fields"]) == {"name", "scopes"}
    assert db.session.scalar(select(ApiToken.id)) is None


def test_creation_and_revocation_are_audited_without_the_secret(world):
    row, token = tokens.create_token(world.a, world.owner_a, name="CRM", scopes=tokens.SCOPES)
    tokens.revoke_token(world.a, world.owner_a, row.id)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "api_token")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.organisation_id, e.subject_id) for e in events] == [
        ("api_token.created", world.owner_a.id, world.a.id, str(row.id)),
        ("api_token.revoked", world.owner_a.id, world.a.id, str(row.id))]
    assert all(token.split("_", 2)[2] not in str(e.details) for e in events)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_authorization_header_is_token_missing(header):
    with pytest.raises(TokenMissing):
        tokens.bearer_token(header)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Token bh_abc"])
def test_other_authorization_schemes_are_refused(header):
    with pytest.raises(TokenRefused):
        tokens.bearer_token(header)


def test_the_bearer_scheme_is_case_insensitive():
    assert tokens.bearer_token("bearer  bh_x ") == "bh_x"
