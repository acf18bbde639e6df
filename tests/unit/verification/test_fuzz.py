"""Property tests: whatever the input (random, truncated or mutated JSON, JWT, PNG, SVG), ``verify`` returns
a complete report and never raises; unreadable input is a failed ``parse`` check."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badgehub.credentials.baking import bake_png, bake_svg
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CHECK_IDS, CheckStatus, VerificationReport
from badgehub.verification.resolver import offline_resolver

from .conftest import NOW, SVG_IMAGE, png_image

SIMPLE = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "http://example.com/credentials/3527",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "https://example.com/issuers/876543", "type": ["Profile"], "name": "Example Corp"},
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Teamwork Badge",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["Achievement"],
            "criteria": {"narrative": "Team members are nominated for this badge by their peers."},
            "description": "This badge recognizes the development of the capacity to collaborate.",
            "name": "Teamwork",
        },
    },
    "proof": [
        {
            "type": "DataIntegrityProof",
            "created": "2010-01-01T19:23:24Z",
            "verificationMethod": "https://example.com/issuers/876543#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
            "proofValue": "z41ZsNkz78FHSGkAD5J4b8EN49DkywMMJSL3UdUNffbsCAWmTLPvtnJpd3JGGooYX7TNrzgsTLkXUWiGsRRZ788ML",
        }
    ],
}
SIMPLE_TEXT = json.dumps(SIMPLE)
JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRpZDp3ZWI6ZXhhbXBsZS5vcmcja2V5In0."
    + "eyJAY29udGV4dCI6WyJodHRwczovL3d3dy53My5vcmcvbnMvY3JlZGVudGlhbHMvdjIiXSwiaWQiOiJ1cm46dXVpZDoxIn0."
    + "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZQ"
)
BAKED_PNG = bake_png(png_image(), SIMPLE_TEXT)
BAKED_SVG = bake_svg(SVG_IMAGE, SIMPLE_TEXT)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _complete(report: VerificationReport) -> None:
    assert [check.id for check in report.checks] == list(CHECK_IDS)
    # The pipeline's safety net turns a defect into a "check_error" check; the fuzzer must not find any.
    assert all(check.code != "check_error" for check in report.checks), [c.to_dict() for c in report.checks]
    assert all(isinstance(check.message, str) and check.message for check in report.checks)
    json.dumps(report.to_dict())  # the report is always serialisable


def _unreadable(report: VerificationReport) -> None:
    _complete(report)
    assert report.checks[0].status is CheckStatus.FAILED
    assert all(check.status is CheckStatus.SKIPPED for check in report.checks[1:])
    assert not report.verified


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    _complete(verify(data, offline_resolver(), NOW))


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_raises(text: str) -> None:
    _complete(verify(text, offline_resolver(), NOW))


@FUZZ
@given(st.integers(min_value=0, max_value=len(SIMPLE_TEXT) - 1))
def test_truncated_json_is_a_failed_parse(cut: int) -> None:
    _unreadable(verify(SIMPLE_TEXT[:cut], offline_resolver(), NOW))


@FUZZ
@given(st.integers(min_value=0, max_value=len(JWT) - 1))
def test_truncated_jwt_never_raises_and_never_verifies(cut: int) -> None:
    report = verify(JWT[:cut], offline_resolver(), NOW)
    _complete(report)
    assert not report.verified


@FUZZ
@given(st.integers(min_value=0, max_value=len(BAKED_PNG) - 1))
def test_truncated_png_never_raises_and_never_verifies(cut: int) -> None:
    report = verify(BAKED_PNG[:cut], offline_resolver(), NOW)
    _complete(report)
    assert not report.verified


@FUZZ
@given(st.integers(min_value=0, max_value=len(BAKED_PNG) - 1), st.integers(min_value=1, max_value=255))
def test_corrupted_png_never_raises(position: int, flip: int) -> None:
    data = bytearray(BAKED_PNG)
    data[position] ^= flip
    _complete(verify(bytes(data), offline_resolver(), NOW))


@FUZZ
@given(st.integers(min_value=0, max_value=len(BAKED_SVG) - 1))
def test_truncated_svg_never_raises(cut: int) -> None:
    report = verify(BAKED_SVG[:cut], offline_resolver(), NOW)
    _complete(report)
    assert not report.verified


@FUZZ
@given(
    st.integers(min_value=0, max_value=len(BAKED_SVG) - 1), st.sampled_from([b"<", b">", b"&", b"]]>", b"\x00", b'"'])
)
def test_corrupted_svg_never_raises(position: int, junk: bytes) -> None:
    _complete(verify(BAKED_SVG[:position] + junk + BAKED_SVG[position:], offline_resolver(), NOW))


@FUZZ
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_random_json_objects_never_raise(document: dict[str, Any]) -> None:
    report = verify(document, offline_resolver(), NOW)
    _complete(report)
    assert not report.verified


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(SIMPLE)[1:]


@FUZZ
@given(st.sampled_from(PATHS), json_values)
def test_credentials_with_a_random_part_replaced_never_raise_and_never_verify(
    path: tuple[Any, ...], value: Any
) -> None:
    document = json.loads(SIMPLE_TEXT)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if parent[path[-1]] == value:
        return
    parent[path[-1]] = value
    report = verify(document, offline_resolver(), NOW)
    _complete(report)
    assert not report.verified


def test_deeply_nested_json_is_a_failed_parse() -> None:
    _unreadable(verify("[" * 100_000 + "]" * 100_000, offline_resolver(), NOW))
    _unreadable(verify('{"a":' * 5_000 + "1" + "}" * 5_000, offline_resolver(), NOW))
    nested: dict[str, Any] = {}
    node = nested
    for _ in range(200):
        node["a"] = {}
        node = node["a"]
    _unreadable(verify(nested, offline_resolver(), NOW))


def test_unserialisable_or_empty_input_is_a_failed_parse() -> None:
    _unreadable(verify({"a": object()}, offline_resolver(), NOW))
    _unreadable(verify(b"", offline_resolver(), NOW))
    _unreadable(verify("   ", offline_resolver(), NOW))
    _unreadable(verify('{"a": NaN}', offline_resolver(), NOW))
    _unreadable(verify(b"\xff\xfe\x00garbage", offline_resolver(), NOW))
    _unreadable(verify(12345, offline_resolver(), NOW))  # type: ignore[arg-type]
