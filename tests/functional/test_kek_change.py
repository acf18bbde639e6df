"""`badgehub keys change-kek`: every private key re-encrypted under a new KEK, all or none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from badgehub.extensions import db
from badgehub.keys.cli import keys_group
from badgehub.keys.crypto import decrypt_private_key, signing_key_aad
from badgehub.keys.errors import KeyDecryptionFailed
from badgehub.keys.models import SigningKey
from badgehub.keys.service import create_organisation_keys, load_private_key, rotate_keys
from badgehub.organisations.models import Organisation, OrganisationType, Sector

OLD = "0f" * 32


@pytest.fixture
def cli_app(fresh_database, make_app, tmp_path):
    application = make_app(fresh_database(), tmp_path, KEYS_DIR=tmp_path / "keys")
    with application.app_context():
        organisation = Organisation(slug="atelier", name="Atelier", type=OrganisationType.ASSOCIATION,
                                    sector=Sector.COMMUNITY)
        db.session.add(organisation)
        db.session.flush()
        create_organisation_keys(organisation, bytes.fromhex(OLD))
        rotate_keys(organisation, bytes.fromhex(OLD), None)  # retired keys are re-encrypted too
        db.session.commit()
        yield application
        db.session.remove()
        db.engine.dispose()


def _decrypt_all(kek: str) -> int:
    db.session.expire_all()
    keys = list(db.session.scalars(select(SigningKey)))
    for key in keys:
        decrypt_private_key(key.encrypted_private_key, bytes.fromhex(kek),
                            signing_key_aad(key.organisation_id, key.key_id, key.algorithm.value))
    return len(keys)


def test_the_kek_file_is_replaced_and_every_key_follows(cli_app, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "kek").write_text(OLD + "\n")
    result = cli_app.test_cli_runner().invoke(keys_group, ["change-kek"])
    assert result.exit_code == 0, result.output
    new = (keys / "kek").read_text().strip()
    assert new != OLD and len(new) == 64
    assert [p.read_text().strip() for p in keys.glob("kek.replaced-*")] == [OLD]
    assert "4 private keys" in result.output
    assert _decrypt_all(new) == 4
    with pytest.raises(KeyDecryptionFailed):
        _decrypt_all(OLD)
    active = db.session.scalars(select(SigningKey).where(SigningKey.state == "active")).first()
    assert load_private_key(active, bytes.fromhex(new)) is not None


def test_a_kek_from_the_environment_needs_the_new_one_in_a_file(cli_app, tmp_path):
    runner = cli_app.test_cli_runner()
    refused = runner.invoke(keys_group, ["change-kek"])
    assert refused.exit_code == 2 and "--new-kek-file" in refused.output
    new_file = tmp_path / "kek.next"
    new_file.write_text("ab" * 32)
    done = runner.invoke(keys_group, ["change-kek", "--new-kek-file", str(new_file)])
    assert done.exit_code == 0, done.output
    assert "BADGEHUB_KEK" in done.output
    assert _decrypt_all("ab" * 32) == 4


def test_a_wrong_current_kek_changes_nothing(cli_app, tmp_path):
    cli_app.config["KEK"] = "cd" * 32  # not the KEK the keys were encrypted with
    new_file = tmp_path / "kek.next"
    new_file.write_text("ab" * 32)
    result = cli_app.test_cli_runner().invoke(keys_group, ["change-kek", "--new-kek-file", str(new_file)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert _decrypt_all(OLD) == 4
    bad = tmp_path / "kek.bad"
    bad.write_text("not hex")
    cli_app.config["KEK"] = OLD
    refused = cli_app.test_cli_runner().invoke(keys_group, ["change-kek", "--new-kek-file", str(bad)])
    assert refused.exit_code == 1
    assert _decrypt_all(OLD) == 4


def test_the_same_kek_again_is_refused(cli_app, tmp_path):
    same = tmp_path / "kek.same"
    same.write_text(OLD)
    result = cli_app.test_cli_runner().invoke(keys_group, ["change-kek", "--new-kek-file", str(same)])
    assert result.exit_code == 1 and "is the current one" in result.output
