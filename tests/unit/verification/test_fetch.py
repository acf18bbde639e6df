"""The safe fetcher: refusals of internal addresses, limits on size, time and redirects, the cache.

Every server here is started by the test on 127.0.0.1 or 127.0.0.2 and reached through the fetcher's
test-only ``allowed_networks``. The verification suite's ``no_network`` guard is narrowed, not lifted:
connections may only go to the loopback addresses, and the system resolver may only be asked about
``localhost``; a refused address that the fetcher tried to connect to fails the test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from badgehub.verification import fetch as fetch_module
from badgehub.verification.fetch import SafeFetcher, SafeFetchError, is_public_address
from badgehub.verification.resolver import DocumentResolver, FetchError, ResolutionError

LOOPBACK_1 = ipaddress.ip_network("127.0.0.1/32")
LOOPBACK_2 = ipaddress.ip_network("127.0.0.2/32")
LOOPBACKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

Respond = Callable[[socket.socket, bytes, "RawServer"], None]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """Replaces the suite's guard: only loopback connections, only ``localhost`` or literals resolved."""
    connects: list[tuple[Any, ...]] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> None:
        connects.append(address)
        host = ipaddress.ip_address(address[0])
        if not any(host in network for network in LOOPBACKS if network.version == host.version):
            raise AssertionError(f"network access attempted: {address!r}")
        real_connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise AssertionError(f"name resolution attempted: {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield connects


class RawServer:
    """A TCP server on a loopback address that answers each request with ``respond(conn, head, server)``."""

    def __init__(self, respond: Respond, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.tls = tls
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/doc", host: str | None = None, scheme: str = "http") -> str:
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self.threads.append(worker)
            worker.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(3)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.requests.append(head)
            self.respond(conn, head, self)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        # Wakes the accept() waiting in the server's thread at once (closing alone leaves it to its 0.1 s timeout).
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)
        for worker in self.threads:
            worker.join(5)


@pytest.fixture
def serve() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(respond: Respond, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> RawServer:
        server = RawServer(respond, host, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def answer(body: bytes, status: str = "200 OK", headers: dict[str, str] | None = None) -> Respond:
    def respond(conn: socket.socket, head: bytes, server: RawServer) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return respond


def redirect(location: str | Callable[[], str], status: str = "302 Found") -> Respond:
    def respond(conn: socket.socket, head: bytes, server: RawServer) -> None:
        target = location() if callable(location) else location
        conn.sendall(f"HTTP/1.1 {status}\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode())

    return respond


def stream(head_lines: list[str], chunk: bytes, total: int, delay: float = 0.0) -> Respond:
    """Send ``head_lines`` then ``chunk`` repeatedly, ``total`` bytes at most, until the peer leaves."""

    def respond(conn: socket.socket, head: bytes, server: RawServer) -> None:
        conn.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode())
        sent = 0
        while sent < total and not server.stop.is_set():
            conn.sendall(chunk)
            sent += len(chunk)
            if delay:
                time.sleep(delay)

    return respond


def fetcher(**options: Any) -> SafeFetcher:
    defaults: dict[str, Any] = {"allow_http": True, "allowed_networks": [LOOPBACK_1], "timeout": 3.0}
    return SafeFetcher(**{**defaults, **options})


def refusal(call: Callable[[], object]) -> SafeFetchError:
    with pytest.raises(SafeFetchError) as caught:
        call()
    return caught.value


# -- addresses


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/doc",
        "https://127.1.2.3/doc",
        "https://localhost/doc",
        "https://LocalHost./doc",
        "https://api.localhost/doc",
        "https://printer.local/doc",
        "https://db.internal/doc",
        "https://router.home.arpa/doc",
        "https://[::1]/doc",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/doc",
        "https://172.16.5.4/doc",
        "https://192.168.1.1/doc",
        "https://100.64.0.1/doc",
        "https://0.0.0.0/doc",
        "https://224.0.0.1/doc",
        "https://255.255.255.255/doc",
        "https://[::]/doc",
        "https://[fd00::1]/doc",
        "https://[fe80::1]/doc",
        "https://[ff02::1]/doc",
        "https://[::ffff:127.0.0.1]/doc",
        "https://[::ffff:10.0.0.1]/doc",
        "https://[64:ff9b::a9fe:a9fe]/doc",
        "https://[2002:a00:1::]/doc",
    ],
)
def test_fetch_refuses_internal_addresses_without_connecting(url: str, no_network: list[tuple[Any, ...]]) -> None:
    error = refusal(lambda: SafeFetcher().fetch(url))
    assert error.reason == "address_not_allowed"
    assert isinstance(error, FetchError) and error.url == url
    assert no_network == []


def test_a_host_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_network: list[tuple[Any, ...]]
) -> None:
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("10.1.2.3")])
    error = refusal(lambda: SafeFetcher().fetch("https://badges.example.org/issuers/1/did.json"))
    assert error.reason == "address_not_allowed"
    assert "10.1.2.3" in str(error)
    assert no_network == []


