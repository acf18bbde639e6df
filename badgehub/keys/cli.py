"""``badgehub keys …``: list, rotate and declare compromised the signing keys of an organisation.

Only public parts are ever printed. The KEK comes from the app configuration (``KEK``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from badgehub.errors import BadgeHubError
from badgehub.extensions import db
from badgehub.issuing.status_lists import refresh_status_lists
from badgehub.keys.models import KeyAlgorithm, KeyState, SigningKey
from badgehub.keys.service import (
    declare_compromised,
    get_key,
    installation_kek,
    published_keys,
    rotate_keys,
)
from badgehub.organisations.models import Organisation


def _organisation(slug: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise click.ClickException(f"no organisation with slug {slug!r}")
    return organisation


def _kek() -> bytes:
    try:
        return installation_kek(current_app.config)
    except BadgeHubError as exc:
        raise click.ClickException(str(exc.message)) from None


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _public_view(key: SigningKey) -> dict[str, Any]:
    public: Any = key.public_key if key.algorithm is KeyAlgorithm.ED25519 else json.loads(key.public_key)
    return {
        "key_id": key.key_id, "algorithm": key.algorithm.value, "purpose": key.algorithm.purpose,
        "state": key.state.value, "created_at": _iso(key.created_at), "retired_at": _iso(key.retired_at),
        "compromised_since": _iso(key.compromised_since), "compromise_reason": key.compromise_reason,
        "public_key": public,
    }


def parse_moment(value: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time; a date means midnight UTC, a time without offset means UTC."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date (2025-03-01) or date-time",
                                 param_hint="--since") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@click.group("keys")
def keys_group() -> None:
    """Signing keys of organisations (public parts only are shown)."""


@keys_group.command("list")
@click.option("--organisation", "slug", required=True, metavar="SLUG")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_appcontext
def list_command(slug: str, as_json: bool) -> None:
    """List an organisation's published keys: ids, algorithms, states, dates, public keys."""
    views = [_public_view(key) for key in published_keys(_organisation(slug))]
    if as_json:
        click.echo(json.dumps(views, indent=2))
        return
    if not views:
        click.echo(f"{slug} has no signing keys: run `badgehub keys rotate --organisation {slug}`")
        return
    for view in views:
        dates = f"created {view['created_at']}"
        if view["retired_at"]:
            dates += f", retired {view['retired_at']}"
        if view["compromised_since"]:
            dates += f", compromised since {view['compromised_since']}"
        public = view["public_key"] if isinstance(view["public_key"], str) else json.dumps(
            view["public_key"], sort_keys=True, separators=(",", ":"))
        click.echo(f"{view['key_id']}  {view['algorithm']:<8}  {view['state']:<11}  {dates}\n    {public}")


@keys_group.command("rotate")
@click.option("--organisation", "slug", required=True, metavar="SLUG")
@with_appcontext
def rotate_command(slug: str) -> None:
    """Create new active keys for an organisation; the previous ones are retired and stay published."""
    kek = _kek()
    organisation = _organisation(slug)
    try:
        new_keys = rotate_keys(organisation, kek, actor_id=None)
        # The lists are signed by the new key now, not by whichever view would have come first.
        refresh_status_lists(organisation=organisation, config=current_app.config)
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    for key in new_keys:
        click.echo(f"{slug}: new active {key.algorithm.value} key {key.key_id}")


@keys_group.command("compromised")
@click.argument("key_id")
@click.option("--since", required=True, metavar="ISO_DATE",
              help="From when the key is compromised: credentials signed from then on stop verifying.")
@click.option("--reason", required=True)
@with_appcontext
def compromised_command(key_id: str, since: str, reason: str) -> None:
    """Declare a key compromised from a date. An active key is replaced by a new one at once."""
    moment = parse_moment(since)
    try:
        key = get_key(key_id)
        was_active = key.state is KeyState.ACTIVE
        # Only needed (and only required) when a replacement key must be made.
        kek = _kek() if was_active else None
        declare_compromised(key, moment, actor_id=None, reason=reason)
        replacements = rotate_keys(key.organisation, kek, None, algorithms=[key.algorithm]) if kek else []
        # A list signed by the compromised key is no longer served; its replacement signs it at once.
        refresh_status_lists(organisation=key.organisation, config=current_app.config)
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{key.key_id} is compromised since {moment.isoformat()}")
    for new in replacements:
        click.echo(f"new active {new.algorithm.value} key {new.key_id}")


def _write_new_kek(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


@keys_group.command("change-kek")
@click.option("--new-kek-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A file holding the new KEK (64 hex characters). Default: a new random KEK.")
@with_appcontext
def change_kek_command(new_kek_file: Path | None) -> None:
    """Encrypt every private signing key under a new key-encryption key, all or none.

    Stop the web nodes and workers first (they hold the old KEK), start them after. When the KEK is the file
    `kek` of the data folder, it is replaced (the old one kept beside it, for the backups made with it);
    when it comes from BADGEHUB_KEK, give --new-kek-file and put its content in BADGEHUB_KEK afterwards.
    """
    from badgehub.config import KEK_FILE
    from badgehub.keys.crypto import parse_kek
    from badgehub.keys.service import change_kek

    old = _kek()
    kek_file = Path(current_app.config["KEYS_DIR"]) / KEK_FILE
    from_file = kek_file.is_file() and kek_file.read_text().strip() == str(current_app.config.get("KEK")).strip()
    if new_kek_file is None and not from_file:
        raise click.UsageError("the KEK comes from BADGEHUB_KEK: write the new one to a file (mode 0600) and give "
                               "it with --new-kek-file")
    new_text = new_kek_file.read_text().strip() if new_kek_file is not None else secrets.token_hex(32)
    try:
        new = parse_kek(new_text)
        staged = kek_file.with_name(KEK_FILE + ".new")
        if from_file:
            _write_new_kek(staged, new_text)  # on disk before the database depends on it
        count = change_kek(old, new)
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{count} private keys now encrypted under the new KEK")
    if from_file:
        kept = kek_file.with_name(f"{KEK_FILE}.replaced-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
        os.replace(kek_file, kept)
        os.replace(staged, kek_file)
        click.echo(f"{kek_file} replaced; the previous KEK is in {kept}: backups made before today need it")
    else:
        click.echo("set BADGEHUB_KEK to the new KEK on every node and worker before starting them")
