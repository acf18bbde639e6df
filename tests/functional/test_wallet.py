"""The learner's wallet: whose credentials appear, their live status, addresses, holder DID, export, erasure.

Credentials are issued through the real service and verified through the real pipeline (our keys and status
lists answered from the database); no test reaches the network (the fetcher resolves no name).
"""

from __future__ import annotations

import html as html_module
import io
import json
import re
import socket
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from badgehub.accounts.models import EmailToken, User, WalletEmail, WalletProfile
from badgehub.accounts.service import create_user, get_user_by_email, issue_sign_in_link
from badgehub.achievements.service import public_achievement
from badgehub.audit.models import AuditEvent
from badgehub.credentials.did import did_key_from_ed25519
from badgehub.extensions import db
from badgehub.issuing import service as issuing
from badgehub.issuing.models import IssuedCredential
from badgehub.stats.models import StatsLearner
from badgehub.stats.service import key_hash as stats_key_hash
from badgehub.verification import fetch as fetch_module
from badgehub.wallet.models import ImportedCredential, WalletShare
from tests.conftest import csrf_token_from, links_in, sign_in, token_of
from tests.factories import build_world

LEA = "Lea.Martin@example.net"
DID = did_key_from_ed25519(bytes(range(32)))


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "no name resolution in tests")

    monkeypatch.setattr(fetch_module, "resolve_addresses", no_dns)


def build_wallet_world() -> dict[str, Any]:
    """The issuing world, plus two learners: Léa (LEA) and Bob; plain values."""
    ids = build_world().ids()
    lea = create_user(LEA.lower(), name="Léa Martin", verified=True)
    bob = create_user("bob@example.net", name="Bob", verified=True)
    ids.update(lea=lea.get_id(), lea_id=lea.id, bob=bob.get_id(), bob_id=bob.id)
    return ids


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_wallet_world)


def award(setup: Any, world: dict[str, Any], email: str, badge: str = "repair", **options: Any) -> str:
    def run() -> str:
        achievement = public_achievement(world[badge])
        options.setdefault("config", current_app.config)
        credential = issuing.issue_credential(
            organisation=achievement.organisation, achievement=achievement, recipient_email=email,
            recipient_name="Someone", actor_id=None, source="cli", **options)
        return str(credential.public_id)

    return setup(run)


