"""Bootstrapping an installation from the command line: a territory, an organisation and its owner, an admin,
and the sign-in links that let them in before mail is configured."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from badgehub.accounts.models import User
from badgehub.extensions import db
from badgehub.organisations.models import Organisation, OrganisationMember, Role
from badgehub.territory.models import MembershipStatus, TerritoryMembership


@pytest.fixture
def app(fresh_database, make_app, tmp_path):
    """An app on a database of its own: the commands commit (see tests/functional/test_keys_cli.py)."""
    application = make_app(fresh_database(), tmp_path)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def query(app):
    def run(read):
        with app.app_context():
            try:
                return read()
            finally:
                db.session.remove()

    return run


def _link(output: str) -> str:
    found = re.search(r"http://localhost(/sign-in/link/\S+)", output)
    assert found, output
    return found.group(1)


def test_create_organisation_with_a_new_owner_approved_and_signed_in_by_the_printed_link(runner, client, query):
    assert runner.invoke(args=["create-territory", "--name", "Évry", "--slug", "evry"]).exit_code == 0
    result = runner.invoke(args=["create-organisation", "--territory", "evry", "--name", "Atelier Vélo",
                                 "--owner", "Owner@Example.org", "--type", "association", "--approve"])
    assert result.exit_code == 0, result.output
    assert "organisation atelier-velo created" in result.output and "approved member" in result.output

    def state():
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "atelier-velo"))
        membership = db.session.scalar(select(TerritoryMembership).where(
            TerritoryMembership.organisation_id == organisation.id))
        owner = db.session.scalar(select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation.id))
        return membership.status, membership.decided_by_id, owner.role, owner.user.is_verified
    assert query(state) == (MembershipStatus.APPROVED, None, Role.OWNER, True)

    # No mail configured: the printed link is how the owner gets in.
    signed = client.get(_link(result.output))
    assert signed.status_code in (200, 302)
    if signed.status_code == 200:  # a confirmation form (links are POSTed so mail scanners do not use them)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', signed.get_data(as_text=True)).group(1)
        signed = client.post(_link(result.output), data={"csrf_token": token})
    assert signed.status_code == 302
    assert client.get("/organisations/atelier-velo").status_code == 200


def test_without_approve_the_membership_waits_for_a_coordinator(runner, query):
    runner.invoke(args=["create-territory", "--name", "Évry", "--slug", "evry"])
    runner.invoke(args=["create-user", "--email", "lib@example.org", "--name", "Lib"])
    result = runner.invoke(args=["create-organisation", "--territory", "evry", "--name", "Bibliothèque",
                                 "--owner", "lib@example.org", "--type", "library", "--sector", "public_services"])
    assert result.exit_code == 0, result.output
    assert "membership pending" in result.output
    assert "sign-in link" not in result.output  # an existing account: it already got its own
    assert query(lambda: db.session.scalar(select(TerritoryMembership.status))) is MembershipStatus.PENDING


def test_create_organisation_explains_what_is_wrong(runner):
    result = runner.invoke(args=["create-organisation", "--territory", "nowhere", "--name", "X",
                                 "--owner", "a@example.org"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    runner.invoke(args=["create-territory", "--name", "Évry", "--slug", "evry"])
    bad = runner.invoke(args=["create-organisation", "--territory", "evry", "--name", "X", "--owner", "not-mail"])
    assert bad.exit_code == 1 and "e-mail" in bad.output


def test_create_user_owner_of_an_organisation_and_the_first_admins_link(runner, query):
    runner.invoke(args=["create-territory", "--name", "Évry", "--slug", "evry"])
    runner.invoke(args=["create-organisation", "--territory", "evry", "--name", "Atelier", "--owner",
                        "first@example.org"])
    added = runner.invoke(args=["create-user", "--email", "second@example.org", "--owner-of", "atelier"])
    assert added.exit_code == 0, added.output
    assert "owner of atelier" in added.output and "sign-in link" in added.output
    again = runner.invoke(args=["create-user", "--email", "second@example.org", "--owner-of", "atelier"])
    assert again.exit_code == 0 and "updated" in again.output
    roles = query(lambda: sorted(m.role.value for m in db.session.scalars(select(OrganisationMember))))
    assert roles == ["owner", "owner"]

    admin = runner.invoke(args=["create-user", "--email", "admin@example.org", "--admin"])
    assert admin.exit_code == 0 and "(admin)" in admin.output
    assert "/sign-in/link/" in admin.output
    assert query(lambda: db.session.scalar(select(User.is_admin).where(User.email == "admin@example.org")))
    fresh = runner.invoke(args=["sign-in-link", "--email", "ADMIN@example.org"])
    assert fresh.exit_code == 0 and "/sign-in/link/" in fresh.output
    unknown = runner.invoke(args=["sign-in-link", "--email", "nobody@example.org"])
    assert unknown.exit_code == 1 and "create-user" in unknown.output


def test_with_smtp_configured_no_link_is_printed(app, runner):
    app.config["MAIL_BACKEND"] = "smtp"
    result = runner.invoke(args=["create-user", "--email", "admin@example.org", "--admin"])
    assert result.exit_code == 0
    assert "sign-in link" not in result.output
