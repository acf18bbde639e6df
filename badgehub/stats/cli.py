"""``badgehub observatory rebuild`` (recount the pre-aggregates) and ``badgehub observatory check``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from badgehub.extensions import db
from badgehub.stats import recognition, service


@click.group("observatory")
def observatory_group() -> None:
    """The territory observatory's pre-aggregates."""


@observatory_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Recount every cell from the issued credentials (after a bulk import outside BadgeHub, or a restore)."""
    service.rebuild()
    recognition.rebuild()
    db.session.commit()
    stored, *_ = service.stored()
    click.echo(f"{len(stored)} cell(s) rebuilt")


@observatory_group.command("check")
@with_appcontext
def check_command() -> None:
    """Compare the pre-aggregates with a live recount; exit 1 when they differ."""
    if service.stored() != service.recount() or recognition.stored() != recognition.recount():
        click.echo("the pre-aggregates differ from a live recount: run `badgehub observatory rebuild`", err=True)
        raise SystemExit(1)
    click.echo("the pre-aggregates equal a live recount")


COMMANDS = [observatory_group]
