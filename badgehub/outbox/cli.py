"""``badgehub mail purge``: forget the e-mails delivered (or abandoned) longer than the retention ago, and
``badgehub mail send``: deliver what the outbox holds now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from badgehub.db import writing
from badgehub.jobs import tasks


@click.group("mail")
def mail_group() -> None:
    """The mail outbox."""


@mail_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete the e-mails delivered or abandoned more than BADGEHUB_MAIL_RETENTION_DAYS ago (default 30): their
    rows and the file backend's copies. Also a scheduled job; run it daily from cron if no worker runs."""
    with writing():
        count = tasks.run_task("mail.purge")
    click.echo(f"{count} e-mail(s) deleted from the outbox")


@mail_group.command("send")
@with_appcontext
def send_command() -> None:
    """Deliver the e-mails waiting in the outbox now (those a crash or a mail server failure left)."""
    with writing():
        sent = tasks.run_task("mail.send")
    click.echo(f"{sent} e-mail(s) sent")


COMMANDS = [mail_group]
