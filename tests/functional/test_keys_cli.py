"""``badgehub keys``: list, rotate, compromised — public parts only, the KEK from the configuration."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select

from badgehub.audit.models import AuditEvent
from badgehub.extensions import db
from badgehub.keys.cli import keys_group
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import create_organisation_keys, load_private_key, published_keys
from badgehub.organisations.models import Organisation, OrganisationType, Sector

KEK = bytes.fromhex("0f" * 32)

@pytest.fixture
def cli_app(fresh_database, make_app, tmp_path):
    """An app on its own freshly migrated database, with an app context pushed.

    The commands commit, and the shared ``app`` fixture's per-test rollback does not cover commits
    (Flask-SQLAlchemy's ``get_bind`` returns the engine, not the joined connection; reported to the lead),
    so these tests take a database of their own instead of leaking rows into everyone else's.
    """
    application = make_app(fresh_database(), tmp_path)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def runner(cli_app):
    return cli_app.test_cli_runner()


@pytest.fixture
def organisation(cli_app):
    org = Organisation(slug="atelier", name="Atelier", type=OrganisationType.ASSOCIATION, sector=Sector.COMMUNITY)
    db.session.add(org)
    db.session.flush()
    create_organisation_keys(org, KEK)
    db.session.commit()
    return org


def invoke(runner, *args):
    result = runner.invoke(keys_group, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _secrets_of(keys):
    forms = []
    for key in keys:
        private = load_private_key(key, KEK)
        der = private.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        forms += [der.hex(), base64.b64encode(der).decode(),
                  private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode().splitlines()[1]]
        if isinstance(private, ed25519.Ed25519PrivateKey):
            seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            forms += [seed.hex(), base64.urlsafe_b64encode(seed).decode().rstrip("=")]
        else:
            forms += [format(private.private_numbers().d, "x")]
    return forms


def test_list_shows_ids_algorithms_states_and_public_keys_only(runner, organisation):
    keys = published_keys(organisation)
    secrets = _secrets_of(keys)
    result = invoke(runner, "list", "--organisation", "atelier")
    assert result.exit_code == 0, result.output
    for key in keys:
        assert re.search(rf"^{key.key_id}\s+{key.algorithm.value}\s+active\s+created ", result.output, re.M)
    ed = next(k for k in keys if k.algorithm is KeyAlgorithm.ED25519)
    assert ed.public_key in result.output
    assert all(secret not in result.output for secret in secrets)
    assert '"d"' not in result.output


def test_list_json_gives_public_parts_only(runner, organisation):
    keys = published_keys(organisation)
    result = invoke(runner, "list", "--organisation", "atelier", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {item["key_id"] for item in listed} == {k.key_id for k in keys}
    by_algorithm = {item["algorithm"]: item for item in listed}
    assert by_algorithm["ed25519"]["public_key"].startswith("z6Mk")
    assert by_algorithm["ed25519"]["purpose"] == "data_integrity"
    assert set(by_algorithm["rsa-2048"]["public_key"]) == {"kty", "n", "e"}
    assert by_algorithm["rsa-2048"]["purpose"] == "vc_jwt"
    assert all(item["state"] == "active" and item["retired_at"] is None for item in listed)
    assert all(secret not in result.output for secret in _secrets_of(keys))


def test_rotate_makes_new_active_keys_and_keeps_the_old_ones_listed_as_retired(runner, organisation):
    old = {k.key_id for k in published_keys(organisation)}
    result = invoke(runner, "rotate", "--organisation", "atelier")
    assert result.exit_code == 0, result.output
    new_ids = set(re.findall(r"key-[a-z2-7]{8}", result.output))
    assert len(new_ids) == 2 and not new_ids & old
    listed = json.loads(invoke(runner, "list", "--organisation", "atelier", "--json").output)
    states = {item["key_id"]: item["state"] for item in listed}
    assert states == {**dict.fromkeys(old, "retired"), **dict.fromkeys(new_ids, "active")}


def test_compromised_active_key_is_recorded_and_replaced(runner, organisation):
    ed = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.ED25519)
    result = invoke(runner, "compromised", ed.key_id, "--since", "2025-03-01", "--reason", "laptop stolen")
    assert result.exit_code == 0, result.output
    assert f"{ed.key_id} is compromised since 2025-03-01T00:00:00+00:00" in result.output
    db.session.expire_all()
    stored = db.session.scalar(select(SigningKey).where(SigningKey.key_id == ed.key_id))
    assert stored.state is KeyState.COMPROMISED
    assert stored.compromised_since == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert stored.compromise_reason == "laptop stolen"
    active = [k for k in published_keys(organisation)
              if k.algorithm is KeyAlgorithm.ED25519 and k.state is KeyState.ACTIVE]
    assert len(active) == 1 and active[0].key_id in result.output
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signing_key.compromised")) is not None


def test_compromised_accepts_a_date_time_with_offset(runner, organisation):
    rsa_key = next(k for k in published_keys(organisation) if k.algorithm is KeyAlgorithm.RSA_2048)
    result = invoke(runner, "compromised", rsa_key.key_id, "--since", "2025-03-01T12:00:00+02:00", "--reason", "x")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(SigningKey, rsa_key.id).compromised_since == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


def test_compromised_refuses_a_malformed_date(runner, organisation):
    key = published_keys(organisation)[0]
    result = invoke(runner, "compromised", key.key_id, "--since", "yesterday", "--reason", "x")
    assert result.exit_code == 2
    assert "ISO 8601" in result.output
    db.session.expire_all()
    assert db.session.get(SigningKey, key.id).state is KeyState.ACTIVE


def test_unknown_organisation_is_reported(runner):
    result = invoke(runner, "list", "--organisation", "nobody")
    assert result.exit_code == 1
    assert "no organisation with slug 'nobody'" in result.output


def test_rotate_without_a_kek_says_run_badgehub_init(runner, organisation, cli_app):
    cli_app.config["KEK"] = None
    result = invoke(runner, "rotate", "--organisation", "atelier")
    assert result.exit_code == 1
    assert "run `badgehub init`" in result.output
    assert all(k.state is KeyState.ACTIVE for k in published_keys(organisation))


def test_compromised_with_an_unknown_key_id_is_reported(runner):
    result = invoke(runner, "compromised", "key-nothere0", "--since", "2025-01-01", "--reason", "x")
    assert result.exit_code == 1
    assert "no signing key" in result.output.lower()
