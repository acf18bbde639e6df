"""Share links /w/<token> (stopped and expired at once, unlisted, rate limited, QR code) and imports into the
wallet (every shared example with its verdict, hostile files and addresses refused, nothing stored).

No test reaches the network: names resolve to nothing, and connections may only go to loopback servers the
test starts itself.
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import io
import ipaddress
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from badgehub.extensions import db
from badgehub.printing.qr import qr_svg
from badgehub.verification import fetch as fetch_module
from badgehub.verification.fetch import SafeFetcher
from badgehub.verification.platform import FETCHER_EXTENSION, register_local_resolver
from badgehub.verification.resolver import StaticResolver
from badgehub.wallet.models import ImportedCredential, WalletShare
from tests.conftest import sign_in, token_of
from tests.functional.test_verify_page import BITSTRING_URL, EXAMPLES, verdict_title
from tests.functional.test_verify_page import EXPECTED as VERDICTS
from tests.functional.test_wallet import LEA, award, build_wallet_world, post, text_of

LOOPBACK = ipaddress.ip_network("127.0.0.1/32")
# Files of the examples folder that hold no badge: refused, with the message the learner reads.
REFUSED = {
    "README.md": "This file cannot hold a badge. Upload a JSON, JWT, PNG or SVG file.",
    "ob3-v2-testvector-proof-canon.nq": "This file cannot hold a badge. Upload a JSON, JWT, PNG or SVG file.",
    "ob3-v2-testvector-document-canon.nq": "The image is damaged or unsafe",
    "ob3-v2-testvector-key.json": "The document is not an Open Badge credential.",
}


# No name resolves, and a connection anywhere but to loopback fails the test (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def world(snapshot: Any) -> dict[str, Any]:
    return snapshot(build_wallet_world)


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared example credentials not found at {EXAMPLES}")
    return EXAMPLES


@pytest.fixture
def status_lists(app: Flask, examples: Path) -> None:
    status_list = json.loads((examples / "bitstring-status-list-credential.json").read_text(encoding="utf-8"))
    register_local_resolver(app, lambda: StaticResolver({BITSTRING_URL: status_list}))


def imports_count(query: Any) -> int:
    return int(query(lambda: db.session.scalar(select(func.count()).select_from(ImportedCredential))))


def problem(html: str) -> str:
    match = re.search(r'<div class="error-summary" role="alert"[^>]*>\s*<p>(.*?)</p>', html, re.S)
    assert match, "no problem shown"
    return html_module.unescape(match.group(1).strip())


def upload(client: FlaskClient, content: bytes | Any, name: str = "badge.json", **fields: Any) -> Any:
    data = {"csrf_token": token_of(client, "/wallet/import"), "credential_file": (content if not isinstance(
        content, bytes) else io.BytesIO(content), name), **fields}
    return client.post("/wallet/import", data=data, content_type="multipart/form-data")


def submit(client: FlaskClient, **fields: Any) -> Any:
    return client.post("/wallet/import", data={"csrf_token": token_of(client, "/wallet/import"), **fields},
                       content_type="multipart/form-data")


# -- shares


def make_share(client: FlaskClient, **fields: Any) -> Any:
    return post(client, "/wallet/shares", "/wallet/shares", **fields)


def share_token(query: Any) -> str:
    return str(query(lambda: db.session.scalar(select(WalletShare.token).order_by(WalletShare.id.desc()))))


def test_a_share_shows_the_chosen_credentials_with_their_live_status(client: FlaskClient, setup: Any, world: Any,
                                                                     query: Any) -> None:
    shown = award(setup, world, LEA)
    hidden = award(setup, world, LEA, badge="workshop")
    sign_in(client, world["lea"])
    assert make_share(client, title="Pour Atelier Bois", credential=shown).status_code == 302
    token = share_token(query)
    assert len(token) >= 22  # at least 128 random bits, url-safe
    anonymous = client.application.test_client()
    response = anonymous.get(f"/w/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert response.headers["X-Robots-Tag"] == "noindex" and '<meta name="robots" content="noindex">' in page
    assert f'href="/c/{shown}?via={token}"' in page and hidden not in page
    assert "Pour Atelier Bois" in page and "Valid" in text_of(page)
    assert LEA.lower() not in page.lower()  # the holder's address is never on a share page

    def revoke() -> None:
        from badgehub.issuing import service as issuing

        issuing.revoke_credential(issuing.get_credential(shown), note="erreur", actor_id=None,
                                  config=current_app.config)

    setup(revoke)
    assert "Revoked" in text_of(anonymous.get(f"/w/{token}").get_data(as_text=True))


def test_the_badge_page_opened_from_a_share_names_the_holder_while_the_share_lives(
        client: FlaskClient, setup: Any, world: Any, query: Any) -> None:
    # Issue 16: an employer opening a badge from the holder's /w/ link saw no name on /c/<id>.
    shown = award(setup, world, LEA)
    other = award(setup, world, LEA, badge="workshop")
    sign_in(client, world["lea"])
    make_share(client, title="Candidature", credential=shown)
    token = share_token(query)
    employer = client.application.test_client()
    opened = employer.get(f"/c/{shown}?via={token}")
    assert opened.status_code == 200 and opened.headers["Referrer-Policy"] == "no-referrer"
    assert "Awarded to Léa Martin" in text_of(opened.get_data(as_text=True))
    # Not without the share, not for a badge the share does not show, not with a made-up token.
    for address in (f"/c/{shown}", f"/c/{other}?via={token}", f"/c/{shown}?via=" + "x" * 30, f"/c/{shown}?via="):
        assert "Léa Martin" not in employer.get(address).get_data(as_text=True), address
    share_id = query(lambda: db.session.scalar(select(WalletShare.id)))
    assert post(client, f"/wallet/shares/{share_id}/revoke", "/wallet/shares").status_code == 302
    assert "Léa Martin" not in employer.get(f"/c/{shown}?via={token}").get_data(as_text=True)


def test_stopping_a_share_takes_effect_at_once(client: FlaskClient, setup: Any, world: Any, query: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    make_share(client, title="CV", credential=public_id)
    token = share_token(query)
    share_id = query(lambda: db.session.scalar(select(WalletShare.id)))
    assert client.get(f"/w/{token}").status_code == 200
    assert post(client, f"/wallet/shares/{share_id}/revoke", "/wallet/shares").status_code == 302
    gone = client.get(f"/w/{token}")
    assert gone.status_code == 410
    assert "stopped sharing these badges" in text_of(gone.get_data(as_text=True))
    assert post(client, f"/wallet/shares/{share_id}/delete", "/wallet/shares").status_code == 302
    assert client.get(f"/w/{token}").status_code == 404


def test_an_expired_share_answers_410_from_its_expiry_on(client: FlaskClient, setup: Any, world: Any,
                                                         query: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    make_share(client, title="CV", credential=public_id, expires_on=tomorrow)
    token = share_token(query)
    assert client.get(f"/w/{token}").status_code == 200
    # Issue 16: the end was printed as 2026-12-08; it is a moment in the reader's words, with its zone.
    listed = text_of(client.get("/wallet/shares").get_data(as_text=True))
    assert tomorrow not in listed and re.search(r"until \w{3} \d+, \d{4}, \d+:\d\d [AP]M UTC", listed), listed

    def expire() -> None:
        share = db.session.scalar(select(WalletShare))
        share.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)

    setup(expire)
    assert client.get(f"/w/{token}").status_code == 410
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).date().isoformat()
    refused = make_share(client, title="CV", credential=public_id, expires_on=yesterday)
    assert refused.status_code == 400 and "in the future" in text_of(refused.get_data(as_text=True))


def test_a_share_without_a_title_or_a_badge_is_refused_clearly(client: FlaskClient, setup: Any, world: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    nothing = make_share(client, title="CV")
    assert nothing.status_code == 400 and "Choose at least one badge" in text_of(nothing.get_data(as_text=True))
    untitled = make_share(client, title="  ", credential=public_id)
    assert untitled.status_code == 400 and "title" in text_of(untitled.get_data(as_text=True))
    forged = make_share(client, title="CV", imported="not-a-number")
    assert forged.status_code == 400


@pytest.mark.parametrize("token", ["nope", "A" * 24, "x" * 300, "../../etc"])
def test_unknown_share_tokens_are_404(client: FlaskClient, token: str) -> None:
    assert client.get(f"/w/{token}").status_code == 404


def test_the_share_qr_code_is_served_from_our_origin_and_decodes_to_the_link(client: FlaskClient, setup: Any,
                                                                            world: Any, query: Any) -> None:
    public_id = award(setup, world, LEA)
    sign_in(client, world["lea"])
    make_share(client, title="CV", credential=public_id)
    token = share_token(query)
    share_id = query(lambda: db.session.scalar(select(WalletShare.id)))
    page = client.get("/wallet/shares").get_data(as_text=True)
    assert f"/wallet/shares/{share_id}/qr.svg" in page and f"http://localhost/w/{token}" in page
    response = client.get(f"/wallet/shares/{share_id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    # Exactly printing's QR code of the share's address (printing's own tests decode its codes).
    assert response.data == qr_svg(f"http://localhost/w/{token}", scale=6, title="QR code of the link CV")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_share_pages_are_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["RATELIMIT_WALLET_SHARE"] = "2 per minute"
    statuses = [client.get("/w/" + "B" * 24).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]


# -- imports: every shared example


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_each_shared_example_imports_with_its_verdict(client: FlaskClient, world: Any, examples: Path,
                                                      status_lists: None, query: Any, name: str) -> None:
    sign_in(client, world["lea"])
    raw = (examples / name).read_bytes()
    response = upload(client, raw, name)
    assert response.status_code == 302, problem(response.get_data(as_text=True))
    detail = client.get(response.headers["Location"])
    assert verdict_title(detail.get_data(as_text=True)) == VERDICTS[name]
    stored = query(lambda: db.session.scalar(select(ImportedCredential)))
    assert query(lambda: db.session.scalar(select(ImportedCredential.raw))) == raw  # byte for byte
    assert stored.last_report["checks"] and stored.last_checked_at is not None
    original = client.get(f"/wallet/imported/{stored.id}/file")
    assert original.data == raw and original.headers["Content-Disposition"].startswith("attachment")
    wallet = text_of(client.get("/wallet").get_data(as_text=True))
    assert "Badges from elsewhere" in wallet and "Imported" in wallet


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_of_the_examples_that_hold_no_badge_are_refused(client: FlaskClient, world: Any, examples: Path,
                                                               query: Any, name: str) -> None:
    sign_in(client, world["lea"])
    response = upload(client, (examples / name).read_bytes(), name)
    assert 400 <= response.status_code < 500
    assert REFUSED[name] in problem(response.get_data(as_text=True))
    assert imports_count(query) == 0


def test_an_imported_badge_shows_on_a_share_page_with_its_status(client: FlaskClient, world: Any, examples: Path,
                                                                 query: Any) -> None:
    sign_in(client, world["lea"])
    upload(client, (examples / "NEG-ob3-v2-bad-proofvalue.json").read_bytes())
    imported_id = query(lambda: db.session.scalar(select(ImportedCredential.id)))
    assert make_share(client, title="Tout", imported=str(imported_id)).status_code == 302
    page = text_of(client.get(f"/w/{share_token(query)}").get_data(as_text=True))
    assert "Not genuine" in page and "Imported" in page


def test_importing_the_same_badge_twice_is_refused_and_pasted_text_works(client: FlaskClient, world: Any,
                                                                           examples: Path, query: Any) -> None:
    sign_in(client, world["lea"])
    jwt = (examples / "ob3-v2-simple-vcjwt-rs256.jwt").read_text()
    assert submit(client, credential_text=jwt).status_code == 302
    again = submit(client, credential_text=jwt)
    assert again.status_code == 409 and "already in your wallet" in problem(again.get_data(as_text=True))
    assert query(lambda: db.session.scalar(select(ImportedCredential.format))) == "jwt"


# -- hostile imports


class Zeros(io.RawIOBase):
    """A file of ``size`` zero bytes that is never held in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = b"0" * count
        self.left -= count
        return count


