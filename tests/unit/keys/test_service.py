"""Signing keys of organisations: creation, publication, rotation, compromise, decryption for signing."""

from __future__ import annotations

import datetime as dt
import logging
import re

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.exc import IntegrityError

from badgehub.audit.models import AuditEvent
from badgehub.credentials.data_integrity import sign_data_integrity, verify_data_integrity_proof
from badgehub.credentials.keys import ed25519_public_key_from_multikey, public_key_from_jwk
from badgehub.db import utcnow
from badgehub.errors import ValidationError
from badgehub.extensions import db
from badgehub.keys.crypto import encrypt_private_key, signing_key_aad
from badgehub.keys.errors import (
    InvalidCompromiseDate,
    KeyAlreadyCompromised,
    KeyDecryptionFailed,
    KeyNotActive,
    KeysAlreadyExist,
    NoActiveKey,
    SigningKeyNotFound,
)
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import (
    accepts_signature_made_at,
    active_key,
    create_organisation_keys,
    declare_compromised,
    get_key,
    installation_kek,
    load_private_key,
    public_jwk_of,
    public_key_of,
    published_keys,
    rotate_keys,
)
from badgehub.organisations.models import Organisation, OrganisationType, Sector

from .conftest import secret_forms

KEY_ID = re.compile(r"^key-[a-z2-7]{8}$")
OTHER_KEK = bytes(range(32))


@pytest.fixture(autouse=True)
def _in_a_request(ctx):
    # As a view calls the service. Also needed because the app's locale selector reads the request: a
    # BadgeHubError built in a bare app context raises RuntimeError (reported; see tests/functional/test_keys_cli.py).
    with ctx.test_request_context():
        yield


def _audit(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_create_organisation_keys_makes_one_active_key_per_algorithm(make_organisation, kek):
    org = make_organisation("maison")
    keys = create_organisation_keys(org, kek, actor_id=7)
    assert sorted(k.algorithm for k in keys) == [KeyAlgorithm.ED25519, KeyAlgorithm.RSA_2048]
    assert all(k.state is KeyState.ACTIVE and KEY_ID.match(k.key_id) for k in keys)
    assert active_key(org, KeyAlgorithm.ED25519).public_key.startswith("z6Mk")
    jwk = public_jwk_of(active_key(org, KeyAlgorithm.RSA_2048))
    assert jwk["kty"] == "RSA" and jwk["kid"] == active_key(org, KeyAlgorithm.RSA_2048).key_id
    assert set(jwk) == {"kty", "n", "e", "kid"}
    events = _audit("signing_key.created")
    assert {e.subject_id for e in events} == {k.key_id for k in keys}
    assert all(e.actor_id == 7 and e.organisation_id == org.id for e in events)


def test_create_organisation_keys_flushes_a_new_organisation_first(ctx, kek):
    org = Organisation(slug="fresh", name="Fresh", type=OrganisationType.MUSEUM, sector=Sector.CIVIC)
    db.session.add(org)
    keys = create_organisation_keys(org, kek)
    assert org.id is not None and all(k.organisation_id == org.id for k in keys)


def test_create_organisation_keys_twice_is_refused(make_organisation, kek):
    org = make_organisation("twice")
    create_organisation_keys(org, kek)
    with pytest.raises(KeysAlreadyExist):
        create_organisation_keys(org, kek)
    assert len(published_keys(org)) == 2


def test_loaded_ed25519_key_signs_a_credential_that_verifies_with_the_published_multikey(make_organisation, kek):
    org = make_organisation("signer")
    create_organisation_keys(org, kek)
    key = active_key(org, KeyAlgorithm.ED25519)
    private = load_private_key(key, kek)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:2b1f4a8e-0000-4000-8000-000000000009",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:localhost:issuers:signer", "type": ["Profile"], "name": "Signer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "http://localhost/achievements/1", "type": ["Achievement"], "name": "A",
            "description": "D", "criteria": {"narrative": "N"}}},
    }
    signed = sign_data_integrity(credential, private, f"did:web:localhost:issuers:signer#{key.key_id}",
                                 "2026-01-02T00:00:00Z")
    [published] = [k for k in published_keys(org) if k.algorithm is KeyAlgorithm.ED25519]
    verify_data_integrity_proof(signed, signed["proof"][0], ed25519_public_key_from_multikey(published.public_key))
    public_key_of(key).verify(private.sign(b"raw message"), b"raw message")


