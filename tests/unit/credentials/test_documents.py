"""OB 3.0 document builders: exact output, the official schema, contexts, safe mode and input refusal."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from badgehub.credentials.canonical import check_safe_mode
from badgehub.credentials.documents import (
    AchievementDefinition,
    Address,
    Alignment,
    DocumentError,
    Evidence,
    IdentifierEntry,
    Image,
    IssuerProfile,
    Recipient,
    Related,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    achievement_document,
    build_credential,
    build_endorsement_credential,
    clean_text,
    email_identity_object,
    identity_hash,
    issuer_profile_document,
    parse_timestamp,
    to_json,
)
from badgehub.credentials.status_list import status_list_entry
from badgehub.credentials.values import forbidden_characters
from badgehub.fields import email_key

REPO_ROOT = Path(__file__).resolve().parents[3]
BUNDLED_SCHEMA = REPO_ROOT / "badgehub" / "credentials" / "schemas" / "ob_v3p0_achievementcredential_schema.json"
SHARED_SCHEMA = REPO_ROOT.parent / "shared" / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json"
V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

ISSUER = IssuerProfile(
    id="https://badges.example.org/issuers/mediatheque-evry",
    name="Médiathèque d'Évry",
    url="https://mediatheque.example.org",
    email="contact@mediatheque.example.org",
)
ACHIEVEMENT = AchievementDefinition(
    id="https://badges.example.org/achievements/7Kq2",
    name="Atelier numérique",
    description="A badge for the digital workshop.",
    criteria_narrative="Attend the three sessions.\n\n* build a page",
    achievement_type="Badge",
    alignments=(
        Alignment(
            "Digital literacy",
            "https://badges.example.org/competencies/evry/NUM-1",
            target_code="NUM-1",
            target_framework="Évry learning city",
        ),
    ),
    tags=("numérique",),
    in_language="fr",
)
RECIPIENT = Recipient(email="Learner@Example.org", salt="Zq8pY2w1")
CREDENTIAL_ID = "urn:uuid:3b7c2a9e-5f1d-4c8a-9e2b-6d4f8a1c0e57"
LIST_URL = "https://badges.example.org/issuers/mediatheque-evry/status/1"

PINNED = """{
  "@context": [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
  ],
  "id": "urn:uuid:3b7c2a9e-5f1d-4c8a-9e2b-6d4f8a1c0e57",
  "type": [
    "VerifiableCredential",
    "OpenBadgeCredential"
  ],
  "name": "Atelier numérique",
  "issuer": {
    "id": "https://badges.example.org/issuers/mediatheque-evry",
    "type": [
      "Profile"
    ],
    "name": "Médiathèque d'Évry",
    "url": "https://mediatheque.example.org",
    "email": "contact@mediatheque.example.org"
  },
  "validFrom": "2026-03-14T09:30:00Z",
  "credentialSubject": {
    "type": [
      "AchievementSubject"
    ],
    "identifier": [
      {
        "type": "IdentityObject",
        "identityHash": "sha256$fbc6946803a6ceeb9790d3781b1a74f2cead902f3c9e1158ae0eb6e6376fd482",
        "identityType": "emailAddress",
        "hashed": true,
        "salt": "Zq8pY2w1"
      }
    ],
    "achievement": {
      "id": "https://badges.example.org/achievements/7Kq2",
      "type": [
        "Achievement"
      ],
      "name": "Atelier numérique",
      "description": "A badge for the digital workshop.",
      "criteria": {
        "narrative": "Attend the three sessions.\\n\\n* build a page"
      },
      "achievementType": "Badge",
      "alignment": [
        {
          "type": [
            "Alignment"
          ],
          "targetName": "Digital literacy",
          "targetUrl": "https://badges.example.org/competencies/evry/NUM-1",
          "targetCode": "NUM-1",
          "targetFramework": "Évry learning city"
        }
      ],
      "inLanguage": "fr",
      "tag": [
        "numérique"
      ]
    }
  },
  "credentialStatus": {
    "id": "https://badges.example.org/issuers/mediatheque-evry/status/1#90210",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "90210",
    "statusListCredential": "https://badges.example.org/issuers/mediatheque-evry/status/1"
  }
}"""


@pytest.fixture(scope="module")
def validator() -> Draft201909Validator:
    return Draft201909Validator(json.loads(BUNDLED_SCHEMA.read_text(encoding="utf-8")))


def _minimal(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": CREDENTIAL_ID,
        "issuer": ISSUER,
        "achievement": ACHIEVEMENT,
        "recipient": RECIPIENT,
        "valid_from": datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
    }
    arguments.update(overrides)
    return build_credential(**arguments)


def _full() -> dict[str, Any]:
    """Every optional input filled in."""
    endorsement = build_endorsement_credential(
        credential_id="urn:uuid:0d3c5c2e-1111-4a1b-9c1e-222233334444",
        issuer=IssuerProfile(id="https://territory.example.org/t/evry", name="Évry ville apprenante"),
        subject_id=ISSUER.id,
        name="Trusted issuer",
        valid_from="2026-01-01T00:00:00Z",
        endorsement_comment="A member of the **learning city** registry.",
    )
    creator = IssuerProfile(
        id="https://badges.example.org/issuers/mairie",
        name="Mairie",
        phone="+33 1 00 00 00 00",
        description="Town hall",
        image=Image("https://badges.example.org/img/mairie.png", "logo"),
        address=Address(
            country="France",
            country_code="FR",
            region="Île-de-France",
            locality="Évry-Courcouronnes",
            street_address="Place des Droits de l'Homme",
            postal_code="91000",
            latitude=48.63,
            longitude=2.44,
        ),
        other_identifiers=(IdentifierEntry("21910228700015", "ext:SIRET"),),
        official="Le maire",
        parent_org=IssuerProfile(id="did:web:territory.example.org", name="Agglomération"),
        endorsements=(endorsement,),
    )
    achievement = AchievementDefinition(
        id="urn:uuid:8a1d3b4c-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        name="Bénévole",
        description="Volunteering badge",
        criteria_id="https://badges.example.org/achievements/benevole/criteria",
        criteria_narrative="At least 20 hours.",
        image=Image("data:image/png;base64,iVBORw0KGgo=", "badge"),
        achievement_type="ext:CivicEngagement",
        alignments=(Alignment("Engagement", "https://esco.example.org/skill/1", target_type="ceasn:Competency"),),
        tags=("civic", "", "volunteer"),
        in_language="fr",
        creator=creator,
        version="2",
        human_code="BEN-2",
        field_of_study="Citizenship",
        specialization="Associations",
        credits_available=1.5,
        other_identifiers=(IdentifierEntry("BEN", "identifier"),),
        related=(
            Related(
                "https://badges.example.org/ob2/badgeclass/1",
                "Open Badges v2p0",
                "fr",
                ("https://w3id.org/openbadges#BadgeClass",),
            ),
        ),
        result_descriptions=(
            ResultDescription(
                "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001",
                "Hours",
                "RawScore",
                value_min="0",
                value_max="100",
            ),
            ResultDescription(
                "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002",
                "Level",
                "RubricCriterionLevel",
                allowed_values=("bronze", "silver"),
                required_level="urn:uuid:aaaaaaaa-0000-4000-8000-000000000003",
                rubric_criterion_levels=(
                    RubricCriterionLevel(
                        "urn:uuid:aaaaaaaa-0000-4000-8000-000000000003", "Bronze", "First level", "1", "10"
                    ),
                ),
            ),
        ),
    )
    return build_credential(
        credential_id=CREDENTIAL_ID,
        issuer=creator,
        achievement=achievement,
        recipient=Recipient(
            email="x@example.org", salt="s", did="did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
        ),
        valid_from="2026-03-14T09:30:00+01:00",
        valid_until=datetime(2027, 3, 14, tzinfo=UTC),
        awarded_date=datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=1))),
        name="Bénévole — 2026",
        description="Awarded for volunteering",
        image=Image("https://badges.example.org/c/abc.png"),
        subject_image=Image("https://badges.example.org/c/abc-baked.png", "baked"),
        evidence=(
            Evidence(id="https://photos.example.org/1", name="Photo", narrative="At the *fair*", genre="Photo"),
            Evidence(
                id="https://ob2.example.org/assertions/9",
                name="Original OB 2.0 badge",
                extra_types=("https://w3id.org/openbadges#Assertion",),
            ),
        ),
        results=(
            Result(result_description="urn:uuid:aaaaaaaa-0000-4000-8000-000000000001", value="24"),
            Result(status="Completed"),
        ),
        narrative="Helped at the library fair.\tTwice.",
        activity_start_date="2026-02-01T08:00:00Z",
        activity_end_date="2026-02-28T18:00:00Z",
        credits_earned=1.5,
        license_number="L-1",
        role="Helper",
        term="Spring",
        source=IssuerProfile(id="https://badges.example.org/issuers/asso", name="Association"),
        credential_status=status_list_entry(LIST_URL, 7),
        endorsements=(endorsement,),
        include_credential_schema=True,
    )


def _walk(node: object) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_credential_is_pinned_byte_for_byte() -> None:
    document = _minimal(credential_status=status_list_entry(LIST_URL, 90210))
    assert json.dumps(document, indent=2, ensure_ascii=False) == PINNED
    assert to_json(document) == json.dumps(json.loads(PINNED), ensure_ascii=False, separators=(",", ":"))


def test_identity_hash_matches_the_spec_examples() -> None:
    assert identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )
    assert identity_hash("jjefferson18@example.com", "FleurDeSel") == (
        "sha256$658625b25ab3d75d613ca97d9a5a77f70e2192feca5557f4ad09a4d4f121f5fc"
    )
    assert identity_hash("a@example.com", None, "md5") == "md5$" + hashlib.md5(b"a@example.com").hexdigest()
    with pytest.raises(DocumentError):
        identity_hash("a@example.com", "s", "sha1")


def test_email_identifier_is_hashed_with_the_salt_after_normalisation() -> None:
    identifier = email_identity_object("  Learner@Example.ORG ", "Zq8pY2w1")
    expected = hashlib.sha256(b"learner@example.orgZq8pY2w1").hexdigest()
    assert identifier == {
        "type": "IdentityObject",
        "identityHash": f"sha256${expected}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "Zq8pY2w1",
    }
    assert email_key(" A@B.C ") == "a@b.c"


@pytest.mark.parametrize(
    ("email", "salt", "code"), [("no-at-sign", "s", "recipient_email"), ("a@b.c", "", "recipient_salt")]
)
def test_email_identifier_refuses_bad_input(email: str, salt: str, code: str) -> None:
    with pytest.raises(DocumentError) as excinfo:
        email_identity_object(email, salt)
    assert excinfo.value.code == code


def test_minimal_and_full_credentials_validate_against_the_official_schema(validator: Draft201909Validator) -> None:
    for document in (_minimal(), _full()):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []


def test_bundled_schema_is_the_shared_official_file() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"shared schema not found at {SHARED_SCHEMA}")
    assert BUNDLED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_every_emitted_term_is_defined_by_the_contexts() -> None:
    check_safe_mode(_minimal())
    check_safe_mode(_full())
    check_safe_mode(issuer_profile_document(ISSUER))
    check_safe_mode(achievement_document(ACHIEVEMENT))


def test_extensions_context_only_when_an_extension_type_is_used() -> None:
    assert _minimal()["@context"] == [V2, OB]
    assert _minimal(credential_status=status_list_entry(LIST_URL, 1))["@context"] == [V2, OB]
    assert _minimal(include_credential_schema=True)["@context"] == [V2, OB, EXTENSIONS]
    revocation_list = {"id": "https://badges.example.org/revocations/1", "type": "1EdTechRevocationList"}
    assert _minimal(credential_status=revocation_list)["@context"] == [V2, OB, EXTENSIONS]
    assert _minimal(refresh_service={"id": "https://x.example/r", "type": "1EdTechCredentialRefresh"})["@context"] == [
        V2,
        OB,
        EXTENSIONS,
    ]


def test_nulls_and_empty_lists_are_omitted_and_lists_stay_lists() -> None:
    document = _minimal(achievement=AchievementDefinition("urn:uuid:1-2", "N", "D", criteria_narrative="C"))
    achievement = document["credentialSubject"]["achievement"]
    assert set(achievement) == {"id", "type", "name", "description", "criteria"}
    assert "description" not in document and "evidence" not in document and "endorsement" not in document
    full = _full()
    assert full["credentialSubject"]["achievement"]["tag"] == ["civic", "volunteer"]
    for key, value in _walk(full):
        assert value is not None and value != [] and value != {}, key
        if key in ("alignment", "evidence", "result", "otherIdentifier", "endorsement", "tag", "related"):
            assert isinstance(value, list), key
    assert isinstance(full["credentialSubject"]["identifier"], list)


def test_jti_and_endorsement_jwt_are_never_emitted() -> None:
    keys = {key for key, _ in _walk(_full())}
    assert "jti" not in keys and "endorsementJwt" not in keys


def test_full_credential_carries_every_input() -> None:
    document = _full()
    subject = document["credentialSubject"]
    assert subject["id"].startswith("did:key:")
    assert subject["identifier"][0]["identityType"] == "emailAddress"
    assert document["validFrom"] == "2026-03-14T09:30:00+01:00"
    assert document["validUntil"] == "2027-03-14T00:00:00Z"
    assert document["awardedDate"] == "2026-02-28T23:00:00Z"
    assert document["issuer"]["address"]["geo"] == {"type": "GeoCoordinates", "latitude": 48.63, "longitude": 2.44}
    assert document["issuer"]["otherIdentifier"] == [
        {"type": "IdentifierEntry", "identifier": "21910228700015", "identifierType": "ext:SIRET"}
    ]
    achievement = subject["achievement"]
    assert achievement["criteria"] == {
        "id": "https://badges.example.org/achievements/benevole/criteria",
        "narrative": "At least 20 hours.",
    }
    assert achievement["related"][0]["type"] == ["Related", "https://w3id.org/openbadges#BadgeClass"]
    assert document["evidence"][1]["type"] == ["Evidence", "https://w3id.org/openbadges#Assertion"]
    assert document["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]
    assert document["endorsement"][0]["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert subject["narrative"] == "Helped at the library fair.\tTwice."


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0c", "\x1b", "\r", "\x7f", "\x85", "\ud800"])
def test_control_characters_are_refused_with_the_field_named(char: str) -> None:
    achievement = AchievementDefinition("urn:uuid:1-2", "N", f"Badge{char}description", criteria_narrative="C")
    with pytest.raises(DocumentError) as excinfo:
        _minimal(achievement=achievement)
    assert excinfo.value.code == "control_character"
    assert "$.credentialSubject.achievement.description" in excinfo.value.message
    with pytest.raises(DocumentError):
        issuer_profile_document(IssuerProfile(id="https://x.example/i", name="I", description=f"a{char}b"))


def test_the_refused_characters_are_the_controls_and_surrogates_of_unicode_but_tab_and_newline() -> None:
    # Every code point, against the Unicode database the rule is stated in.
    everything = "".join(map(chr, range(0x110000)))
    expected = [ch for ch in everything if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n"]
    assert forbidden_characters(everything) == expected
    refused = frozenset(expected)  # a set: a list would be scanned once per code point (30 s, not 0.3)
    assert clean_text(everything) == "".join(ch for ch in everything.replace("\r", "\n") if ch not in refused)


def test_clean_text_keeps_tab_and_newline_and_converts_carriage_returns() -> None:
    assert clean_text("a\r\nb\rc\td\x00e\x1bf\x7fg\n") == "a\nb\nc\tdefg\n"
    achievement = AchievementDefinition("urn:uuid:1-2", clean_text("A\x07B"), "D", criteria_narrative="C")
    assert _minimal(achievement=achievement)["credentialSubject"]["achievement"]["name"] == "AB"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"recipient": Recipient()}, "missing_recipient"),
        ({"recipient": Recipient(email="a@b.c")}, "recipient_salt"),
        ({"credential_id": "not a uri"}, "invalid_uri"),
        ({"credential_id": ""}, "missing_field"),
        ({"valid_from": datetime(2026, 1, 1)}, "invalid_timestamp"),
        ({"valid_from": "2026-01-01"}, "invalid_timestamp"),
        ({"valid_from": "2026-01-01T00:00:00"}, "invalid_timestamp"),
        ({"valid_until": "2025-01-01T00:00:00Z"}, "validity_order"),
        ({"results": (Result(status="Done"),)}, "invalid_enum"),
        ({"credential_status": {"type": "BitstringStatusListEntry"}}, "missing_field"),
        ({"endorsements": ({"type": ["VerifiableCredential"]},)}, "invalid_endorsement"),
    ],
)
def test_invalid_credential_inputs_are_refused(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(DocumentError) as excinfo:
        _minimal(**overrides)
    assert excinfo.value.code == code


@pytest.mark.parametrize(
    ("achievement", "code"),
    [
        (AchievementDefinition("urn:uuid:1", "N", "D"), "missing_field"),
        (AchievementDefinition("urn:uuid:1", "", "D", criteria_narrative="C"), "missing_field"),
        (
            AchievementDefinition("urn:uuid:1", "N", "D", criteria_narrative="C", achievement_type="Diplome"),
            "invalid_enum",
        ),
        (AchievementDefinition("urn:uuid:1", "N", "D", criteria_id="criteria page"), "invalid_uri"),
        (
            AchievementDefinition("urn:uuid:1", "N", "D", criteria_narrative="C", alignments=(Alignment("T", ""),)),
            "missing_field",
        ),
        (
            AchievementDefinition(
                "urn:uuid:1",
                "N",
                "D",
                criteria_narrative="C",
                alignments=(Alignment("T", "https://x", target_type="X"),),
            ),
            "invalid_enum",
        ),
    ],
)
def test_invalid_achievements_are_refused(achievement: AchievementDefinition, code: str) -> None:
    with pytest.raises(DocumentError) as excinfo:
        achievement_document(achievement)
    assert excinfo.value.code == code


def test_extension_enumeration_values_are_accepted() -> None:
    document = achievement_document(
        AchievementDefinition("urn:uuid:1", "N", "D", criteria_narrative="C", achievement_type="ext:Workshop-2")
    )
    assert document["achievementType"] == "ext:Workshop-2"


def test_address_needs_both_coordinates() -> None:
    with pytest.raises(DocumentError) as excinfo:
        issuer_profile_document(IssuerProfile(id="https://x.example/i", name="I", address=Address(latitude=1.0)))
    assert excinfo.value.code == "invalid_address"


def test_endorsement_credential_validates_against_the_official_definition() -> None:
    schema = json.loads(BUNDLED_SCHEMA.read_text(encoding="utf-8"))
    endorsement_validator = Draft201909Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/EndorsementCredential"}
    )
    document = build_endorsement_credential(
        credential_id="urn:uuid:0d3c5c2e-1111-4a1b-9c1e-222233334444",
        issuer=ISSUER,
        subject_id=ACHIEVEMENT.id,
        name="Endorsed",
        valid_from="2026-01-01T00:00:00Z",
        valid_until="2027-01-01T00:00:00Z",
        endorsement_comment="Good",
        include_credential_schema=True,
    )
    assert list(endorsement_validator.iter_errors(document)) == []
    assert document["@context"] == [V2, OB, EXTENSIONS]
    assert document["credentialSubject"] == {
        "id": ACHIEVEMENT.id,
        "type": ["EndorsementSubject"],
        "endorsementComment": "Good",
    }
    check_safe_mode(document)


def test_published_profile_and_achievement_documents_carry_the_contexts() -> None:
    profile = issuer_profile_document(ISSUER)
    assert profile["@context"] == [V2, OB]
    assert profile["id"] == ISSUER.id and profile["type"] == ["Profile"]
    achievement = achievement_document(ACHIEVEMENT)
    assert achievement["@context"] == [V2, OB]
    assert achievement["type"] == ["Achievement"] and achievement["criteria"]["narrative"].startswith("Attend")


def test_parse_timestamp_reads_zones_and_refuses_dates_without_time() -> None:
    assert parse_timestamp("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2026-01-01") is None
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp(20260101) is None