def text_of(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def sign_in_by_link(client: FlaskClient, setup: Any, email: str) -> None:
    """A real, fresh sign-in through an e-mailed link (erasure wants a fresh session)."""
    token = setup(lambda: issue_sign_in_link(get_user_by_email(email), config=current_app.config).token)
    page = client.get(f"/sign-in/link/{token}")
    response = client.post(f"/sign-in/link/{token}", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302


def post(client: FlaskClient, url: str, form_url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": token_of(client, form_url), **data})


def add_and_confirm(client: FlaskClient, outbox: Any, address: str) -> Any:
    response = post(client, "/wallet/addresses", "/wallet/settings", email=address)
    assert response.status_code == 302, response.get_data(as_text=True)
    link = links_in(outbox()[-1])[0]
    path = link.replace("http://localhost", "")
    page = client.get(path)
    assert page.status_code == 200
    assert "Yes, add this address" in page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


# -- whose credentials appear


def test_a_learner_sees_credentials_of_verified_addresses_only(client: FlaskClient, setup: Any, world: Any,
                                                               outbox: Any) -> None:
    mine = award(setup, world, "  LEA.martin@EXAMPLE.net ")  # another case: the same address
    work = award(setup, world, "lea@work.example.org", badge="workshop")
    tagged = award(setup, world, "lea.martin+club@example.net", badge="reading")
    theirs = award(setup, world, "bob@example.net", badge="reading")
    sign_in(client, world["lea"])
    page = client.get("/wallet").get_data(as_text=True)
    assert f"/wallet/c/{mine}" in page
    assert f"/wallet/c/{work}" not in page and f"/wallet/c/{theirs}" not in page and f"/wallet/c/{tagged}" not in page
    # Added but not confirmed yet: still not shown.
    post(client, "/wallet/addresses", "/wallet/settings", email="lea@work.example.org")
    assert f"/wallet/c/{work}" not in client.get("/wallet").get_data(as_text=True)
    assert client.get(f"/wallet/c/{work}").status_code == 404
    confirmed = add_and_confirm(client, outbox, "lea@work.example.org")
    assert confirmed.status_code == 302
    page = client.get("/wallet").get_data(as_text=True)
    assert f"/wallet/c/{work}" in page and f"/wallet/c/{mine}" in page
    assert f"/wallet/c/{theirs}" not in page and f"/wallet/c/{tagged}" not in page  # +tag: another address


def test_another_persons_credential_share_import_and_address_are_404(client: FlaskClient, setup: Any, world: Any,
                                                                      outbox: Any) -> None:
    theirs = award(setup, world, "bob@example.net")
    sign_in(client, world["bob"])
    add_and_confirm(client, outbox, "bob@home.example.org")
    created = post(client, "/wallet/shares", "/wallet/shares", title="CV", credential=theirs)
    assert created.status_code == 302
    share_id, address_id = setup(lambda: (db.session.scalar(select(WalletShare.id)),
                                          db.session.scalar(select(WalletEmail.id))))
    imported_id = setup(lambda: _imported_row(world["bob_id"]))
    sign_in(client, world["lea"])
    assert client.get(f"/wallet/c/{theirs}").status_code == 404
    assert client.get(f"/wallet/shares/{share_id}/qr.svg").status_code == 404
    assert client.get(f"/wallet/imported/{imported_id}").status_code == 404
    assert client.get(f"/wallet/imported/{imported_id}/file").status_code == 404
    csrf = token_of(client, "/wallet/settings")
    for url in (f"/wallet/shares/{share_id}/revoke", f"/wallet/shares/{share_id}/delete",
                f"/wallet/imported/{imported_id}/remove", f"/wallet/addresses/{address_id}/remove"):
        assert client.post(url, data={"csrf_token": csrf}).status_code == 404, url
    assert client.post("/wallet/shares", data={"csrf_token": csrf, "title": "Mine", "credential": theirs}
                       ).status_code == 400
    assert setup(lambda: db.session.scalar(select(WalletShare.revoked_at))) is None


def _imported_row(user_id: int) -> int:
    row = ImportedCredential(user_id=user_id, raw=b"{}", sha256="0" * 64, format="json")
    db.session.add(row)
    db.session.flush()
    return row.id


def test_a_confirmation_link_only_works_for_the_account_that_asked(client: FlaskClient, world: Any,
                                                                    outbox: Any, setup: Any) -> None:
    sign_in(client, world["bob"])
    post(client, "/wallet/addresses", "/wallet/settings", email="lea@work.example.org")
    path = links_in(outbox()[-1])[0].replace("http://localhost", "")
    sign_in(client, world["lea"])
    assert client.get(path).status_code == 404
    assert setup(lambda: db.session.scalar(select(WalletEmail.verified_at))) is None


def test_an_address_verified_by_one_account_cannot_be_claimed_by_another(client: FlaskClient, world: Any,
                                                                         outbox: Any, query: Any) -> None:
    sign_in(client, world["lea"])
    assert add_and_confirm(client, outbox, "shared@example.org").status_code == 302
    sign_in(client, world["bob"])
    refused = add_and_confirm(client, outbox, "Shared@Example.org")
    assert refused.status_code == 409
    assert "already belongs to another account" in text_of(refused.get_data(as_text=True))
    # Nor can anyone take another account's own address.
    refused = add_and_confirm(client, outbox, LEA)
    assert refused.status_code == 409
    rows = query(lambda: [(row.user_id, row.verified_key) for row in db.session.scalars(select(WalletEmail))])
    assert [key for user_id, key in rows if user_id == world["bob_id"]] == [None, None]


def test_a_verified_extra_address_signs_in_and_cannot_be_registered_again(client: FlaskClient, world: Any,
                                                                          outbox: Any, query: Any) -> None:
    sign_in(client, world["lea"])
    assert add_and_confirm(client, outbox, "Lea.Work@example.org").status_code == 302
    client.post("/sign-out", data={"csrf_token": token_of(client, "/verify")})
    # Signing in with the extra address: the link goes to it, as it was added, and opens Léa's account.
    asked = client.post("/sign-in/link", data={"csrf_token": token_of(client, "/sign-in"),
                                               "email": "LEA.WORK@example.org"})
    assert asked.status_code == 302
    mail = outbox()[-1]
    assert mail["To"] == "Lea.Work@example.org"
    link = next(link for link in links_in(mail) if "/sign-in/link/" in link).replace("http://localhost", "")
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))}).status_code == 302
    assert "Léa Martin" in client.get("/account").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": token_of(client, "/verify")})
    # Nobody can open a second account with it.
    refused = client.post("/register", data={"csrf_token": token_of(client, "/register"), "name": "Squatter",
                                             "email": "lea.work@EXAMPLE.org", "password": "a long enough passphrase"})
    # The same answer as for a new address (no enumeration); the owner's extra address is told instead.
    assert refused.status_code == 302
    assert outbox()[-1]["To"] == "lea.work@example.org" and "tried to create" in outbox()[-1]["Subject"]
    assert query(lambda: get_user_by_email("lea.work@example.org")) is None


