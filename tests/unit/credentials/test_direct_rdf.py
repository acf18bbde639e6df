"""The signer's fast path writes the same RDF as JSON-LD expansion, for every credential issuing builds."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from badgehub.credentials.canonical import canonicalize, canonicalize_quads
from badgehub.credentials.data_integrity import (
    _proof_config,
    sign_data_integrity,
    verify_data_integrity_proof,
)
from badgehub.credentials.direct_rdf import direct_quads
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.keys import ed25519_private_key_from_seed
from tests.unit.credentials.own_documents import MOMENT, own_credentials, proof_options

KEY = ed25519_private_key_from_seed(bytes(range(32)))
METHOD = "did:web:badges.example:issuers:x#key-1"


def _direct(document: dict[str, Any]) -> str:
    quads = direct_quads(document)
    assert quads is not None, "the fast path refused a document issuing builds"
    return canonicalize_quads(quads)


def _outcome(canonical_form: Any, document: dict[str, Any]) -> str | tuple[str, str]:
    """The canonical form, or the error (class and code) it stops with: identical blank nodes (two equal
    evidence items) can be too ambiguous for RDFC-1.0's work limit, on every path alike."""
    try:
        result: str = canonical_form(document)
    except CredentialError as error:
        return type(error).__name__, error.code
    return result


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=own_credentials(), created=MOMENT)
def test_direct_rdf_matches_json_ld_expansion_for_built_credentials(document: dict[str, Any], created: Any) -> None:
    assert _outcome(_direct, document) == _outcome(canonicalize, document)
    config = _proof_config(document, proof_options(created))
    assert _direct(config) == canonicalize(config)


@settings(max_examples=25, deadline=None)
@given(document=own_credentials())
def test_signing_own_documents_gives_the_general_paths_proof(document: dict[str, Any]) -> None:
    try:
        general = sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z")
    except CredentialError as error:  # see _outcome
        with pytest.raises(type(error)):
            sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z", own_document=True)
        return
    fast = sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z", own_document=True)
    assert fast == general  # Ed25519 is deterministic: the same bytes were signed
    verify_data_integrity_proof(fast, fast["proof"][0], KEY.public_key())


def _edit(document: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    edited = copy.deepcopy(document)
    target = edited
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return edited


@pytest.mark.parametrize(("path", "value"), [
    (["credentialSubject", "undefinedTerm"], "x"),  # safe mode: the general path refuses it
    (["credentialSubject", "@context"], {"foo": "https://example.org/foo"}),
    (["credentialSubject", "achievement", "id"], "relative/path"),
    (["credentialSubject", "achievement", "name"], 1.5),  # a float: a double's canonical form
    (["credentialSubject", "achievement", "name"], ["a", ["b"]]),
    (["credentialSubject", "achievement", "id"], "_:b0"),
    (["credentialSubject", "achievement", "id"], "name:x"),  # its scheme is a term: maybe a compact IRI
    (["credentialSubject", "achievement", "type"], ["Achievement", "NotAType"]),
    (["credentialSubject", "achievement", "name"], "lone \ud800 surrogate"),
    (["@context"], ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/"}]),
])
def test_fast_path_leaves_what_it_does_not_write_to_the_general_path(path: list[Any], value: Any) -> None:
    document = _edit(_sample(), path, value)
    assert direct_quads(document) is None
    try:
        general = sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z")
    except CredentialError as error:
        with pytest.raises(type(error)):
            sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z", own_document=True)
    else:
        assert sign_data_integrity(document, KEY, METHOD, "2026-01-01T00:00:00Z", own_document=True) == general


def test_fast_path_writes_integers_and_booleans_as_expansion_does() -> None:
    document = _edit(_sample(), ["credentialSubject", "identifier", 0, "hashed"], False)
    assert _direct(document) == canonicalize(document)


def _sample() -> dict[str, Any]:
    """One small credential as issuing builds it."""
    import datetime as dt

    from badgehub.credentials import documents
    from badgehub.credentials.status_list import status_list_entry

    return documents.build_credential(
        credential_id="urn:uuid:0b2d3a4e-1f00-4a00-8000-00000000c0de",
        issuer=documents.IssuerProfile(id="https://badges.example/issuers/x", name="Atelier"),
        achievement=documents.AchievementDefinition(
            id="https://badges.example/achievements/1", name="Réparer", description="Une crevaison.",
            criteria_narrative="Poser une rustine.",
            alignments=(documents.Alignment(target_name="S1", target_url="https://framework.example/s/1"),)),
        recipient=documents.Recipient(email="p@example.net", salt="00" * 16),
        valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        evidence=[documents.Evidence(id="https://evidence.example/1", narrative="Fait.")],
        credential_status=status_list_entry("https://badges.example/issuers/x/status/1", 42))
