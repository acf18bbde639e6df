from __future__ import annotations

import stat

import pytest

from badgehub import create_app
from badgehub.cli import ensure_instance_secrets
from badgehub.config import SETTINGS, ConfigError, read_environment


def test_environment_values_are_parsed_by_kind(tmp_path):
    values = read_environment({
        "BADGEHUB_SMTP_PORT": "2525", "BADGEHUB_SECURE_COOKIES": "yes", "BADGEHUB_KEYS_DIR": str(tmp_path),
        "BADGEHUB_SMTP_HOST": "mail.example.org",
    })
    assert values["SMTP_PORT"] == 2525
    assert values["SECURE_COOKIES"] is True
    assert values["KEYS_DIR"] == tmp_path.resolve()
    # Naming an SMTP host is enough to send real mail.
    assert values["MAIL_BACKEND"] == "smtp"


def test_malformed_number_names_the_variable():
    with pytest.raises(ConfigError, match="BADGEHUB_SMTP_PORT"):
        read_environment({"BADGEHUB_SMTP_PORT": "twenty"})


def test_the_time_zone_is_checked_at_start():
    assert read_environment({"BADGEHUB_TIMEZONE": " Europe/Paris "})["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"
    with pytest.raises(ConfigError, match="BADGEHUB_TIMEZONE"):
        read_environment({"BADGEHUB_TIMEZONE": "Mars/Olympus_Mons"})


def test_every_setting_is_documented_in_the_readme():
    from badgehub.config import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    missing = [s.env for s in SETTINGS if s.env not in readme]
    assert missing == []


def test_app_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("BADGEHUB_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="badgehub init"):
        create_app({"INSTANCE_PATH": tmp_path, "KEYS_DIR": tmp_path / "keys"})


def test_init_creates_owner_only_secrets_once(tmp_path):
    environ = {"BADGEHUB_INSTANCE_PATH": str(tmp_path / "instance"), "BADGEHUB_KEYS_DIR": str(tmp_path / "keys")}
    created = ensure_instance_secrets(environ)
    secret, kek = tmp_path / "instance" / "secret_key", tmp_path / "keys" / "kek"
    assert sorted(created) == sorted([str(secret), str(kek)])
    for path in (secret, kek):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(kek.read_text().strip())) == 32
    before = secret.read_text()
    assert ensure_instance_secrets(environ) == []
    assert secret.read_text() == before


def test_secrets_given_in_environment_are_not_written(tmp_path):
    environ = {"BADGEHUB_INSTANCE_PATH": str(tmp_path / "i"), "BADGEHUB_KEYS_DIR": str(tmp_path / "k"),
               "BADGEHUB_SECRET_KEY": "from-env", "BADGEHUB_KEK": "ab" * 32}
    assert ensure_instance_secrets(environ) == []
    assert not (tmp_path / "i" / "secret_key").exists()


def test_cookies_are_secure_behind_https(tmp_path):
    app = create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "BASE_URL": "https://badges.example.org"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(tmp_path):
    from flask import request

    # TESTING: a request would otherwise start the process's background worker and sweeper, which would run
    # against this empty database for the rest of the test session.
    app = create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "TRUSTED_PROXIES": 1, "TESTING": True})

    @app.get("/whoami-for-test")
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get("/whoami-for-test", headers={"X-Forwarded-For": "203.0.113.9",
                                                                  "X-Forwarded-Proto": "https"})
    assert response.get_data(as_text=True) == "203.0.113.9 https"


def test_without_trusted_proxies_forwarded_headers_are_ignored(tmp_path):
    from flask import request

    app = create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "TESTING": True})  # no background worker

    @app.get("/whoami-for-test")
    def whoami():
        return str(request.remote_addr)

    response = app.test_client().get("/whoami-for-test", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == "127.0.0.1"


def test_verification_limits_are_settings_too():
    values = read_environment({
        "BADGEHUB_RATELIMIT_VERIFY": "5 per minute", "BADGEHUB_VERIFY_MAX_BYTES": "1000",
        "BADGEHUB_VERIFY_FETCH_TIMEOUT": "2", "BADGEHUB_RATELIMIT_PUBLIC_PAGES": "60 per minute"})
    assert values == {"RATELIMIT_VERIFY": "5 per minute", "VERIFY_MAX_BYTES": 1000, "VERIFY_FETCH_TIMEOUT": 2,
                      "RATELIMIT_PUBLIC_PAGES": "60 per minute"}