def test_loaded_rsa_key_signs_an_rs256_jwt_that_verifies_with_the_published_jwk(make_organisation, kek):
    org = make_organisation("jwt-signer")
    create_organisation_keys(org, kek)
    key = active_key(org, KeyAlgorithm.RSA_2048)
    private = load_private_key(key, kek)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    token = jwt.encode({"iss": "did:web:localhost:issuers:jwt-signer"}, private,
                       algorithm=KeyAlgorithm.RSA_2048.jws_alg, headers={"kid": key.key_id})
    published = public_key_from_jwk(public_jwk_of(key))
    assert jwt.decode(token, published, algorithms=["RS256"])["iss"] == "did:web:localhost:issuers:jwt-signer"
    assert jwt.get_unverified_header(token)["kid"] == key.key_id
    other = public_key_from_jwk(public_jwk_of(create_organisation_keys(make_organisation("other"), kek)[1]))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other, algorithms=["RS256"])


def test_rotation_retires_the_old_keys_keeps_them_published_and_makes_new_active_ones(make_organisation, kek):
    org = make_organisation("rotor")
    old = {k.algorithm: k for k in create_organisation_keys(org, kek)}
    new = {k.algorithm: k for k in rotate_keys(org, kek, actor_id=3)}
    for algorithm in KeyAlgorithm:
        assert active_key(org, algorithm).key_id == new[algorithm].key_id != old[algorithm].key_id
        assert new[algorithm].public_key != old[algorithm].public_key
        assert old[algorithm].state is KeyState.RETIRED and old[algorithm].retired_at is not None
    assert [k.key_id for k in published_keys(org)] == [k.key_id for k in (*old.values(), *new.values())]
    with pytest.raises(KeyNotActive):
        load_private_key(old[KeyAlgorithm.ED25519], kek)
    retired = _audit("signing_key.retired")
    assert {(e.subject_id, e.details["replaced_by"]) for e in retired} == {
        (old[a].key_id, new[a].key_id) for a in KeyAlgorithm}


def test_rotation_of_one_algorithm_leaves_the_other_alone(make_organisation, kek):
    org = make_organisation("half")
    old = {k.algorithm: k for k in create_organisation_keys(org, kek)}
    rotate_keys(org, kek, None, algorithms=[KeyAlgorithm.RSA_2048])
    assert active_key(org, KeyAlgorithm.ED25519) is old[KeyAlgorithm.ED25519]
    assert old[KeyAlgorithm.RSA_2048].state is KeyState.RETIRED


def test_rotation_of_an_organisation_without_keys_creates_them(make_organisation, kek):
    org = make_organisation("legacy")
    assert len(rotate_keys(org, kek, None)) == 2
    assert {k.state for k in published_keys(org)} == {KeyState.ACTIVE}


def test_database_refuses_a_second_active_key_for_the_same_algorithm(make_organisation, kek):
    org = make_organisation("unique")
    create_organisation_keys(org, kek)
    rotate_keys(org, kek, None)
    rotate_keys(org, kek, None)
    counts = db.session.execute(select(SigningKey.algorithm, func.count()).where(
        SigningKey.organisation_id == org.id, SigningKey.state == KeyState.ACTIVE).group_by(SigningKey.algorithm)).all()
    assert sorted(counts) == [(KeyAlgorithm.ED25519, 1), (KeyAlgorithm.RSA_2048, 1)]
    extra = SigningKey(organisation_id=org.id, key_id="key-duplica7", algorithm=KeyAlgorithm.ED25519,
                       state=KeyState.ACTIVE, public_key="z6Mk", encrypted_private_key=b"\x01")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(extra)
        db.session.flush()


