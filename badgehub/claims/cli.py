"""``badgehub claims purge``: delete the pending claims that can no longer be confirmed (run it daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from badgehub.claims.service import purge_stale_claims
from badgehub.extensions import db


@click.group("claims")
def claims_group() -> None:
    """Claim campaigns."""


@claims_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete the e-mail addresses of claims that can no longer be confirmed (campaign over, link expired)."""
    count = purge_stale_claims()
    db.session.commit()
    click.echo(f"{count} pending claim(s) deleted")


COMMANDS = [claims_group]
