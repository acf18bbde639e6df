"""Hypothesis strategies for the credentials BadgeHub builds itself (``build_credential``): arbitrary Unicode
text, every optional field on or off, many alignments, evidence items and results. Shared by the fast-path
property test (against pyld) and its interop twin (against the JavaScript ``rdf-canonize``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from badgehub.credentials import documents
from badgehub.credentials.errors import CredentialError
from badgehub.credentials.status_list import status_list_entry

# Any character the builders accept, astral planes included (emoji sort differently in UTF-16), quotes,
# backslashes, tabs and newlines (escaped in N-Quads); they refuse other controls and lone surrogates.
_CHARACTERS = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\"\\")
TEXT = st.text(_CHARACTERS, min_size=1, max_size=24)
OPTIONAL_TEXT = st.none() | TEXT
_SEGMENT = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
URL = st.builds(lambda host, path: f"https://{host}.example/{path}", _SEGMENT, _SEGMENT)
OPTIONAL_URL = st.none() | URL
MOMENT = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1),
                      timezones=st.just(dt.UTC)).map(lambda moment: moment.replace(microsecond=0))

ALIGNMENT = st.builds(documents.Alignment, target_name=TEXT, target_url=URL, target_code=OPTIONAL_TEXT,
                      target_framework=OPTIONAL_TEXT, target_type=st.none() | st.sampled_from(
                          ["CFItem", "CFRubric", "ceasn:Competency", "ext:Territory"]),
                      target_description=OPTIONAL_TEXT)
EVIDENCE = st.builds(documents.Evidence, id=OPTIONAL_URL, name=OPTIONAL_TEXT, description=OPTIONAL_TEXT,
                     narrative=OPTIONAL_TEXT, genre=OPTIONAL_TEXT, audience=OPTIONAL_TEXT)
RESULT = st.builds(documents.Result, status=st.none() | st.sampled_from(["Completed", "Enrolled", "Failed"]),
                   value=OPTIONAL_TEXT, alignments=st.lists(ALIGNMENT, max_size=2).map(tuple))
PROFILE = st.builds(documents.IssuerProfile, id=st.one_of(URL, _SEGMENT.map(lambda s: f"did:web:{s}.example")),
                    name=TEXT, url=OPTIONAL_URL, email=st.none() | _SEGMENT.map(lambda s: f"{s}@example.org"),
                    description=OPTIONAL_TEXT, image=st.none() | st.builds(documents.Image, id=URL,
                                                                           caption=OPTIONAL_TEXT))
ACHIEVEMENT = st.builds(
    documents.AchievementDefinition, id=URL, name=TEXT, description=TEXT, criteria_narrative=TEXT,
    criteria_id=OPTIONAL_URL, achievement_type=st.none() | st.sampled_from(["Badge", "Competency", "ext:Atelier"]),
    alignments=st.lists(ALIGNMENT, max_size=8).map(tuple), tags=st.lists(TEXT, max_size=4).map(tuple),
    in_language=st.none() | st.sampled_from(["fr", "en", "fr-FR"]), creator=st.none() | PROFILE,
    version=OPTIONAL_TEXT, human_code=OPTIONAL_TEXT, field_of_study=OPTIONAL_TEXT)


@st.composite
def own_credentials(draw: st.DrawFn) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential as issuing builds it (rejected draws are inputs the builder refuses)."""
    start = draw(MOMENT)
    until = draw(st.none() | st.integers(1, 3650).map(lambda days: start + dt.timedelta(days=days)))
    activity = draw(st.none() | MOMENT)
    try:
        return documents.build_credential(
            credential_id=draw(st.uuids().map(lambda u: f"urn:uuid:{u}")), issuer=draw(PROFILE),
            achievement=draw(ACHIEVEMENT),
            recipient=documents.Recipient(email=draw(_SEGMENT.map(lambda s: f"{s}@example.net")),
                                          salt=draw(st.text("0123456789abcdef", min_size=32, max_size=32)),
                                          did=draw(st.none() | _SEGMENT.map(lambda s: f"did:key:z6Mk{s}"))),
            valid_from=start, valid_until=until, awarded_date=draw(st.none() | st.just(start)),
            name=draw(OPTIONAL_TEXT), description=draw(OPTIONAL_TEXT),
            evidence=draw(st.lists(EVIDENCE, max_size=6)), results=draw(st.lists(RESULT, max_size=3)),
            narrative=draw(OPTIONAL_TEXT), activity_start_date=activity,
            activity_end_date=activity + dt.timedelta(hours=draw(st.integers(0, 48))) if activity else None,
            credential_status=draw(st.none() | st.builds(
                lambda n, index: status_list_entry(f"https://badges.example/issuers/x/status/{n}", index),
                st.integers(1, 9), st.integers(0, 131071))))
    except CredentialError:  # e.g. a required name of blanks only
        reject()


def proof_options(created: dt.datetime) -> dict[str, Any]:
    """The proof configuration issuing signs (before its ``@context`` is added)."""
    return {"type": "DataIntegrityProof", "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "verificationMethod": "did:web:badges.example:issuers:x#key-1", "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod"}