def test_declared_compromise_is_recorded_with_its_date_and_the_key_stays_published(make_organisation, kek):
    org = make_organisation("leaky")
    key = create_organisation_keys(org, kek)[0]
    since = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    declare_compromised(key, since, actor_id=5, reason="laptop stolen")
    db.session.expire_all()
    stored = get_key(key.key_id)
    assert stored.state is KeyState.COMPROMISED
    assert stored.compromised_since == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    assert stored.compromise_reason == "laptop stolen"
    assert stored in published_keys(org)
    with pytest.raises(NoActiveKey):
        active_key(org, stored.algorithm)
    with pytest.raises(KeyNotActive):
        load_private_key(stored, kek)
    [event] = _audit("signing_key.compromised")
    assert event.details == {"key_id": key.key_id, "algorithm": key.algorithm.value, "previous_state": "active",
                             "since": "2025-03-01T10:00:00+00:00", "reason": "laptop stolen"}
    assert accepts_signature_made_at(stored, dt.datetime(2025, 3, 1, 9, 59, tzinfo=dt.UTC))
    assert not accepts_signature_made_at(stored, dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC))
    assert not accepts_signature_made_at(stored, utcnow())


def test_retired_key_can_be_declared_compromised(make_organisation, kek):
    org = make_organisation("old-leak")
    old = create_organisation_keys(org, kek)[1]
    rotate_keys(org, kek, None)
    declare_compromised(old, utcnow() - dt.timedelta(days=1), None, "backup leaked")
    assert old.state is KeyState.COMPROMISED and old.retired_at is not None
    assert _audit("signing_key.compromised")[0].details["previous_state"] == "retired"


def test_compromise_date_may_only_move_earlier(make_organisation, kek):
    key = create_organisation_keys(make_organisation("again"), kek)[0]
    first = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    declare_compromised(key, first, None, "first")
    with pytest.raises(KeyAlreadyCompromised):
        declare_compromised(key, first + dt.timedelta(days=1), None, "later")
    with pytest.raises(KeyAlreadyCompromised):
        declare_compromised(key, first, None, "same")
    declare_compromised(key, first - dt.timedelta(days=30), None, "found earlier traces")
    assert key.compromised_since == first - dt.timedelta(days=30)


@pytest.mark.parametrize("since", [dt.datetime(2025, 1, 1), utcnow() + dt.timedelta(hours=1)])
def test_naive_or_future_compromise_dates_are_refused(make_organisation, kek, since):
    key = create_organisation_keys(make_organisation("when"), kek)[0]
    with pytest.raises(InvalidCompromiseDate):
        declare_compromised(key, since, None, "reason")
    assert key.state is KeyState.ACTIVE


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_compromise_needs_a_reason(make_organisation, kek, reason):
    key = create_organisation_keys(make_organisation("why"), kek)[0]
    with pytest.raises(ValidationError):
        declare_compromised(key, utcnow(), None, reason)


def test_an_organisations_keys_are_never_returned_for_another(make_organisation, kek):
    a, b = make_organisation("org-a"), make_organisation("org-b")
    keys_a = create_organisation_keys(a, kek)
    rotate_keys(a, kek, None)
    assert published_keys(b) == []
    for algorithm in KeyAlgorithm:
        with pytest.raises(NoActiveKey):
            active_key(b, algorithm)
    keys_b = create_organisation_keys(b, kek)
    assert {k.organisation_id for k in published_keys(b)} == {b.id}
    assert not {k.key_id for k in published_keys(b)} & {k.key_id for k in published_keys(a)}
    assert all(active_key(b, k.algorithm) in keys_b for k in keys_a)


def test_ciphertext_moved_to_another_organisations_row_does_not_decrypt(make_organisation, kek):
    a, b = make_organisation("victim"), make_organisation("thief")
    create_organisation_keys(a, kek)
    create_organisation_keys(b, kek)
    key_a, key_b = active_key(a, KeyAlgorithm.ED25519), active_key(b, KeyAlgorithm.ED25519)
    key_b.encrypted_private_key = key_a.encrypted_private_key
    db.session.flush()
    with pytest.raises(KeyDecryptionFailed):
        load_private_key(key_b, kek)