def test_a_100_mb_file_is_refused_and_nothing_is_stored(client: FlaskClient, world: Any, query: Any) -> None:
    sign_in(client, world["lea"])
    response = upload(client, io.BufferedReader(Zeros(100 * 1024 * 1024)), "huge.json")
    assert response.status_code == 413
    assert "too large" in text_of(response.get_data(as_text=True))
    assert imports_count(query) == 0


def test_a_file_over_the_badge_limit_is_refused_with_the_limit(client: FlaskClient, world: Any, query: Any) -> None:
    sign_in(client, world["lea"])
    response = upload(client, b"{" + b" " * (6 * 1024 * 1024) + b"}", "big.json")
    assert response.status_code == 413
    assert "too large to be a badge: at most 5 MB" in problem(response.get_data(as_text=True))
    assert imports_count(query) == 0


@pytest.mark.parametrize("address", [
    "https://127.0.0.1/badge.json", "http://127.0.0.1:8080/badge.json", "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/badge.json", "https://10.255.1.2/x", "https://[::1]/badge.json",
])
def test_an_address_inside_a_private_network_is_refused(client: FlaskClient, world: Any, query: Any,
                                                        offline: list[Any], address: str) -> None:
    sign_in(client, world["lea"])
    for response in (submit(client, credential_url=address), submit(client, credential_text=f"  {address} ")):
        assert response.status_code == 400
        message = problem(response.get_data(as_text=True))
        assert message.startswith("This address cannot be checked:")
        assert "private or local network" in message or "secure addresses" in message
    assert offline == [] and imports_count(query) == 0