def test_the_address_of_the_account_itself_is_refused_on_its_field(client: FlaskClient, world: Any) -> None:
    sign_in(client, world["lea"])
    response = post(client, "/wallet/addresses", "/wallet/settings", email=LEA.upper())
    assert response.status_code == 409
    assert "already the address of your account" in text_of(response.get_data(as_text=True))


# -- status from the pipeline


def test_the_status_on_a_card_comes_from_the_pipeline(client: FlaskClient, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    assert "Valid" in text_of(client.get("/wallet").get_data(as_text=True))

    def revoke() -> None:
        issuing.revoke_credential(issuing.get_credential(public_id), note="erreur", actor_id=None,
                                  config=current_app.config)

    setup(revoke)
    assert "Revoked" in text_of(client.get("/wallet").get_data(as_text=True))

    def tamper() -> None:
        credential = issuing.get_credential(public_id)
        document = json.loads(credential.document_json)
        document["credentialSubject"]["achievement"]["name"] = "Pilote de ligne"
        credential.document_json = json.dumps(document)

    setup(tamper)
    page = text_of(client.get("/wallet").get_data(as_text=True))
    assert "Not genuine" in page and "Pilote de ligne" not in page


def test_the_detail_page_offers_every_download_linkedin_and_the_public_page(client: FlaskClient, setup: Any,
                                                                             world: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    page = client.get(f"/wallet/c/{public_id}").get_data(as_text=True)
    for suffix in (".json", ".jwt", ".png", ".svg"):
        assert f'href="/c/{public_id}{suffix}"' in page
    assert f"/c/{public_id}.pdf" in page
    assert f"http://localhost/c/{public_id}" in page
    linkedin = html_module.unescape(re.search(r'href="(https://www.linkedin.com/profile/add\?[^"]+)"', page)[1])
    assert "startTask=CERTIFICATION_NAME" in linkedin and "organizationName=Atelier+V%C3%A9lo" in linkedin
    assert f"certId={public_id}" in linkedin and "certUrl=http%3A%2F%2Flocalhost%2Fc%2F" in linkedin
    assert client.get(f"/c/{public_id}.json").status_code == 200


def test_the_wallet_needs_a_signed_in_user_and_the_menu_links_to_it(client: FlaskClient, world: Any) -> None:
    assert client.get("/wallet").status_code == 302
    sign_in(client, world["lea"])
    assert 'href="/wallet"' in client.get("/account").get_data(as_text=True)


# -- holder DID


def test_a_holder_did_is_checked_and_named_in_credentials_issued_afterwards(client: FlaskClient, setup: Any,
                                                                           world: Any, app: Flask) -> None:
    before = award(setup, world, LEA)
    sign_in(client, world["lea"])
    bad = post(client, "/wallet/holder-did", "/wallet/settings", holder_did="did:web:example.org")
    assert bad.status_code == 400 and "did:key" in text_of(bad.get_data(as_text=True))
    assert post(client, "/wallet/holder-did", "/wallet/settings", holder_did=f" {DID} ").status_code == 302
    after = award(setup, world, LEA.upper(), badge="workshop")
    other = award(setup, world, "bob@example.net")

    def subjects() -> dict[str, Any]:
        return {public_id: json.loads(issuing.get_credential(public_id).document_json)["credentialSubject"]
                for public_id in (before, after, other)}

    found = setup(subjects)
    assert "id" not in found[before] and "id" not in found[other]
    assert found[after]["id"] == DID
    page = client.get(f"/c/{after}").get_data(as_text=True)
    assert "Valid" in text_of(page)


# -- export and erasure


def test_the_export_holds_every_credential_as_issued_imports_and_account_data(client: FlaskClient, setup: Any,
                                                                             world: Any, outbox: Any,
                                                                             query: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    add_and_confirm(client, outbox, "lea@work.example.org")
    post(client, "/wallet/shares", "/wallet/shares", title="Pour mon CV", credential=public_id)
    imported_id = setup(lambda: _imported_row(world["lea_id"]))
    response = post(client, "/wallet/export", "/wallet/settings")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {f"credentials/{public_id}.json", f"credentials/{public_id}.jwt", f"imported/{imported_id}.json",
            "account.json"} <= names
    stored = query(lambda: issuing.get_credential(public_id))
    assert archive.read(f"credentials/{public_id}.json").decode() == stored.document_json
    assert archive.read(f"credentials/{public_id}.jwt").decode() == stored.vc_jwt
    account = json.loads(archive.read("account.json"))
    assert account["profile"]["email"] == LEA.lower()
    assert [a["email"] for a in account["addresses"]] == ["lea@work.example.org"]
    assert account["shares"][0]["title"] == "Pour mon CV" and account["shares"][0]["url"].startswith("http://localhost/w/")
    assert query(lambda: db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "wallet.exported")))


def test_erasure_removes_personal_data_and_keeps_documents_as_issued(client: FlaskClient, setup: Any, world: Any,
                                                                     outbox: Any, query: Any) -> None:
    mine = award(setup, world, LEA)
    work = award(setup, world, "lea@work.example.org", badge="workshop")
    theirs = award(setup, world, "bob@example.net", badge="reading")
    sign_in(client, world["lea"])
    add_and_confirm(client, outbox, "lea@work.example.org")
    post(client, "/wallet/holder-did", "/wallet/settings", holder_did=DID)
    post(client, "/wallet/shares", "/wallet/shares", title="CV", credential=[mine, work])
    token = query(lambda: db.session.scalar(select(WalletShare.token)))
    setup(lambda: _imported_row(world["lea_id"]))
    documents = query(lambda: {c.public_id: c.document_json for c in db.session.scalars(select(IssuedCredential))})
    hashes = {stats_key_hash(LEA), stats_key_hash("lea@work.example.org")}

    def linked_learners() -> int:
        return len(db.session.scalars(select(StatsLearner).where(StatsLearner.key_hash.in_(hashes))).all())

    assert query(linked_learners) >= 1
    sign_in_by_link(client, setup, LEA)

    wrong = post(client, "/account/erase", "/account/erase", email="someone@example.net")
    assert wrong.status_code == 400
    assert query(lambda: db.session.get(User, world["lea_id"])) is not None
    done = post(client, "/account/erase", "/account/erase", email=LEA.upper())
    assert done.status_code == 200 and "Your account is erased" in done.get_data(as_text=True)

    def state() -> dict[str, Any]:
        lea_id = world["lea_id"]
        return {
            "user": db.session.get(User, lea_id),
            "emails": db.session.scalars(select(WalletEmail).where(WalletEmail.user_id == lea_id)).all(),
            "shares": db.session.scalars(select(WalletShare).where(WalletShare.user_id == lea_id)).all(),
            "imported": db.session.scalars(select(ImportedCredential)
                                           .where(ImportedCredential.user_id == lea_id)).all(),
            "profile": db.session.get(WalletProfile, lea_id),
            "tokens": db.session.scalars(select(EmailToken).where(EmailToken.user_id == lea_id)).all(),
            "credentials": {c.public_id: (c.recipient_email, c.recipient_name, c.recipient_email_key, c.document_json)
                            for c in db.session.scalars(select(IssuedCredential))},
            "audit": db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.erased")).all(),
        }

    after = query(state)
    assert after["user"] is None and after["profile"] is None
    assert after["emails"] == after["shares"] == after["imported"] == after["tokens"] == []
    for public_id in (mine, work):
        email, name, key, document = after["credentials"][public_id]
        assert (email, name) == ("", "") and key.startswith("erased:") and "@" not in key
        assert document == documents[public_id]  # the signed document stays as issued
    assert after["credentials"][theirs][0] == "bob@example.net"
    assert query(linked_learners) == 0  # the observatory's hashes of her addresses are unlinked too
    event = after["audit"][0]
    assert "example" not in json.dumps(event.details) and event.subject_id == str(world["lea_id"])
    assert client.get(f"/w/{token}").status_code == 404
    assert client.get("/wallet").status_code == 302  # signed out


def test_the_last_owner_of_an_organisation_must_hand_over_before_erasing(client: FlaskClient, world: Any,
                                                                        query: Any, setup: Any) -> None:
    sign_in_by_link(client, setup, "owner_b@example.org")
    page = client.get("/account/erase").get_data(as_text=True)
    assert "only owner of: Bibliothèque" in html_module.unescape(page)
    refused = post(client, "/account/erase", "/account/erase", email="owner_b@example.org")
    assert refused.status_code == 409
    assert query(lambda: db.session.scalar(select(User.id).where(User.email_key == "owner_b@example.org")))


def _texts(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="ignore")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def test_after_an_erasure_no_table_and_no_file_holds_the_address(app: Flask, client: FlaskClient, setup: Any,
                                                                 world: Any, outbox: Any, query: Any) -> None:
    # Regression: credentials claimed through a campaign kept the idempotency key claim:<id>:<email> (listed by
    # the organisation's GET /api/v1/credentials), and the mail outbox kept every message for ever.
    from badgehub.issuing import batches
    from badgehub.mails.awards import notify_recipient

    address, extra = LEA.lower(), "lea@work.example.org"
    claimed = award(setup, world, LEA, idempotency_key=f"claim:7:{address}")
    by_crm = award(setup, world, extra, badge="workshop", idempotency_key=f"crm-{extra.upper()}")

    def mail_and_list() -> None:
        notify_recipient(issuing.get_credential(claimed), app.config)
        achievement = public_achievement(world["reading"])
        batches.create_draft(achievement.organisation, achievement, f"email,name\n{LEA},Léa Martin\n", actor_id=None,
                             config=current_app.config)

    setup(mail_and_list)
    sign_in(client, world["lea"])
    add_and_confirm(client, outbox, extra)
    sign_in_by_link(client, setup, LEA)
    assert any(address in _texts(message).lower() for message in outbox())
    done = post(client, "/account/erase", "/account/erase", email=LEA)
    assert done.status_code == 200

    def every_value() -> list[tuple[str, str]]:
        found = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).all():
                found.extend((table.name, _texts(value).lower()) for value in row)
        return found

    for table, text in query(every_value):
        assert address not in text and extra not in text, table
    for path in Path(app.config["INSTANCE_PATH"]).rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("utf-8", errors="ignore").lower()
            assert address not in content and extra not in content, path.name
    # The award asked again with the same key is still the same award, not a second one.
    assert award(setup, world, LEA, idempotency_key=f"claim:7:{address}") == claimed
    assert award(setup, world, extra, badge="workshop", idempotency_key=f"crm-{extra.upper()}") == by_crm
