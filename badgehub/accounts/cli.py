"""Sign-in links handed out on the command line: how the first people get in before mail works."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from badgehub.accounts.models import User
from badgehub.accounts.service import issue_sign_in_link


def mail_configured() -> bool:
    """True when e-mails really leave (SMTP); the default file backend only writes them to the outbox."""
    return current_app.config.get("MAIL_BACKEND") == "smtp"


def sign_in_link(user: User) -> str:
    """A fresh one-time sign-in link for ``user`` (flushed; the caller commits)."""
    issued = issue_sign_in_link(user, config=current_app.config)
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}/sign-in/link/{issued.token}"


def echo_link(email: str, url: str) -> None:
    minutes = current_app.config["LOGIN_LINK_MINUTES"]
    click.echo(f"one-time sign-in link for {email} (valid {minutes} minutes, single use):\n  {url}")


@click.command("sign-in-link")
@click.option("--email", required=True)
@with_appcontext
def sign_in_link_command(email: str) -> None:
    """Print a one-time sign-in link for an existing account (the first admin, before mail is set up)."""
    from badgehub.accounts.service import get_user_by_email, normalise_email
    from badgehub.errors import BadgeHubError
    from badgehub.extensions import db

    try:
        user = get_user_by_email(normalise_email(email))
    except BadgeHubError as exc:
        raise click.ClickException(str(exc.message)) from exc
    if user is None:
        raise click.ClickException(f"no account for {email}: create it with `badgehub create-user --email {email}`")
    url = sign_in_link(user)
    db.session.commit()
    echo_link(user.email, url)