def test_ciphertext_moved_between_algorithms_or_key_ids_does_not_decrypt(make_organisation, kek):
    org = make_organisation("shuffle")
    create_organisation_keys(org, kek)
    ed, rs = active_key(org, KeyAlgorithm.ED25519), active_key(org, KeyAlgorithm.RSA_2048)
    ed.encrypted_private_key, rs.encrypted_private_key = rs.encrypted_private_key, ed.encrypted_private_key
    for key in (ed, rs):
        with pytest.raises(KeyDecryptionFailed):
            load_private_key(key, kek)


def test_wrong_kek_or_tampered_stored_key_does_not_decrypt(make_organisation, kek):
    key = create_organisation_keys(make_organisation("tamper"), kek)[0]
    with pytest.raises(KeyDecryptionFailed):
        load_private_key(key, OTHER_KEK)
    blob = bytearray(key.encrypted_private_key)
    blob[20] ^= 0xFF
    key.encrypted_private_key = bytes(blob)
    with pytest.raises(KeyDecryptionFailed):
        load_private_key(key, kek)


def test_private_key_never_appears_in_repr_row_or_logs(make_organisation, kek, caplog):
    caplog.set_level(logging.DEBUG)
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(f"{statement} {parameters!r}")

    bind = db.session.get_bind()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        org = make_organisation("secretive")
        keys = create_organisation_keys(org, kek)
        rotate_keys(org, kek, None, algorithms=[KeyAlgorithm.RSA_2048])
        keys = published_keys(org)
        privates = [load_private_key(k, kek) for k in keys if k.state is KeyState.ACTIVE]
        rows = db.session.execute(text("SELECT * FROM signing_keys WHERE organisation_id = :o"), {"o": org.id}).all()
        cells = [cell for row in rows for cell in row]
        events = db.session.execute(text("SELECT details FROM audit_events WHERE organisation_id = :o"),
                                    {"o": org.id}).all()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    sql_log = "\n".join(statements)
    assert "INSERT INTO signing_keys" in sql_log  # the SQL was captured, so the check below means something
    reprs = " ".join(repr(k) for k in keys)
    assert re.fullmatch(r"(<SigningKey key-[a-z2-7]{8} \S+ \S+ organisation_id=\d+> ?)+", reprs)
    for private in privates:
        for form in secret_forms(private):
            for cell in cells:
                if isinstance(cell, bytes | memoryview):
                    assert (form if isinstance(form, bytes) else form.encode()) not in bytes(cell)
                else:
                    assert str(form) not in str(cell)
            if isinstance(form, str):
                assert form not in caplog.text + sql_log
                assert form not in reprs
                assert form not in str(events)


def test_unknown_key_id_is_not_found(ctx):
    with pytest.raises(SigningKeyNotFound):
        get_key("key-nothere0")


def test_installation_kek_reads_the_app_configuration(ctx):
    assert installation_kek(ctx.config) == bytes.fromhex("0f" * 32)
    assert installation_kek({"KEK": "ab" * 32}) == bytes([0xAB]) * 32


def test_deleting_an_organisation_deletes_its_keys(make_organisation, kek):
    org = make_organisation("gone")
    create_organisation_keys(org, kek)
    org_id = org.id
    db.session.expunge_all()
    db.session.execute(delete(Organisation).where(Organisation.id == org_id))
    assert db.session.scalar(select(func.count()).select_from(SigningKey).where(
        SigningKey.organisation_id == org_id)) == 0


def test_key_bound_to_its_row_round_trips_through_the_database(make_organisation, kek):
    org = make_organisation("roundtrip")
    key = create_organisation_keys(org, kek)[0]
    key_id = key.key_id
    db.session.expire_all()
    stored = get_key(key_id)
    private = load_private_key(stored, kek)
    assert encrypt_private_key(private, kek, signing_key_aad(org.id, key_id, stored.algorithm.value)) != \
        stored.encrypted_private_key  # fresh nonce each time
    public_key_of(stored).verify(private.sign(b"m"), b"m")
