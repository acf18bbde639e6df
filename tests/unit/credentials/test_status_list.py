"""W3C Bitstring Status List: encoding, bit order, entries, the list credential and index allocation."""

from __future__ import annotations

import base64
import gzip
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from badgehub.credentials.documents import DocumentError
from badgehub.credentials.status_list import (
    MIN_ENTRIES,
    StatusListError,
    build_status_list_credential,
    decode_status_list,
    encode_status_list,
    get_bit,
    get_status,
    new_status_list,
    parse_status_list_index,
    random_free_index,
    set_bit,
    status_list_entry,
)

LIST_URL = "https://badges.example.org/issuers/mairie/status/1"


def test_new_list_has_the_minimum_size_and_is_all_zero() -> None:
    bits = new_status_list()
    assert len(bits) * 8 == MIN_ENTRIES == 131_072
    assert not any(bits)


def test_lists_shorter_than_the_minimum_are_refused() -> None:
    with pytest.raises(StatusListError) as excinfo:
        new_status_list(MIN_ENTRIES - 8)
    assert excinfo.value.code == "status_list_too_short"
    with pytest.raises(StatusListError):
        encode_status_list(bytes(MIN_ENTRIES // 8 - 1))
    with pytest.raises(StatusListError) as excinfo:
        new_status_list(MIN_ENTRIES + 3)
    assert excinfo.value.code == "status_list_size"


def test_index_zero_is_the_most_significant_bit_of_byte_zero() -> None:
    bits = set_bit(new_status_list(), 0)
    assert bits[0] == 0b1000_0000
    bits = set_bit(new_status_list(), 7)
    assert bits[0] == 0b0000_0001
    bits = set_bit(new_status_list(), 9)
    assert bits[1] == 0b0100_0000
    assert get_bit(bits, 9) and not get_bit(bits, 8) and not get_bit(bits, 10)


def test_set_bit_returns_a_copy_and_can_clear() -> None:
    original = new_status_list()
    revoked = set_bit(original, 42)
    assert not get_bit(original, 42)
    assert get_bit(revoked, 42)
    assert not get_bit(set_bit(revoked, 42, False), 42)


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, 10**9])
def test_out_of_range_indexes_are_refused(index: int) -> None:
    with pytest.raises(StatusListError) as excinfo:
        get_bit(new_status_list(), index)
    assert excinfo.value.code == "status_list_range"
    with pytest.raises(StatusListError):
        set_bit(new_status_list(), index)


def test_encoding_is_multibase_base64url_of_gzip_without_padding() -> None:
    bits = set_bit(new_status_list(), 23)
    encoded = encode_status_list(bits)
    assert encoded.startswith("u")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bits


def test_encoding_is_deterministic() -> None:
    bits = set_bit(new_status_list(), 5)
    assert encode_status_list(bits) == encode_status_list(bytes(bits))


def test_round_trip_keeps_every_set_bit() -> None:
    rng = random.Random(7)
    indexes = {rng.randrange(MIN_ENTRIES) for _ in range(200)}
    bits = new_status_list()
    for index in indexes:
        bits = set_bit(bits, index)
    decoded = decode_status_list(encode_status_list(bits))
    assert {i for i in range(MIN_ENTRIES) if get_bit(decoded, i)} == indexes


