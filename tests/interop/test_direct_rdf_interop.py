"""The signer's fast path against the JavaScript stack: generated credentials, one call to the peer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings

from badgehub.credentials.canonical import canonicalize_quads
from badgehub.credentials.data_integrity import _proof_config
from badgehub.credentials.direct_rdf import direct_quads
from badgehub.credentials.errors import JsonLdError
from tests.interop.conftest import JsPeer
from tests.unit.credentials.own_documents import MOMENT, own_credentials, proof_options


def test_direct_rdf_matches_rdf_canonize_for_built_credentials(js_peer: JsPeer) -> None:
    batch: list[tuple[dict[str, Any], str]] = []

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document=own_credentials(), created=MOMENT)
    def collect(document: dict[str, Any], created: dt.datetime) -> None:
        for item in (document, _proof_config(document, proof_options(created))):
            quads = direct_quads(item)
            assert quads is not None, "the fast path refused a document issuing builds"
            try:
                batch.append((item, canonicalize_quads(quads)))
            except JsonLdError:  # blank nodes too ambiguous for RDFC-1.0's work limit (rdf-canonize's default)
                batch.append((item, ""))

    collect()
    answers = js_peer.call("canonizeBatch", documents=[document for document, _ in batch])
    assert len(answers) == len(batch) >= 80
    for (document, ours), theirs in zip(batch, answers, strict=True):
        if not ours:
            assert not theirs["ok"], document  # both stop at the same work limit
            continue
        assert theirs["ok"], (theirs, document)
        assert ours == theirs["nquads"], document