def test_a_host_name_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_network: list[tuple[Any, ...]]
) -> None:
    addresses = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("fd12::1")]
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: addresses)
    assert refusal(lambda: SafeFetcher().fetch("https://mixed.example.org/")).reason == "address_not_allowed"
    assert no_network == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("8.8.8.8", True),
        ("100.127.255.254", False),
        ("198.18.0.1", False),
        ("192.0.2.10", False),
        ("::ffff:8.8.8.8", False),  # IPv4-mapped: never a real host's address, always refused
        ("::ffff:192.168.0.1", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo, whose client address is private
    ],
)
def test_public_address_rule(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.org/doc", "scheme_not_allowed"),
        ("ftp://example.org/doc", "scheme_not_allowed"),
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("gopher://example.org/", "scheme_not_allowed"),
        ("https://user:secret@example.org/doc", "invalid_url"),
        ("https://example.org:22/doc", "port_not_allowed"),
        ("https://example.org:99999/doc", "invalid_url"),
        ("https:///doc", "invalid_url"),
        ("https://exa mple.org/", "invalid_url"),
        ("https://example.org/\r\nX-Injected: 1", "invalid_url"),
        ("", "invalid_url"),
        ("https://example.org/" + "a" * 3000, "invalid_url"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url: str, reason: str, no_network: list[tuple[Any, ...]]) -> None:
    assert refusal(lambda: SafeFetcher().fetch(url)).reason == reason
    assert no_network == []


def test_check_url_answers_without_the_network() -> None:
    fetcher_ = SafeFetcher()
    fetcher_.check_url("https://badges.example.org/c/1")  # a name: checked when fetched
    assert refusal(lambda: fetcher_.check_url("https://169.254.169.254/")).reason == "address_not_allowed"
    assert refusal(lambda: fetcher_.check_url("http://badges.example.org/")).reason == "scheme_not_allowed"


# -- fetching, redirects, pinning


def test_fetch_returns_the_body_and_sends_a_plain_get(serve: Callable[..., RawServer]) -> None:
    server = serve(answer(b'{"ok": true}'))
    assert fetcher(user_agent="Test-UA/1").fetch(server.url("/doc?x=1"), accept="application/json") == b'{"ok": true}'
    [head] = server.requests
    text = head.decode()
    assert text.startswith("GET /doc?x=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in text
    assert "Accept: application/json" in text and "User-Agent: Test-UA/1" in text
    assert "Accept-Encoding" not in text and "Cookie" not in text


def test_the_connection_goes_to_the_address_that_was_checked(
    serve: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(answer(b"pinned"), host="127.0.0.2")
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[Any]:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.2")]

    monkeypatch.setattr(fetch_module, "resolve_addresses", resolve)
    body = fetcher(allowed_networks=[LOOPBACK_2]).fetch(server.url(host="rebind.test"))
    assert body == b"pinned"
    # Resolved once, by the fetcher; the socket layer was never asked (the guard would have failed).
    assert calls == ["rebind.test"]
    assert f"Host: rebind.test:{server.port}" in server.requests[0].decode()


def test_redirects_are_followed_and_checked_again_at_every_hop(serve: Callable[..., RawServer]) -> None:
    final = serve(answer(b"final"))
    middle = serve(redirect(final.url("/end"), "301 Moved Permanently"))
    first = serve(redirect(lambda: middle.url("/next"), "307 Temporary Redirect"))
    assert fetcher().fetch(first.url()) == b"final"
    assert [len(s.requests) for s in (first, middle, final)] == [1, 1, 1]


def test_a_redirect_to_a_refused_address_is_not_followed(
    serve: Callable[..., RawServer], no_network: list[tuple[Any, ...]]
) -> None:
    inside = serve(answer(b"secret"), host="127.0.0.1")
    entry = serve(redirect(lambda: inside.url("/admin")), host="127.0.0.2")
    # Only the first hop's address is allowed here; the redirect target is loopback.
    error = refusal(lambda: fetcher(allowed_networks=[LOOPBACK_2]).fetch(entry.url()))
    assert error.reason == "address_not_allowed"
    assert inside.requests == []
    assert len(entry.requests) == 1


@pytest.mark.parametrize("target", ["http://localhost:{port}/x", "https://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_localhost_or_the_metadata_service_is_refused(
    serve: Callable[..., RawServer], target: str
) -> None:
    entry = serve(redirect(lambda: target.format(port=entry.port)), host="127.0.0.2")
    error = refusal(lambda: fetcher(allowed_networks=[LOOPBACK_2]).fetch(entry.url()))
    assert error.reason == "address_not_allowed"


def test_a_redirect_from_https_to_http_is_refused_when_http_is_not_allowed(
    serve: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_tls, client_tls = tls_pair
    entry = serve(redirect("http://badges.test/plain"), tls=server_tls)
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    strict = SafeFetcher(allowed_networks=[LOOPBACK_1], ssl_context=client_tls)
    assert refusal(lambda: strict.fetch(entry.url(host="badges.test", scheme="https"))).reason == "scheme_not_allowed"


def test_too_many_redirects_are_refused(serve: Callable[..., RawServer]) -> None:
    loop = serve(redirect(lambda: loop.url("/again")))
    error = refusal(lambda: fetcher(max_redirects=3).fetch(loop.url()))
    assert error.reason == "too_many_redirects"
    assert len(loop.requests) == 4


def test_an_error_status_is_reported_with_the_status(serve: Callable[..., RawServer]) -> None:
    gone = serve(answer(b"", "410 Gone"))
    error = refusal(lambda: fetcher().fetch(gone.url()))
    assert (error.reason, error.status) == ("http_error", 410)
    # The resolver turns 410 into "gone" (an OB 2.0 hosted assertion that was revoked).
    with pytest.raises(ResolutionError) as caught:
        DocumentResolver(fetcher().fetch).fetch_document(gone.url())
    assert caught.value.code == "gone"


def test_a_closed_port_is_a_connection_failure() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    assert refusal(lambda: fetcher().fetch(f"http://127.0.0.1:{port}/")).reason == "connect_failed"


# -- size


def test_an_announced_100_mb_body_is_refused_before_reading(serve: Callable[..., RawServer]) -> None:
    huge = serve(stream(["HTTP/1.1 200 OK", f"Content-Length: {100 * 1024 * 1024}"], b"x" * 65536, 100 * 1024 * 1024))
    started = time.monotonic()
    error = refusal(lambda: fetcher().fetch(huge.url()))
    assert error.reason == "too_large"
    assert time.monotonic() - started < 2


def test_an_unannounced_100_mb_body_is_cut_at_the_limit(serve: Callable[..., RawServer]) -> None:
    huge = serve(stream(["HTTP/1.1 200 OK", "Connection: close"], b"x" * 65536, 100 * 1024 * 1024))
    started = time.monotonic()
    error = refusal(lambda: fetcher(max_bytes=1024 * 1024).fetch(huge.url()))
    assert error.reason == "too_large"
    assert time.monotonic() - started < 2


def test_a_lying_content_length_does_not_raise_the_limit(serve: Callable[..., RawServer]) -> None:
    # It announces 100 bytes, then streams chunks without end: the chunked encoding rules, and is counted.
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    liar = serve(stream(["HTTP/1.1 200 OK", "Content-Length: 100", "Transfer-Encoding: chunked"], chunk, 50 << 20))
    assert refusal(lambda: fetcher(max_bytes=256 * 1024).fetch(liar.url())).reason == "too_large"


def test_a_body_shorter_than_announced_is_a_broken_answer(serve: Callable[..., RawServer]) -> None:
    short = serve(stream(["HTTP/1.1 200 OK", "Content-Length: 5000"], b"x" * 100, 100))
    assert refusal(lambda: fetcher().fetch(short.url())).reason == "protocol_error"


def test_a_body_at_the_limit_is_accepted(serve: Callable[..., RawServer]) -> None:
    exact = serve(answer(b"y" * 4096))
    assert fetcher(max_bytes=4096).fetch(exact.url()) == b"y" * 4096


# -- time


def test_a_server_that_never_answers_is_cut_at_the_deadline(serve: Callable[..., RawServer]) -> None:
    def silent(conn: socket.socket, head: bytes, server: RawServer) -> None:
        server.stop.wait(10)

    mute = serve(silent)
    started = time.monotonic()
    error = refusal(lambda: fetcher(timeout=0.8).fetch(mute.url()))
    elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert 0.7 < elapsed < 1.5


def test_a_trickling_server_is_cut_at_the_deadline(serve: Callable[..., RawServer]) -> None:
    # One byte every 50 ms: each read succeeds quickly, so only a deadline over the whole call stops it.
    slow = serve(stream(["HTTP/1.1 200 OK", "Content-Length: 100000"], b"x", 100000, delay=0.05))
    started = time.monotonic()
    error = refusal(lambda: fetcher(timeout=0.8).fetch(slow.url()))
    assert error.reason == "timeout"
    assert time.monotonic() - started < 1.5


def test_trickled_headers_are_cut_at_the_deadline_too(serve: Callable[..., RawServer]) -> None:
    def trickle_headers(conn: socket.socket, head: bytes, server: RawServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not server.stop.is_set():
            conn.sendall(b"X-Slow: y\r\n")
            time.sleep(0.05)

    slow = serve(trickle_headers)
    started = time.monotonic()
    error = refusal(lambda: fetcher(timeout=0.8).fetch(slow.url()))
    assert error.reason in ("timeout", "protocol_error")  # cut at the deadline, or at http.client's 100 headers
    assert time.monotonic() - started < 1.5


def test_a_slow_name_resolution_is_cut_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow_resolve(host: str, port: int) -> list[Any]:
        release.wait(5)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(fetch_module, "resolve_addresses", slow_resolve)
    started = time.monotonic()
    try:
        assert refusal(lambda: fetcher(timeout=0.5).fetch("http://slow-dns.test:8080/")).reason == "timeout"
        assert time.monotonic() - started < 1.2
    finally:
        release.set()


def test_an_unknown_host_name_is_a_resolution_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(fetch_module, "resolve_addresses", unknown)
    assert refusal(lambda: SafeFetcher().fetch("https://no-such-host.test/")).reason == "dns_failed"


# -- cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_answers_within_its_lifetime_and_asks_again_after(serve: Callable[..., RawServer]) -> None:
    server = serve(answer(b"cached"))
    clock = Clock()
    cached = fetcher(cache_ttl=300, clock=clock)
    assert cached.fetch(server.url()) == b"cached"
    clock.now += 299
    assert cached.fetch(server.url()) == b"cached"
    assert len(server.requests) == 1
    clock.now += 2
    assert cached.fetch(server.url()) == b"cached"
    assert len(server.requests) == 2


def test_the_cache_keeps_accept_apart_and_never_keeps_failures(serve: Callable[..., RawServer]) -> None:
    server = serve(answer(b"doc"))
    cached = fetcher()
    cached.fetch(server.url(), accept="application/json")
    cached.fetch(server.url(), accept="application/jwt")
    assert len(server.requests) == 2
    missing = serve(answer(b"", "404 Not Found"))
    for _ in range(2):
        refusal(lambda: cached.fetch(missing.url()))
    assert len(missing.requests) == 2


def test_the_cache_is_bounded(serve: Callable[..., RawServer]) -> None:
    server = serve(answer(b"z" * 100))
    cached = fetcher(cache_entries=2)
    for path in ("/a", "/b", "/c"):
        cached.fetch(server.url(path))
    assert cached.cached_count == 2
    cached.fetch(server.url("/a"))  # the oldest was dropped
    assert len(server.requests) == 4
    small = fetcher(cache_bytes=150)
    small.fetch(server.url("/a"))
    small.fetch(server.url("/b"))
    assert small.cached_count == 1


def test_the_fetcher_is_shared_safely_between_threads(serve: Callable[..., RawServer]) -> None:
    server = serve(answer(b"shared"))
    shared = fetcher(cache_ttl=0)
    results: list[bytes] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        body = shared.fetch(server.url(f"/{index}"))
        with lock:
            results.append(body)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [b"shared"] * 8


# -- TLS


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for ``badges.test``, and a client trusting only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "badges.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("badges.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


def test_https_verifies_the_certificate_against_the_host_name(
    serve: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_tls, client_tls = tls_pair
    server = serve(answer(b"secure"), tls=server_tls)
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    secure = SafeFetcher(allowed_networks=[LOOPBACK_1], ssl_context=client_tls)
    assert secure.fetch(server.url(host="badges.test", scheme="https")) == b"secure"
    assert f"Host: badges.test:{server.port}" in server.requests[0].decode()
    # The same server under another name: its certificate does not match, so the fetch fails.
    assert refusal(lambda: secure.fetch(server.url(host="other.test", scheme="https"))).reason == "tls_failed"


def test_a_trickled_tls_handshake_is_cut_at_the_deadline(
    serve: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch, tls_pair: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    _server_tls, client_tls = tls_pair

    def mute(conn: socket.socket, head: bytes, server: RawServer) -> None:  # never gets a request head
        server.stop.wait(10)

    def never_handshake(conn: socket.socket) -> None:
        while not stop.is_set():
            conn.sendall(b"\x16")  # a byte of a TLS record, then another, never a whole message
            time.sleep(0.05)

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def accept() -> None:
        conn, _ = listener.accept()
        try:
            never_handshake(conn)
        except OSError:
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setattr(fetch_module, "resolve_addresses", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    started = time.monotonic()
    try:
        secure = SafeFetcher(allowed_networks=[LOOPBACK_1], ssl_context=client_tls, timeout=0.8)
        error = refusal(lambda: secure.fetch(f"https://badges.test:{listener.getsockname()[1]}/"))
        assert error.reason in ("timeout", "tls_failed")
        assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        thread.join(5)
        listener.close()


# -- the platform's resolver (badgehub.verification.platform)


class FakeApp:
    """What build_resolver needs from a Flask app: its configuration and its extensions."""

    def __init__(self, **config: Any) -> None:
        self.config: dict[str, Any] = config
        self.extensions: dict[str, Any] = {}


def test_the_platform_fetcher_is_made_once_per_app_from_its_settings() -> None:
    from badgehub.verification.platform import platform_fetcher

    app = FakeApp(BASE_URL="https://badges.example.org", VERIFY_FETCH_TIMEOUT=2, VERIFY_FETCH_MAX_BYTES=1000,
                  VERIFY_FETCH_MAX_REDIRECTS=1)
    fetcher_ = platform_fetcher(app)
    assert platform_fetcher(app) is fetcher_
    assert (fetcher_.timeout, fetcher_.max_bytes, fetcher_.max_redirects) == (2.0, 1000, 1)
    assert fetcher_.user_agent == "BadgeHub-verifier/1.0 (+https://badges.example.org)"
    assert fetcher_.allow_http is False and fetcher_.allowed_networks == ()
    assert platform_fetcher(FakeApp()) is not fetcher_


def test_the_platform_resolver_asks_our_own_documents_first_then_the_web_through_the_safe_fetcher(
    serve: Callable[..., RawServer],
) -> None:
    from badgehub.verification.platform import FETCHER_EXTENSION, build_resolver, register_local_resolver
    from badgehub.verification.resolver import StaticResolver

    web = serve(answer(b'{"from": "the web"}'))
    app = FakeApp()
    app.extensions[FETCHER_EXTENSION] = fetcher()
    ours = "https://badges.example.org/issuers/a/status/1"
    register_local_resolver(app, lambda: StaticResolver({ours: {"from": "the database"}}))
    resolver = build_resolver(app)
    assert resolver.fetch_document(ours) == {"from": "the database"}
    assert resolver.fetch_document(web.url()) == {"from": "the web"}
    # did:key needs no document at all.
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    assert resolver.resolve_verification_method(f"{did}#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK").source \
        == "did:key"
    # Given explicitly, the local documents replace the registered ones.
    explicit = build_resolver(app, StaticResolver({ours: {"from": "elsewhere"}}))
    assert explicit.fetch_document(ours) == {"from": "elsewhere"}


def test_the_platform_resolver_refuses_internal_addresses(no_network: list[tuple[Any, ...]]) -> None:
    from badgehub.verification.platform import build_resolver

    resolver = build_resolver(FakeApp())
    for url in ("https://169.254.169.254/latest/meta-data/", "https://127.0.0.1/status/1", "http://example.org/x"):
        with pytest.raises(ResolutionError) as caught:
            resolver.fetch_document(url)
        assert caught.value.code == "fetch_refused"
    with pytest.raises(ResolutionError):
        resolver.resolve_verification_method("did:web:localhost%3A5000:issuers:x#key-1")
    assert no_network == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n rest", "png"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>", "svg"),
        (b'\n {"@context": []}', "json"),
        (b"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2lnbmF0dXJl\n", "jwt"),
        (b"GIF89a", None),
        (b"%PDF-1.7", None),
        (b"[1]", None),
        (b"https://badges.example.org/c/1", None),
    ],
)
def test_uploads_are_judged_by_their_content(data: bytes, kind: str | None) -> None:
    from badgehub.verification.platform import sniff_format

    assert sniff_format(data) == kind


def test_a_submitted_e_mail_is_trimmed_or_refused() -> None:
    from badgehub.verification.platform import SubmissionRefused, as_url, recipient_address

    assert recipient_address("  Lea@Example.org ") == "Lea@example.org"
    assert recipient_address("   ") is None and recipient_address(None) is None
    for bad in ("no-at-sign", "two words@example.org", "a@" + "b" * 400):
        with pytest.raises(SubmissionRefused) as caught:
            recipient_address(bad)
        assert caught.value.code == "invalid_email"
    assert as_url("  https://badges.example.org/c/1 \n") == "https://badges.example.org/c/1"
    assert as_url("https://a.example/x and more") is None and as_url('{"a": 1}') is None