def test_shared_example_list_has_exactly_bit_23_set(load_example: Callable[[str], Any]) -> None:
    credential = load_example("bitstring-status-list-credential.json")
    bits = decode_status_list(credential["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == MIN_ENTRIES
    assert [i for i in range(MIN_ENTRIES) if get_bit(bits, i)] == [23]
    assert decode_status_list(encode_status_list(set_bit(new_status_list(), 23))) == bits


def test_unprefixed_statuslist2021_encoding_is_read_leniently() -> None:
    bits = set_bit(new_status_list(), 3)
    unprefixed = encode_status_list(bits)[1:]
    assert decode_status_list(unprefixed) == bits


@pytest.mark.parametrize(
    ("encoded", "code"),
    [
        ("", "status_list_encoding"),
        ("zabc", "status_list_encoding"),
        ("u!!!", "status_list_encoding"),
        ("u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="), "status_list_gzip"),
    ],
)
def test_malformed_encoded_lists_are_refused(encoded: str, code: str) -> None:
    with pytest.raises(StatusListError) as excinfo:
        decode_status_list(encoded)
    assert excinfo.value.code == code


def test_truncated_gzip_is_refused() -> None:
    encoded = encode_status_list(new_status_list())
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    truncated = "u" + base64.urlsafe_b64encode(compressed[:-6]).decode().rstrip("=")
    with pytest.raises(StatusListError) as excinfo:
        decode_status_list(truncated)
    assert excinfo.value.code == "status_list_gzip"


def test_gzip_bomb_is_refused_beyond_the_cap() -> None:
    bomb = gzip.compress(bytes(64 * 1024 * 1024), mtime=0)  # 64 MiB of zeros, ~64 KiB compressed
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(StatusListError) as excinfo:
        decode_status_list(encoded)
    assert excinfo.value.code == "status_list_too_large"


def test_status_values_of_several_bits_are_read_big_endian() -> None:
    bits = set_bit(set_bit(new_status_list(), 2 * 5), 2 * 5 + 1)  # entry 5 of size 2 = 0b11
    bits = set_bit(bits, 2 * 6 + 1)  # entry 6 = 0b01
    assert get_status(bits, 5, 2) == 3
    assert get_status(bits, 6, 2) == 1
    assert get_status(bits, 7, 2) == 0


def test_entry_writes_the_index_as_a_string() -> None:
    entry = status_list_entry(LIST_URL, 1234)
    assert entry == {
        "id": f"{LIST_URL}#1234",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "1234",
        "statusListCredential": LIST_URL,
    }


def test_entry_refuses_bad_purpose_index_and_id() -> None:
    with pytest.raises(StatusListError):
        status_list_entry(LIST_URL, 1, "cancel")
    with pytest.raises(StatusListError):
        status_list_entry(LIST_URL, -1)
    with pytest.raises(StatusListError):
        status_list_entry(LIST_URL, 1, entry_id=LIST_URL)


@pytest.mark.parametrize(("value", "expected"), [("23", 23), (23, 23), ("0", 0)])
def test_index_is_read_from_a_string_or_leniently_from_a_number(value: object, expected: int) -> None:
    assert parse_status_list_index(value) == expected


@pytest.mark.parametrize("value", ["-1", -1, "1e3", "", None, True, 2.5, "٣", "12345678901234"])
def test_bad_indexes_are_refused(value: object) -> None:
    with pytest.raises(StatusListError) as excinfo:
        parse_status_list_index(value)
    assert excinfo.value.code == "status_index_invalid"


def test_list_credential_is_unsigned_and_complete() -> None:
    bits = set_bit(new_status_list(), 99)
    credential = build_status_list_credential(
        LIST_URL,
        "https://badges.example.org/issuers/mairie",
        "revocation",
        bits,
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "https://badges.example.org/issuers/mairie",
        "validFrom": "2026-01-02T01:04:05Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(bits),
        },
    }


def test_list_credential_refuses_naive_timestamps_and_unknown_purposes() -> None:
    bits = new_status_list()
    with pytest.raises(DocumentError):
        build_status_list_credential(LIST_URL, "https://x.example", "revocation", bits, datetime(2026, 1, 1))
    with pytest.raises(StatusListError):
        build_status_list_credential(LIST_URL, "https://x.example", "nope", bits, datetime.now(UTC))


def test_random_free_index_skips_taken_indexes_and_is_reproducible_with_a_seed() -> None:
    taken = {random.Random(1).randrange(MIN_ENTRIES)}
    first = random_free_index(taken, MIN_ENTRIES, random.Random(1))
    assert first not in taken
    assert random_free_index(set(), MIN_ENTRIES, random.Random(99)) == random_free_index(
        set(), MIN_ENTRIES, random.Random(99)
    )


def test_random_free_index_finds_the_last_free_slot() -> None:
    size = 64
    taken = set(range(size)) - {37}
    assert random_free_index(taken, size, random.Random(3)) == 37


def test_random_free_index_reports_a_full_list() -> None:
    with pytest.raises(StatusListError) as excinfo:
        random_free_index(set(range(16)), 16, random.Random(0))
    assert excinfo.value.code == "status_list_full"


def test_random_free_index_uses_the_system_generator_by_default() -> None:
    index = random_free_index(set(), MIN_ENTRIES)
    assert 0 <= index < MIN_ENTRIES
