"""Status lists: index allocation that never reuses an index, the signed list and its cache, local resolution."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import current_app

from badgehub.credentials.status_list import decode_status_list, get_bit, set_bit
from badgehub.db import utcnow
from badgehub.issuing.resolver import StatusListResolver
from badgehub.issuing.service import revoke_credential
from badgehub.issuing.status_lists import (
    LIST_VALIDITY,
    TTL_MS,
    RefreshResult,
    draw_free_index,
    fresh_stored_copy,
    refresh_status_lists,
    servable_copy,
    set_status,
    signed_status_list,
    status_list_credential,
)
from badgehub.keys.models import KeyAlgorithm
from badgehub.keys.resolver import OwnIssuerResolver
from badgehub.keys.service import active_key, declare_compromised, published_keys, rotate_keys
from badgehub.verification.pipeline import verify
from badgehub.verification.report import CheckStatus
from badgehub.verification.resolver import ResolutionError
from tests.conftest import TEST_KEK


def bitstring_of(signed_text: str) -> bytes:
    return decode_status_list(json.loads(signed_text)["credentialSubject"]["encodedList"])


def all_set_but(size: int, *free: int) -> bytes:
    bits = bytes([0xFF]) * (size // 8)
    for index in free:
        bits = set_bit(bits, index, False)
    return bits


def test_a_free_index_is_neither_held_by_a_credential_nor_set(issue):
    held = issue()
    status_list = held.status_list
    spare = (held.status_index + 4321) % status_list.size
    status_list.bits = all_set_but(status_list.size, held.status_index, spare)
    # Few allocated: candidates are checked one by one against the database.
    assert draw_free_index(status_list) == spare
    # Nearly full: the taken indexes are loaded at once.
    status_list.allocated = status_list.size - 1
    assert draw_free_index(status_list) == spare


def test_the_signed_list_is_cached_until_a_bit_changes(issue, ctx):
    status_list = issue().status_list
    first = signed_status_list(status_list, config=current_app.config)
    assert signed_status_list(status_list, config=current_app.config) == first
    assert status_list_credential(status_list, config=current_app.config) == first.text
    assert status_list.signed_etag == first.etag and status_list.signed_version == status_list.version
    set_status(status_list, 7, True)
    changed = signed_status_list(status_list, config=current_app.config)
    assert changed.etag != first.etag and status_list.signed_version == status_list.version


def test_the_signed_list_is_signed_again_before_it_expires(issue):
    status_list = issue().status_list
    first = signed_status_list(status_list, config=current_app.config)
    later = utcnow() + LIST_VALIDITY / 2 + dt.timedelta(minutes=1)
    again = signed_status_list(status_list, now=later, config=current_app.config)
    assert again.etag != first.etag
    document = json.loads(again.text)
    assert document["validUntil"] == (later + LIST_VALIDITY).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_key_rotation_signs_the_list_with_the_new_key(issue, world, resolver):
    credential = issue()
    first = json.loads(signed_status_list(credential.status_list, config=current_app.config).text)
    [new_ed25519, _rsa] = rotate_keys(world.a, bytes.fromhex(TEST_KEK), None)
    second = json.loads(signed_status_list(credential.status_list, config=current_app.config).text)
    assert second["proof"][0]["verificationMethod"].endswith("#" + new_ed25519.key_id)
    assert first["proof"][0]["verificationMethod"] != second["proof"][0]["verificationMethod"]
    # The credential signed by the retired key and its list signed by the new one both still verify.
    report = verify(credential.document_json, resolver, dt.datetime.now(dt.UTC))
    assert report.verified and report.check("status").status is CheckStatus.PASSED


def test_the_list_credential_says_what_the_specification_asks(issue, world):
    credential = issue()
    status_list = credential.status_list
    document = json.loads(signed_status_list(status_list, config=current_app.config).text)
    url = f"http://localhost/issuers/{world.a.slug}/status/1"
    assert document["id"] == url and document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["issuer"] == json.loads(credential.document_json)["issuer"]["id"]
    assert document["validFrom"] == status_list.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    subject = document["credentialSubject"]
    assert (subject["id"], subject["type"], subject["statusPurpose"], subject["ttl"]) == (
        f"{url}#list", "BitstringStatusList", "revocation", TTL_MS)
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_reading_without_store_leaves_the_cache_alone(issue):
    status_list = issue().status_list
    kept = status_list.signed_credential
    set_status(status_list, 7, True)
    signed_status_list(status_list, store=False, config=current_app.config)
    assert status_list.signed_credential == kept and status_list.signed_version == status_list.version - 1


def test_the_award_that_opens_a_list_signs_it_and_a_revocation_signs_it_again(issue, world):
    credential = issue()
    status_list = credential.status_list
    key_id = active_key(world.a, KeyAlgorithm.ED25519).key_id
    first = fresh_stored_copy(status_list, key_id)
    assert first is not None and status_list.signed_version == status_list.version
    revoke_credential(credential, note="Erreur", actor_id=None, config=current_app.config)
    second = fresh_stored_copy(status_list, key_id)
    assert second is not None and second.etag != first.etag and status_list.signed_version == status_list.version
    assert get_bit(bitstring_of(second.text), credential.status_index)


def test_a_servable_copy_is_current_unexpired_and_not_signed_by_a_compromised_key(issue, world):
    status_list = issue().status_list
    keys = published_keys(world.a)
    stored = servable_copy(status_list, keys)
    assert stored is not None
    # Signed in its second half of validity, or by a key retired since: still true, still served.
    assert servable_copy(status_list, keys, utcnow() + LIST_VALIDITY * 3 / 4) == stored
    rotate_keys(world.a, bytes.fromhex(TEST_KEK), None)
    assert servable_copy(status_list, published_keys(world.a)) == stored
    assert servable_copy(status_list, keys, utcnow() + LIST_VALIDITY + dt.timedelta(seconds=1)) is None
    [signer] = [key for key in published_keys(world.a) if key.key_id == status_list.signed_key_id]
    declare_compromised(signer, utcnow() - dt.timedelta(days=1), None, "Stolen")
    assert servable_copy(status_list, published_keys(world.a)) is None
    set_status(status_list, 7, True)
    assert servable_copy(status_list, keys) is None


def test_the_refresh_signs_only_the_lists_that_need_it(issue, world):
    status_list = issue().status_list
    assert refresh_status_lists(config=current_app.config) == RefreshResult(signed=0, fresh=1, unsigned=0)
    before = status_list.signed_etag
    assert refresh_status_lists(now=utcnow() + LIST_VALIDITY / 2 + dt.timedelta(minutes=1),
                                config=current_app.config).signed == 1
    assert status_list.signed_etag != before
    [new_ed25519, _rsa] = rotate_keys(world.a, bytes.fromhex(TEST_KEK), None)
    assert refresh_status_lists(organisation=world.b, config=current_app.config).signed == 0
    assert refresh_status_lists(organisation=world.a, config=current_app.config).signed == 1
    assert status_list.signed_key_id == new_ed25519.key_id


def test_the_local_resolver_answers_our_lists_only(issue, world, ctx):
    issue()
    resolver = StatusListResolver(ctx.config)
    for scheme in ("http", "https"):
        document = resolver.fetch_document(f"{scheme}://localhost/issuers/{world.a.slug}/status/1")
        assert document["type"][1] == "BitstringStatusListCredential"
    for url in (f"http://localhost/issuers/{world.a.slug}/status/2", "http://localhost/issuers/nobody/status/1",
                f"http://localhost/issuers/{world.b.slug}/status/1"):
        with pytest.raises(ResolutionError) as raised:
            resolver.fetch_document(url)
        assert raised.value.code == "not_found"
    for url in (f"https://elsewhere.example/issuers/{world.a.slug}/status/1", f"http://localhost/issuers/{world.a.slug}",
                f"http://localhost/issuers/{world.a.slug}/status/1?x=1", f"http://localhost/issuers/{world.a.slug}/status/0"):
        with pytest.raises(ResolutionError) as raised:
            resolver.fetch_document(url)
        assert raised.value.code == "unsupported"
    for question in (resolver.resolve_verification_method, resolver.resolve_jwt_key):
        with pytest.raises(ResolutionError):
            question(f"did:web:localhost:issuers:{world.a.slug}#key-aaaaaaaa")


def test_the_stored_copy_is_fresh_only_for_its_version_key_and_time(issue, world):
    status_list = issue().status_list
    key_id = active_key(world.a, KeyAlgorithm.ED25519).key_id
    signed = signed_status_list(status_list,
                                config=current_app.config)  # the award that opened the list signed it already
    assert fresh_stored_copy(status_list, key_id) == signed
    assert fresh_stored_copy(status_list, "key-otherkey") is None  # another active key
    assert fresh_stored_copy(status_list, None) is None  # no active key at all
    half_way = utcnow() + LIST_VALIDITY / 2 + dt.timedelta(seconds=1)
    assert fresh_stored_copy(status_list, key_id, half_way) is None  # signed again before it expires
    set_status(status_list, 7, True)
    assert fresh_stored_copy(status_list, key_id) is None  # a bit changed


def test_the_local_resolver_shares_what_the_issuers_resolver_read(issue, world, ctx):
    from sqlalchemy import event

    from badgehub.extensions import db

    status_list = issue().status_list
    signed = signed_status_list(status_list, config=current_app.config)
    issuers = OwnIssuerResolver(ctx.config)
    issuers.remember(world.a)
    issuers.published_keys(world.a)
    resolver = StatusListResolver(ctx.config, issuers=issuers, held=(status_list,))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        document = resolver.fetch_document(f"https://localhost/issuers/{world.a.slug}/status/1")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert document == json.loads(signed.text)
    assert statements == []
    # A list it does not hold is read, and an unknown issuer is still unknown.
    with pytest.raises(ResolutionError) as raised:
        resolver.fetch_document(f"https://localhost/issuers/{world.a.slug}/status/2")
    assert raised.value.code == "not_found"
    with pytest.raises(ResolutionError) as raised:
        resolver.fetch_document("https://localhost/issuers/nobody/status/1")
    assert raised.value.code == "not_found"
