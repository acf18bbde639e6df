"""RDFC-1.0 canonical N-Quads: the official test vector, equality with pyld, RDFC-1.0 escaping,
JavaScript sort order, and JSON-LD safe mode."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from badgehub.credentials.canonical import (
    canonical_forms,
    canonicalize,
    canonicalize_quads,
    check_safe_mode,
)
from badgehub.credentials.contexts import document_loader
from badgehub.credentials.errors import ContextNotAllowed, JsonLdError, UndefinedTermError

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

VALID_EXAMPLES = [
    "ob3-v2-simple-eddsa-rdfc-2022.json",
    "ob3-v2-testvector-eddsa-rdfc-2022.json",
    "ob3-v2-complete-eddsa-rdfc-2022.json",
    "ob3-v2-didkey-eddsa-rdfc-2022.json",
    "ob3-v2-dual-proof-didkey.json",
    "ob3-v1-simple-ed25519signature2020.json",
    "ob3-v1-1edtech-revocationlist-refresh-didweb.json",
    "ob3-v2-bitstring-revoked.json",
    "bitstring-status-list-credential.json",
    "endorsement-v2-eddsa-rdfc-2022.json",
]


def _credential(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:6f1f4a8e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.org/issuers/1", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "A badge",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.org/achievements/1",
                "type": ["Achievement"],
                "name": "Achievement",
                "criteria": {"narrative": "Do it."},
                **subject,
            },
        },
    }


def _pyld_canonical(document: dict[str, Any]) -> str:
    result: str = jsonld.normalize(
        document, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader}
    )
    return result


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def test_test_vector_document_canonicalises_byte_for_byte(
    load_example: Callable[[str], Any], examples_dir: Path
) -> None:
    document = _unsecured(load_example("ob3-v2-testvector-eddsa-rdfc-2022.json"))
    expected = (examples_dir / "ob3-v2-testvector-document-canon.nq").read_text(encoding="utf-8")
    assert canonicalize(document) == expected


def test_test_vector_proof_configuration_canonicalises_byte_for_byte(
    load_example: Callable[[str], Any], examples_dir: Path, testvector: dict[str, Any]
) -> None:
    document = load_example("ob3-v2-testvector-eddsa-rdfc-2022.json")
    config = {"@context": document["@context"], **testvector["proofOptions"]}
    expected = (examples_dir / "ob3-v2-testvector-proof-canon.nq").read_text(encoding="utf-8")
    assert canonicalize(config) == expected


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_canonical_form_equals_pyld_urdna2015_for_every_example(name: str, load_example: Callable[[str], Any]) -> None:
    document = _unsecured(load_example(name))
    assert canonicalize(document) == _pyld_canonical(document)


def test_canonical_form_equals_pyld_when_blank_nodes_look_alike() -> None:
    # Three evidence nodes and two alignments without ids whose first-degree hashes collide: this
    # drives the n-degree hashing path (permutations, recursion, issuer copies).
    document = _credential(alignment=[{"type": ["Alignment"], "targetName": "x", "targetUrl": "https://a.example"}] * 2)
    document["evidence"] = [{"type": ["Evidence"], "name": "same"} for _ in range(3)]
    assert canonicalize(document) == _pyld_canonical(document)


def test_poison_graphs_are_refused_like_rdf_canonize_does() -> None:
    # A ring of identical blank nodes: every node has the same first-degree hash, so N-Degree
    # hashing recurses; the default work factor (1, as in rdf-canonize) gives up with a typed error.
    ring = [f"_:r{i}" for i in range(8)]
    quads = [(node, "<http://example.org/next>", ring[(i + 1) % len(ring)], "") for i, node in enumerate(ring)]
    quads += [(node, "<http://example.org/next>", ring[(i + 3) % len(ring)], "") for i, node in enumerate(ring)]
    with pytest.raises(JsonLdError) as info:
        canonicalize_quads(quads)
    assert info.value.code == "canonicalization_too_complex"
    assert canonicalize_quads(quads, max_work_factor=3).count("\n") == len(quads)


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("\x00", "\\u0000"),
        ("\x01", "\\u0001"),
        ("\x07", "\\u0007"),
        ("\x08", "\\b"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\x0b", "\\u000B"),
        ("\x0c", "\\f"),
        ("\r", "\\r"),
        ("\x1f", "\\u001F"),
        ("\x7f", "\\u007F"),
        ('"', '\\"'),
        ("\\", "\\\\"),
    ],
)
def test_literal_control_characters_are_escaped_like_rdfc10(char: str, escaped: str) -> None:
    nquads = canonicalize(_credential(description=f"a{char}b"))
    assert f'"a{escaped}b"' in nquads


def test_non_ascii_text_is_written_raw_in_utf8() -> None:
    text = "Ünïcödé 😀 مرحبا עברית"
    assert f'"{text}"' in canonicalize(_credential(description=text))


def test_iri_characters_outside_rdf_iris_are_escaped() -> None:
    document = _credential()
    document["credentialSubject"]["achievement"]["id"] = "https://example.org/a|b^c"
    assert "<https://example.org/a\\u007Cb\\u005Ec>" in canonicalize(document)


def test_iri_with_whitespace_is_a_relative_reference_and_refused() -> None:
    document = _credential()
    document["credentialSubject"]["achievement"]["id"] = "https://example.org/a b"
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert "relative @id 'https://example.org/a b'" in info.value.terms


def test_javascript_and_code_point_orders_differ_only_with_supplementary_characters() -> None:
    document = _credential()
    document["credentialSubject"]["achievement"]["tag"] = ["\ufb01", "\U0001f600"]
    js_order, code_point_order = canonical_forms(document)
    assert js_order.index("\U0001f600") < js_order.index("\ufb01")
    assert code_point_order.index("\ufb01") < code_point_order.index("\U0001f600")
    assert canonicalize(document) == js_order
    assert canonicalize(document, code_point_order=True) == code_point_order
    assert len(canonical_forms(_credential(tag=["\ufb01", "plain"]))) == 1


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_safe_mode_accepts_every_valid_example(name: str, load_example: Callable[[str], Any]) -> None:
    check_safe_mode(_unsecured(load_example(name)))


def test_safe_mode_refuses_the_injected_undefined_terms_example(load_example: Callable[[str], Any]) -> None:
    document = _unsecured(load_example("NEG-ob3-v2-injected-undefined-terms.json"))
    with pytest.raises(UndefinedTermError) as info:
        check_safe_mode(document)
    assert info.value.code == "undefined_term"
    assert info.value.terms == ["term 'injectedUndefinedTerm'", "term 'issuanceDate'"]
    with pytest.raises(UndefinedTermError):
        canonicalize(document)


def test_safe_mode_refuses_an_undefined_type() -> None:
    document = _credential()
    document["type"].append("MadeUpCredential")
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert "type 'MadeUpCredential'" in info.value.terms


def test_safe_mode_refuses_an_undefined_nested_term() -> None:
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(_credential(secretBonus="unsigned"))
    assert info.value.terms == ["term 'secretBonus'"]


def test_safe_mode_refuses_a_relative_id() -> None:
    document = _credential()
    document["credentialSubject"]["id"] = "not-an-iri"
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert "relative @id 'not-an-iri'" in info.value.terms


def test_safe_mode_refuses_a_nested_context_reset() -> None:
    document = _credential()
    document["credentialSubject"]["@context"] = None
    document["credentialSubject"]["hidden"] = "x"
    # pyld (like jsonld.js) already refuses to reset the protected VC context; either way: refused.
    with pytest.raises((UndefinedTermError, JsonLdError)):
        canonicalize(document)


def test_safe_mode_refuses_a_context_reset_inside_a_scoped_context() -> None:
    document = _credential()
    document["@context"] = [V2, OB, {"extra": {"@id": "https://example.org/extra", "@context": None}}]
    document["extra"] = {"hidden": "x"}
    with pytest.raises((UndefinedTermError, JsonLdError)):
        canonicalize(document)


def test_safe_mode_refuses_a_term_mapped_to_null() -> None:
    document = _credential()
    document["@context"] = [V2, OB, {"hidden": None}]
    document["hidden"] = "x"
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert any("'hidden' mapped to null" in term for term in info.value.terms)


def test_safe_mode_refuses_reserved_at_terms() -> None:
    document = _credential()
    document["@unknown"] = "x"
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert "reserved term '@unknown'" in info.value.terms


def test_document_without_context_is_refused() -> None:
    with pytest.raises(UndefinedTermError):
        canonicalize({"name": "x"})


def test_unknown_context_is_refused_with_its_url() -> None:
    document = _credential()
    document["@context"] = [V2, "https://example.com/ctx"]
    with pytest.raises(ContextNotAllowed) as info:
        canonicalize(document)
    assert info.value.url == "https://example.com/ctx"


def test_vc2_credential_with_the_ob_300_context_is_a_jsonld_error() -> None:
    # context.json redefines `name` and `description`, which the VC 2.0 context protects.
    document = _credential()
    document["@context"] = [V2, "https://purl.imsglobal.org/spec/ob/v3p0/context.json"]
    with pytest.raises(JsonLdError) as info:
        canonicalize(document)
    assert info.value.code == "jsonld_error"


def test_integral_floats_canonicalise_like_javascript_integers() -> None:
    as_float = _credential(creditsAvailable=42.0)
    as_int = _credential(creditsAvailable=42)
    assert canonicalize(as_float) == canonicalize(as_int)
    assert '"42"^^<https://www.w3.org/2001/XMLSchema#float>' in canonicalize(as_int)


@pytest.mark.parametrize("number", [2**53 + 1, 1e21, 1e-7, -(2**60)])
def test_numbers_javascript_would_alter_are_refused(number: float) -> None:
    with pytest.raises(JsonLdError) as info:
        canonicalize(_credential(creditsAvailable=number))
    assert info.value.code == "number_not_portable"


def test_canonicalize_does_not_modify_its_input() -> None:
    document = _credential(creditsAvailable=42.0)
    before = copy.deepcopy(document)
    canonicalize(document)
    assert document == before


@pytest.mark.parametrize("value", [None, "string", 42, ["list"]])
def test_non_object_documents_are_refused(value: Any) -> None:
    with pytest.raises(JsonLdError):
        canonicalize(value)


def test_context_caches_never_change_the_result(load_example: Callable[[str], Any]) -> None:
    # The resolver and processor caches are keyed by object identity and active-context uuid; run
    # every example several times in shifting orders (so each one meets caches warmed by the others)
    # and compare with what the unmodified pyld processor gives for the same document.
    documents = [_unsecured(load_example(name)) for name in VALID_EXAMPLES]
    documents.append(
        _credential(alignment=[{"type": ["Alignment"], "targetName": "t", "targetUrl": "https://t.example"}])
    )
    expected = [_pyld_canonical(copy.deepcopy(document)) for document in documents]
    for round_ in range(3):
        order = list(range(len(documents)))
        order = order[round_:] + order[:round_]
        if round_ == 2:
            order.reverse()
        for index in order:
            assert canonicalize(documents[index]) == expected[index], (
                VALID_EXAMPLES[index] if index < len(VALID_EXAMPLES) else index
            )


def test_a_term_mapped_to_null_in_an_inline_context_is_reported_once_dropped() -> None:
    document = _credential()
    document["credentialSubject"]["achievement"]["@context"] = {"hidden": {"@id": None}}
    document["credentialSubject"]["achievement"]["hidden"] = "x"
    with pytest.raises(UndefinedTermError) as info:
        canonicalize(document)
    assert any("null" in term for term in info.value.terms)


@pytest.mark.parametrize("where", ["value", "key"])
def test_lone_surrogates_are_refused_with_a_typed_error(where: str) -> None:
    document = _credential()
    if where == "value":
        document["name"] = "broken \ud800 text"
    else:
        document["\udfffname"] = "x"
    with pytest.raises(JsonLdError) as info:
        canonicalize(document)
    assert info.value.code == "invalid_unicode"


def test_concurrent_canonicalisations_agree(load_example: Callable[[str], Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    documents = [_unsecured(load_example(name)) for name in VALID_EXAMPLES]
    expected = [canonicalize(document) for document in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(canonicalize, documents * 4))
    assert results == expected * 4
