"""One data folder, found from any working folder; `init` never makes a second secret for a database in use."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from badgehub import create_app
from badgehub.cli import main
from badgehub.config import read_config_file


def _clear(monkeypatch) -> None:
    for name in ("BADGEHUB_DATA_DIR", "BADGEHUB_INSTANCE_PATH", "BADGEHUB_KEYS_DIR", "BADGEHUB_DATABASE_URL",
                 "BADGEHUB_SECRET_KEY", "BADGEHUB_KEK", "BADGEHUB_OUTBOX_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_init_writes_the_data_folder_down_and_commands_find_it_from_elsewhere(tmp_path, monkeypatch,
                                                                               installation_config):
    _clear(monkeypatch)
    monkeypatch.setenv("BADGEHUB_CONFIG", str(tmp_path / "etc" / "badgehub.cfg"))
    first, elsewhere = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(first)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    data = first / "instance"
    assert read_config_file(tmp_path / "etc" / "badgehub.cfg") == {"BADGEHUB_DATA_DIR": str(data)}
    # Database, secret key and KEK all in the data folder, nothing in the working folder's keys/.
    assert {p.name for p in data.iterdir()} >= {"badgehub.db", "secret_key", "kek"}

    monkeypatch.chdir(elsewhere)
    app = create_app()
    assert app.instance_path == str(data)
    assert app.config["SECRET_KEY"] == (data / "secret_key").read_text().strip()
    assert app.config["KEK"] == (data / "kek").read_text().strip()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{data / 'badgehub.db'}"
    again = CliRunner().invoke(main, ["create-user", "--email", "ops@example.org"])
    assert again.exit_code == 0, again.output
    assert not (elsewhere / "instance").exists()


def test_the_environment_wins_over_the_config_file(tmp_path, monkeypatch):
    _clear(monkeypatch)
    config = tmp_path / "badgehub.cfg"
    config.write_text("# comment\nBADGEHUB_DATA_DIR=/srv/one\nBADGEHUB_BASE_URL='https://badges.example.org'\n")
    monkeypatch.setenv("BADGEHUB_CONFIG", str(config))
    monkeypatch.setenv("BADGEHUB_DATA_DIR", str(tmp_path / "two"))
    app = create_app({"SECRET_KEY": "x"})
    assert app.instance_path == str(tmp_path / "two")
    assert app.config["BASE_URL"] == "https://badges.example.org"


def test_a_malformed_config_file_names_its_line(tmp_path, monkeypatch):
    config = tmp_path / "badgehub.cfg"
    config.write_text("BADGEHUB_BASE_URL=https://x.example\nnonsense\n")
    monkeypatch.setenv("BADGEHUB_CONFIG", str(config))
    result = CliRunner().invoke(main, ["config-help"])
    assert result.exit_code == 0  # config-help reads no configuration
    import pytest

    from badgehub.config import ConfigError
    with pytest.raises(ConfigError, match="line 2"):
        create_app({"SECRET_KEY": "x"})


def test_init_refuses_a_second_secret_key_for_a_database_in_use(tmp_path, monkeypatch):
    _clear(monkeypatch)
    data = tmp_path / "data"
    monkeypatch.setenv("BADGEHUB_DATA_DIR", str(data))
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert CliRunner().invoke(main, ["create-user", "--email", "ops@example.org"]).exit_code == 0
    secret = (data / "secret_key").read_text()
    (data / "secret_key").unlink()
    (data / "kek").rename(tmp_path / "kek.saved")

    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 1
    assert "already initialised" in result.output and str(data / "secret_key") in result.output
    assert str(data / "kek") in result.output
    assert "Traceback" not in result.output
    assert not (data / "secret_key").exists() and not (data / "kek").exists()
    # Restored from the backup, init goes through and keeps them.
    (data / "secret_key").write_text(secret)
    (tmp_path / "kek.saved").rename(data / "kek")
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert (data / "secret_key").read_text() == secret


def test_a_checkout_that_keeps_its_kek_in_keys_goes_on_using_it(tmp_path, monkeypatch):
    from badgehub import config

    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "kek").write_text("ab" * 32)
    assert config.keys_dir_for(tmp_path / "instance") == tmp_path / "keys"
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "kek").write_text("cd" * 32)
    assert config.keys_dir_for(tmp_path / "instance") == tmp_path / "instance"
    assert isinstance(config.keys_dir_for(Path("/nonexistent")), Path)


def test_init_says_so_when_it_cannot_write_the_config_file(tmp_path, monkeypatch):
    _clear(monkeypatch)
    locked = tmp_path / "locked"
    locked.write_text("a file where a folder should be")
    monkeypatch.setenv("BADGEHUB_CONFIG", str(locked / "badgehub.cfg"))
    monkeypatch.setenv("BADGEHUB_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "BADGEHUB_CONFIG" in result.output
