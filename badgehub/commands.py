"""BadgeHub's administration commands, registered on ``app.cli`` by the factory and on the ``badgehub`` command.

Kept apart from :mod:`badgehub.cli` (the ``badgehub`` command itself, which builds the app with the factory),
so that the factory imports this module and nothing here imports the factory.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from badgehub import config as config_module


@click.command("create-territory")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--description", default="")
@click.option("--locale", "default_locale", default="fr", type=click.Choice(config_module.SUPPORTED_LOCALES))
@click.option("--area", "areas", multiple=True, help="CODE=Name, repeatable.")
@with_appcontext
def create_territory_command(name: str, slug: str, description: str, default_locale: str,
                             areas: tuple[str, ...]) -> None:
    """Create a learning territory."""
    from badgehub.errors import BadgeHubError
    from badgehub.extensions import db
    from badgehub.territory.service import create_territory

    parsed = []
    for item in areas:
        code, sep, area_name = item.partition("=")
        if not sep or not code.strip() or not area_name.strip():
            raise click.BadParameter(f"{item!r}: write CODE=Name", param_hint="--area")
        parsed.append((code.strip(), area_name.strip()))
    try:
        territory = create_territory(name=name, slug=slug, description=description,
                                     default_locale=default_locale, areas=parsed)
        db.session.commit()
    except BadgeHubError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"territory {territory.slug} created")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--password", default=None, help="Optional; without it the user signs in with e-mailed links.")
@click.option("--coordinator", "coordinator_of", default=None, metavar="TERRITORY_SLUG",
              help="Make the user a coordinator of this territory.")
@click.option("--admin", is_flag=True, help="Make the user a platform administrator.")
@click.option("--owner-of", "owner_of", default=None, metavar="ORGANISATION_SLUG",
              help="Make the user an owner of this organisation (also an existing user).")
@with_appcontext
def create_user_command(email: str, name: str, password: str | None, coordinator_of: str | None,
                        admin: bool, owner_of: str | None) -> None:
    """Create a verified user, optionally coordinator of a territory, owner of an organisation or platform
    admin. An existing user given with --owner-of only becomes owner. Without mail configured, prints a
    one-time sign-in link for a new user without a password."""
    from badgehub.accounts.cli import echo_link, mail_configured, sign_in_link
    from badgehub.accounts.service import create_user, get_user_by_email, normalise_email
    from badgehub.errors import BadgeHubError
    from badgehub.extensions import db

    try:
        existing = get_user_by_email(normalise_email(email)) if owner_of else None
        if existing is not None and (admin or password or name):
            raise click.UsageError("--admin, --password and --name are for new users; "
                                   f"{existing.email} exists (only --owner-of and --coordinator apply)")
        user = existing or create_user(email, name=name, password=password, verified=True, is_admin=admin)
        if coordinator_of:
            from badgehub.territory.service import add_coordinator
            add_coordinator(territory_slug=coordinator_of, user=user, actor_id=None)
        if owner_of:
            from badgehub.organisations.service import get_organisation_by_slug
            from badgehub.organisations.staff import appoint_owner
            appoint_owner(get_organisation_by_slug(owner_of), user)
        link = sign_in_link(user) if existing is None and not password and not mail_configured() else None
        db.session.commit()
    except BadgeHubError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    roles = [r for r, on in (("admin", admin), (f"coordinator of {coordinator_of}", bool(coordinator_of)),
                             (f"owner of {owner_of}", bool(owner_of))) if on]
    done = "updated" if existing is not None else "created"
    click.echo(f"user {user.email} {done}" + (f" ({', '.join(roles)})" if roles else ""))
    if link is not None:
        echo_link(user.email, link)


@click.command("config-help")
def config_help_command() -> None:
    """Print every BADGEHUB_* variable as a Markdown table (the README's table comes from here)."""
    click.echo("| variable | meaning |\n|---|---|")
    for setting in config_module.SETTINGS:
        click.echo(f"| `{setting.env}` | {setting.help} |")


def _app_commands() -> list[Any]:
    from badgehub.accounts.cli import sign_in_link_command
    from badgehub.claims.cli import COMMANDS as claims_commands
    from badgehub.issuing.cli import COMMANDS as issuing_commands
    from badgehub.jobs.cli import COMMANDS as job_commands
    from badgehub.keys.cli import keys_group
    from badgehub.organisations.cli import create_organisation_command
    from badgehub.outbox.cli import COMMANDS as mail_commands
    from badgehub.stats.cli import COMMANDS as observatory_commands
    from badgehub.verification.cli import verify_command

    return [create_territory_command, create_user_command, config_help_command, keys_group, verify_command,
            *issuing_commands, *job_commands, *claims_commands, *mail_commands, *observatory_commands,
            create_organisation_command, sign_in_link_command]


APP_COMMANDS: list[Any] = _app_commands()


def register_commands(app: Flask) -> None:
    """Attach the administration commands to ``app.cli`` (so ``flask --app badgehub`` has them too)."""
    for command in APP_COMMANDS:
        app.cli.add_command(command)