def test_a_name_resolving_to_a_private_address_is_refused(client: FlaskClient, world: Any, query: Any,
                                                           offline: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("10.1.2.3")])
    sign_in(client, world["lea"])
    response = submit(client, credential_url="https://intranet.example.org/badge.json")
    assert response.status_code == 400
    assert "private or local network" in problem(response.get_data(as_text=True))
    assert offline == [] and imports_count(query) == 0


@pytest.fixture
def mute_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/badge.json"
    listener.close()


def test_a_server_that_never_answers_is_given_up_with_a_clear_message(app: Flask, client: FlaskClient, world: Any,
                                                                       query: Any, mute_server: str) -> None:
    # The test's server is on 127.0.0.1: this app's fetcher gets the test-only allowance and a short time-out.
    app.extensions[FETCHER_EXTENSION] = SafeFetcher(allow_http=True, allowed_networks=[LOOPBACK], timeout=0.5)
    sign_in(client, world["lea"])
    response = submit(client, credential_url=mute_server)
    assert response.status_code == 400
    assert problem(response.get_data(as_text=True)) == (
        "No badge could be fetched from this address: the site took too long to answer.")
    assert imports_count(query) == 0


def test_a_badge_at_an_address_is_fetched_kept_with_its_source(app: Flask, client: FlaskClient, world: Any,
                                                               query: Any, examples: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = (examples / "ob3-v2-dual-proof-didkey.json").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app.extensions[FETCHER_EXTENSION] = SafeFetcher(allow_http=True, allowed_networks=[LOOPBACK], timeout=3)
        sign_in(client, world["lea"])
        url = f"http://127.0.0.1:{server.server_port}/badge.json"
        response = submit(client, credential_url=url)
        assert response.status_code == 302
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
    stored = query(lambda: db.session.execute(select(ImportedCredential.raw, ImportedCredential.source_url)).one())
    assert tuple(stored) == (body, url)


def test_the_import_form_needs_its_csrf_token_and_one_input(client: FlaskClient, world: Any, query: Any) -> None:
    sign_in(client, world["lea"])
    assert client.post("/wallet/import", data={"credential_text": "{}"}).status_code == 400
    empty = submit(client)
    assert empty.status_code == 400 and "Give a badge" in problem(empty.get_data(as_text=True))
    both = submit(client, credential_text="{}", credential_url="https://example.org/b.json")
    assert both.status_code == 400 and "one badge at a time" in problem(both.get_data(as_text=True))
    assert imports_count(query) == 0


def test_importing_a_badge_that_is_not_genuine_is_never_announced_in_green(client: FlaskClient, world: Any,
                                                                          examples: Path) -> None:
    sign_in(client, world["lea"])
    response = submit(client, credential_text=(examples / "NEG-ob3-v2-bad-proofvalue.json").read_text())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not pass verification" in page and 'class="flash flash-error"' in page
    assert 'class="flash flash-success"' not in page
