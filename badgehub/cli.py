"""The ``badgehub`` command: the Flask CLI, ``init`` and ``demo`` (which build the app with the factory), plus
BadgeHub's administration commands (:mod:`badgehub.commands`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from badgehub import config as config_module
from badgehub.commands import APP_COMMANDS


def _create_app_for_cli() -> Flask:
    from badgehub import create_app

    try:
        return create_app()
    except config_module.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc  # words for the operator, not a traceback


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli, add_version_option=False)
def main() -> None:
    """BadgeHub: Open Badges 3.0 for learning territories."""


def _write_secret(path: Path, value: str) -> bool:
    """Write a secret file readable by its owner only; never overwrite one. True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return True


def _settings(environ: Mapping[str, str]) -> dict[str, Any]:
    settings = config_module.defaults(config_module.instance_path_from(environ))
    settings.update(config_module.read_environment(environ))
    if settings.get("KEYS_DIR") is None:
        settings["KEYS_DIR"] = config_module.keys_dir_for(Path(settings["INSTANCE_PATH"]))
    return settings


def ensure_instance_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Create the Flask secret key and the key-encryption key on first run; returns what was created."""
    env = config_module.effective_environment(os.environ if environ is None else environ)
    settings = _settings(env)
    created = []
    if not settings.get("SECRET_KEY"):
        path = Path(settings["INSTANCE_PATH"]) / config_module.SECRET_KEY_FILE
        if _write_secret(path, secrets.token_urlsafe(48)):
            created.append(str(path))
    if not settings.get("KEK"):
        path = Path(settings["KEYS_DIR"]) / config_module.KEK_FILE
        if _write_secret(path, secrets.token_hex(32)):
            created.append(str(path))
    return created


def _database_in_use(url: str) -> bool:
    """True when the database at ``url`` already holds people or signing keys (a migrated but empty one does
    not count: it has nothing the secrets protect). Never creates a SQLite file."""
    from sqlalchemy import create_engine, func, inspect, select, table
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
            not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).is_file()):
        return False
    engine = create_engine(parsed)
    try:
        with engine.connect() as connection:
            tables = [name for name in ("users", "signing_keys") if inspect(connection).has_table(name)]
            return any(connection.scalar(select(func.count()).select_from(table(name))) for name in tables)
    except SQLAlchemyError:
        return False  # unreachable: the migration below says why, in its own words
    finally:
        engine.dispose()


def missing_secrets_of_existing_database(environ: Mapping[str, str]) -> list[str]:
    """The secret files ``init`` would have to create although the database is already in use: a new secret
    key would sign everyone out, a new KEK would leave every signing key unreadable. Empty when all is well."""
    settings = _settings(config_module.effective_environment(environ))
    missing = []
    secret_file = Path(settings["INSTANCE_PATH"]) / config_module.SECRET_KEY_FILE
    kek_file = Path(settings["KEYS_DIR"]) / config_module.KEK_FILE
    if not settings.get("SECRET_KEY") and not secret_file.is_file():
        missing.append(str(secret_file))
    if not settings.get("KEK") and not kek_file.is_file():
        missing.append(str(kek_file))
    if missing and _database_in_use(str(settings["SQLALCHEMY_DATABASE_URI"])):
        return missing
    return []


def remember_data_dir(environ: Mapping[str, str]) -> Path | None:
    """Write the data folder, made absolute, to the installation's config file, so that every later command
    and process finds it whatever its working folder. Returns the config file when it changed."""
    effective = config_module.effective_environment(environ)
    data_dir = config_module.instance_path_from(effective)
    config_file = config_module.config_file_from(environ)
    if config_module.read_config_file(config_file).get("BADGEHUB_DATA_DIR") == str(data_dir):
        return None
    try:
        config_module.write_config_value(config_file, "BADGEHUB_DATA_DIR", str(data_dir))
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {config_file} ({exc.strerror}): run init as the user who owns the installation, "
            f"or set BADGEHUB_CONFIG to a file it may write") from exc
    return config_file


def init_installation(quiet: bool = False, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Write down the data folder, create missing secrets, build the app (with ``overrides`` of its
    configuration) and bring the database schema up to date.

    Raises :class:`click.ClickException` when the database is already in use but its secret key or KEK is not
    where this installation looks (a second one would lock everyone and every signing key out)."""
    from flask_migrate import upgrade

    from badgehub import create_app

    missing = missing_secrets_of_existing_database(os.environ)
    if missing:
        raise click.ClickException(
            "The database is already initialised, but " + " and ".join(missing) + " cannot be found. Restore "
            "them from the backup (or set BADGEHUB_DATA_DIR, BADGEHUB_SECRET_KEY, BADGEHUB_KEK) rather than "
            "making new ones: new ones would sign everyone out and leave the signing keys unreadable.")
    written = remember_data_dir(os.environ)
    if written is not None and not quiet:
        click.echo(f"data folder {config_module.instance_path_from(config_module.effective_environment(os.environ))}"
                   f" written to {written}")
    for path in ensure_instance_secrets():
        if not quiet:
            click.echo(f"created {path} (mode 0600)")
    app = create_app(overrides)
    with app.app_context():
        upgrade()
    return app


@main.command("init", with_appcontext=False)
def init_command() -> None:
    """Write down the data folder, create the instance secrets (once) and migrate the database to the latest
    schema."""
    init_installation()
    click.echo("BadgeHub is initialised.")


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Seed and print the links, but do not start the server.")
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Initialise, seed a realistic demo territory, print one-time sign-in links, and serve."""
    # Where the demo is served, and the demo territory's time zone (its claim windows), unless set otherwise.
    demo_settings = {"BADGEHUB_BASE_URL": f"http://{host}:{port}", "BADGEHUB_TIMEZONE": "Europe/Paris"}
    app = init_installation(overrides=config_module.read_environment(
        {name: value for name, value in demo_settings.items() if not os.environ.get(name)}))
    from badgehub.demo import seed_demo, sign_in_links
    from badgehub.extensions import db

    with app.app_context():
        users = seed_demo(app.config)
        links = sign_in_links(users, app.config)
        db.session.commit()
    click.echo("\nBadgeHub demo: one-time sign-in links (valid "
               f"{app.config['LOGIN_LINK_MINUTES']} minutes, single use):")
    for role, email, url in links:
        click.echo(f"  {role:<40} {email:<36} {url}")
    click.echo("Run `badgehub demo --no-serve` again for fresh links.\n")
    if not no_serve:
        # Not app.run(): Flask ignores it inside its own CLI (FLASK_RUN_FROM_CLI), which would leave the
        # demo seeded but not served.
        from werkzeug.serving import run_simple

        click.echo(f"Serving BadgeHub on http://{host}:{port} (Ctrl+C to stop)")
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


for _command in APP_COMMANDS:
    main.add_command(_command)
