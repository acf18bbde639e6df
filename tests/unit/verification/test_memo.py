"""The memo of pure checks: what is remembered is a function of the exact content; keys, dates and revocation
are checked again on every verification."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from badgehub.credentials.data_integrity import sign_data_integrity
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.credentials.documents import AchievementDefinition, IssuerProfile, Recipient, build_credential
from badgehub.credentials.keys import ed25519_raw_public_key, generate_ed25519
from badgehub.verification.memo import CheckMemo, fingerprint
from badgehub.verification.pipeline import verify
from badgehub.verification.resolver import LocalResolver, ResolvedKey

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def signed() -> dict[str, Any]:
    key = generate_ed25519()
    did = did_key_from_ed25519(ed25519_raw_public_key(key.public_key()))
    credential = build_credential(
        credential_id="urn:uuid:0b6f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b",
        issuer=IssuerProfile(id=did, name="Atelier"),
        achievement=AchievementDefinition(id="https://badges.example.org/achievements/1", name="Réparer",
                                          description="Une roue.", criteria_narrative="Trois heures.",
                                          achievement_type="Badge"),
        recipient=Recipient(email="lea@example.org", salt="s"),
        valid_from="2026-01-01T00:00:00Z", valid_until="2027-01-01T00:00:00Z")
    return sign_data_integrity(credential, key, f"{did}#{did.removeprefix('did:key:')}", "2026-01-01T00:00:00Z")


class CompromisedSince(LocalResolver):
    """did:key resolution, with the key declared compromised from ``since``."""

    def __init__(self, since: datetime) -> None:
        self.since = since

    def resolve_verification_method(self, method_id: str) -> ResolvedKey:
        return dataclasses.replace(super().resolve_verification_method(method_id), revoked_at=self.since)


def test_a_second_verification_of_the_same_content_is_answered_from_the_memo(signed: dict[str, Any]) -> None:
    memo = CheckMemo()
    first = verify(signed, LocalResolver(), NOW, memo=memo)
    misses = memo.misses
    second = verify(copy.deepcopy(signed), LocalResolver(), NOW, memo=memo)
    assert first.verified and second.verified
    assert [c.to_dict() for c in first.checks] == [c.to_dict() for c in second.checks]
    assert memo.misses == misses and memo.hits >= 3  # safe mode, schema, signature


def test_changed_content_is_never_taken_for_remembered_content(signed: dict[str, Any]) -> None:
    memo = CheckMemo()
    assert verify(signed, LocalResolver(), NOW, memo=memo).verified
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Piloter un avion"
    for _ in range(2):  # the failure is remembered too, and stays a failure
        report = verify(tampered, LocalResolver(), NOW, memo=memo)
        assert not report.verified and report.check("proof").code == "proof_invalid"  # type: ignore[union-attr]
    assert fingerprint("x", {"a": 1, "b": 2}) != fingerprint("x", {"b": 2, "a": 1})


def test_dates_and_key_state_are_checked_again_after_a_remembered_signature(signed: dict[str, Any]) -> None:
    memo = CheckMemo()
    assert verify(signed, LocalResolver(), NOW, memo=memo).verified
    expired = verify(signed, LocalResolver(), datetime(2027, 6, 1, tzinfo=UTC), memo=memo)
    assert expired.expired and not expired.verified
    compromised = verify(signed, CompromisedSince(datetime(2025, 12, 1, tzinfo=UTC)), NOW, memo=memo)
    assert compromised.check("proof").code == "key_compromised"  # type: ignore[union-attr]


def test_the_memo_is_bounded(signed: dict[str, Any]) -> None:
    memo = CheckMemo(max_entries=2)
    verify(signed, LocalResolver(), NOW, memo=memo)
    assert len(memo) == 2
    off = CheckMemo(max_entries=0)
    verify(signed, LocalResolver(), NOW, memo=off)
    assert len(off) == 0
