"""Fixtures of the signing-keys tests: organisations and the test KEK as bytes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from badgehub.extensions import db
from badgehub.organisations.models import Organisation, OrganisationType, Sector

TEST_KEK_BYTES = bytes.fromhex("0f" * 32)


@pytest.fixture
def kek() -> bytes:
    return TEST_KEK_BYTES


@pytest.fixture
def make_organisation(ctx: Any) -> Callable[[str], Organisation]:
    def make(slug: str) -> Organisation:
        organisation = Organisation(slug=slug, name=slug.title(), type=OrganisationType.ASSOCIATION,
                                    sector=Sector.COMMUNITY)
        db.session.add(organisation)
        db.session.flush()
        return organisation

    return make


def secret_forms(private_key: Any) -> list[bytes | str]:
    """Every usual spelling of a private key: PKCS#8 DER (raw, hex, base64), PEM, and for Ed25519 the seed."""
    der = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    forms: list[bytes | str] = [der, der.hex(), base64.b64encode(der).decode(), pem.splitlines()[1]]
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        forms += [seed, seed.hex(), base64.b64encode(seed).decode().rstrip("="),
                  base64.urlsafe_b64encode(seed).decode().rstrip("=")]
    else:
        d = private_key.private_numbers().d
        forms += [format(d, "x"), str(d)]
    return forms
