"""The one way verification reaches the web: a fetcher that cannot be turned against our own network.

:class:`SafeFetcher` fetches a URL for the verification pipeline (did:web documents, status lists, JWK
sets, OB 2.0 hosted assertions, a credential given by address on ``/verify``). A stranger chooses every
URL it is given, so it follows these rules (DESIGN §4):

* **Schemes**: ``https`` only; ``http`` too when built with ``allow_http=True`` (development). No user
  name or password in the URL. Ports: 80, 443 and 1024–65535 (never 22, 25, …).
* **Addresses**: names reserved for this machine or a private network (``localhost``, ``*.localhost``,
  ``*.local``, ``*.internal``, ``*.home.arpa``) are refused outright. It resolves any other host name
  itself and refuses the request when *any* address is not a public unicast address: loopback,
  private (10/8, 172.16/12, 192.168/16), link-local (169.254/16, the cloud metadata service
  169.254.169.254), shared CGNAT (100.64/10), multicast, unspecified, reserved, documentation and
  benchmark ranges, and the IPv6 equivalents (``::1``, ``fc00::/7``, ``fe80::/10``,
  multicast) including IPv6 forms that embed an IPv4 address (IPv4-mapped, 6to4, NAT64, Teredo).
* **No DNS rebinding**: it opens the TCP connection to the very address it checked (the ``Host`` header
  and the TLS server name still carry the host name, so certificates are verified as usual).
* **Redirects**: at most ``max_redirects``; every hop is checked again from the start (scheme, port,
  resolution, addresses).
* **Size**: a ``Content-Length`` above ``max_bytes`` is refused at once, and the body is counted while
  it streams, so a server that sends more than it announced, or announces nothing, is cut at
  ``max_bytes`` + 1 bytes. No ``Accept-Encoding`` is sent and nothing is decompressed.
* **Time**: one deadline for the whole call (name resolution, connection, TLS, every redirect, every
  read): a server that never answers, or trickles bytes, is cut when it passes.
* **Cache**: successful bodies are kept ``cache_ttl`` seconds in a bounded, thread-safe in-memory cache
  (least recently used first out), keyed by URL and ``Accept``.

``allowed_networks`` lets tests reach the servers they start on 127.0.0.1: addresses in those networks
pass the address check. It is a test-only allowance; production code never passes it.

Only the standard library is used (``http.client``, ``ssl``, ``socket``), so the rules above are all
in this file.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import quote, urljoin, urlsplit

from badgehub.verification.resolver import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_TIMEOUT: Final = 5.0
"""Seconds for a whole :meth:`SafeFetcher.fetch` call, redirects included."""
DEFAULT_MAX_BYTES: Final = 1024 * 1024
"""Largest body accepted, in bytes."""
DEFAULT_MAX_REDIRECTS: Final = 3
DEFAULT_CACHE_TTL: Final = 300.0
DEFAULT_CACHE_ENTRIES: Final = 256
DEFAULT_CACHE_BYTES: Final = 16 * 1024 * 1024
DEFAULT_USER_AGENT: Final = "BadgeHub-verifier/1.0 (+https://github.com/badgehub)"
DEFAULT_ACCEPT: Final = "application/ld+json, application/json;q=0.9, application/jwt;q=0.8, */*;q=0.1"
MAX_URL_LENGTH: Final = 2048

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_READ_CHUNK: Final = 64 * 1024

# Ranges that the ``is_*`` properties of ipaddress do not all cover on every Python version; listed so
# that the policy can be read here and does not depend on the interpreter's tables.
_BLOCKED_NETWORKS: Final[tuple[IPNetwork, ...]] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network", includes the unspecified address
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, including the 169.254.169.254 metadata service
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
        "::/128",  # unspecified
        "::1/128",  # loopback
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
# Host names reserved for this machine (RFC 6761), multicast DNS on the local link (RFC 6762), and
# private networks (ICANN's .internal, RFC 8375's home.arpa).
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})
_LOCAL_SUFFIXES: Final = (".localhost", ".local", ".internal", ".home.arpa")


class SafeFetchError(FetchError):
    """A refused or failed fetch, with a stable ``reason`` the web layer can explain to people.

    Reasons: ``invalid_url``, ``scheme_not_allowed``, ``port_not_allowed``, ``dns_failed``,
    ``address_not_allowed``, ``connect_failed``, ``tls_failed``, ``timeout``, ``too_large``,
    ``too_many_redirects``, ``http_error`` (``status`` set), ``protocol_error``.
    """

    def __init__(self, url: str, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(url, message, status)
        self.reason = reason


def resolve_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (through the system resolver), in the resolver's order.

    Raises :class:`OSError` when the name does not resolve. Tests replace this function to pretend a
    name resolves to a given address.
    """
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64): each must pass too."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address that the fetcher may connect to."""
    if any(address in network for network in _BLOCKED_NETWORKS if network.version == address.version):
        return False
    if (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    ):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(is_public_address(inner) for inner in _embedded_ipv4(address))
    return True


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name, or an IP literal without brackets
    port: int
    path: str  # path and query, as sent in the request line


class _DeadlineSocket:
    """What ``http.client`` needs from a socket (``sendall``, ``makefile``, ``close``), under a deadline.

    Like a real socket, it stays open while the reader made by :meth:`makefile` is open: ``http.client``
    closes the connection as soon as it sees ``Connection: close`` and goes on reading the body.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._users = 1
        self._lock = threading.Lock()

    def _remaining(self) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        return remaining

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._remaining())  # since Python 3.5, the time-out bounds the whole sendall
        self._sock.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        # A socket time-out alone restarts at each received byte; a server trickling one byte a second
        # would never trigger it. Each read gets only the time left, and none once it has run out.
        self._sock.settimeout(self._remaining())
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        with self._lock:
            self._users += 1
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    """The reading side of a :class:`_DeadlineSocket`, for ``http.client``'s buffered reader."""

    def __init__(self, owner: _DeadlineSocket) -> None:
        super().__init__()
        self._owner: _DeadlineSocket | None = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._owner is None:
            raise ValueError("read from a closed response")
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.close()
        super().close()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address, whatever the host name resolves to later."""

    def __init__(
        self, target: _Target, address: IPAddress, deadline: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=max(0.001, deadline - time.monotonic()))
        if tls is not None:
            self.default_port = 443  # so that the Host header leaves out ":443"
        self._address = address
        self._deadline = deadline
        self._tls = tls

    def connect(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_STREAM)
        try:
            raw.settimeout(remaining)
            raw.connect((str(self._address), self.port))
            sock = raw if self._tls is None else self._handshake(raw)
        except BaseException:
            raw.close()
            raise
        # http.client only calls sendall, makefile and close on it.
        self.sock = cast(Any, _DeadlineSocket(sock, self._deadline))

    def _handshake(self, raw: socket.socket) -> ssl.SSLSocket:
        assert self._tls is not None
        tls = self._tls.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        # Non-blocking, so that a peer trickling its handshake is bounded by the deadline too.
        tls.setblocking(False)
        while True:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed during the TLS handshake")
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                select.select([tls], [], [], remaining)
            except ssl.SSLWantWriteError:
                select.select([], [tls], [], remaining)
        tls.setblocking(True)
        return tls


class _Cache:
    """A bounded, thread-safe map ``key -> (expiry, body)``, least recently used first out."""

    def __init__(self, ttl: float, max_entries: int, max_bytes: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expiry, body = entry
            if self._clock() >= expiry:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: tuple[str, str], body: bytes) -> None:
        if self._ttl <= 0 or self._max_entries <= 0 or len(body) > self._max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock() + self._ttl, body)
            self._size += len(body)
            while len(self._entries) > self._max_entries or self._size > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _drop(self, key: tuple[str, str]) -> None:
        _expiry, body = self._entries.pop(key)
        self._size -= len(body)


class SafeFetcher:
    """Fetch URLs chosen by strangers without exposing internal services (see the module docstring).

    ``fetch`` is the ``Fetch`` callable a :class:`~badgehub.verification.resolver.DocumentResolver`
    expects. One instance is meant to be shared (its cache is); it is safe to use from several threads.

    ``allowed_networks`` is a **test-only** allowance: addresses in these networks pass the address
    check (tests serve documents from 127.0.0.1). Production code never passes it. ``ssl_context``
    replaces the default certificate verification (a private CA in a test or an intranet deployment).
    ``clock`` is the cache's clock (seconds, monotonic).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        user_agent: str = DEFAULT_USER_AGENT,
        allow_http: bool = False,
        allowed_networks: Iterable[IPNetwork] = (),
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or max_redirects < 0:
            raise ValueError("timeout and max_bytes must be positive, max_redirects not negative")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.allow_http = allow_http
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(allowed_networks)
        self._ssl_context = ssl_context
        self._cache = _Cache(cache_ttl, cache_entries, cache_bytes, clock)

    def fetch(self, url: str, accept: str = DEFAULT_ACCEPT) -> bytes:
        """The body of ``url`` (after at most ``max_redirects`` redirects), from the cache when fresh.

        Raises :class:`SafeFetchError` (a :class:`~badgehub.verification.resolver.FetchError`, with
        ``status`` set for an HTTP error status) for a refused URL or address, a failure, a time-out,
        a body over ``max_bytes`` or any status other than 200.
        """
        key = (url, accept)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        deadline = time.monotonic() + self.timeout
        body = self._fetch_following(url, accept, deadline)
        self._cache.put(key, body)
        return body

    def clear_cache(self) -> None:
        """Forget every cached body."""
        self._cache.clear()

    @property
    def cached_count(self) -> int:
        """How many bodies the cache holds."""
        return len(self._cache)

    def check_url(self, url: str) -> None:
        """Check what can be checked without the network (syntax, scheme, port, an IP literal's
        address). Raises :class:`SafeFetchError`; a form can call it to answer at once."""
        target = self._parse(url)
        try:
            literal = ipaddress.ip_address(target.host)
        except ValueError:
            return
        self._check_addresses(target, [literal])

    def _fetch_following(self, url: str, accept: str, deadline: float) -> bytes:
        current = url
        for _hop in range(self.max_redirects + 1):
            target = self._parse(current)
            addresses = self._resolve(target, deadline)
            self._check_addresses(target, addresses)
            status, location, body = self._request(target, addresses, accept, deadline)
            if status in _REDIRECTS:
                if not location:
                    raise SafeFetchError(url, "protocol_error", f"{current} redirects without a Location", status)
                current = urljoin(current, location)
                continue
            if status != 200:
                raise SafeFetchError(url, "http_error", f"{current} answered HTTP {status}", status)
            return body
        raise SafeFetchError(url, "too_many_redirects", f"more than {self.max_redirects} redirects")

    def _parse(self, url: str) -> _Target:
        if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
            raise SafeFetchError(str(url)[:200], "invalid_url", "the address is empty or too long")
        if any(ord(char) < 0x21 or char == "\x7f" for char in url):
            raise SafeFetchError(url, "invalid_url", "the address contains spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
            hostname = parts.hostname
        except ValueError:
            raise SafeFetchError(url, "invalid_url", "the address is not valid") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or (scheme == "http" and not self.allow_http):
            raise SafeFetchError(url, "scheme_not_allowed", f"only {'http(s)' if self.allow_http else 'https'} "
                                                            "addresses can be fetched")
        if parts.username is not None or parts.password is not None:
            raise SafeFetchError(url, "invalid_url", "addresses with a user name or password are refused")
        if not hostname:
            raise SafeFetchError(url, "invalid_url", "the address has no host")
        if port is None:
            port = 443 if scheme == "https" else 80
        if not (port in (80, 443) or 1024 <= port <= 65535):
            raise SafeFetchError(url, "port_not_allowed", f"port {port} is not allowed")
        try:
            ipaddress.ip_address(hostname)
            host = hostname
        except ValueError:
            try:
                host = hostname.rstrip(".").encode("idna").decode("ascii")
            except UnicodeError:
                raise SafeFetchError(url, "invalid_url", "the host name is not valid") from None
            if not host:
                raise SafeFetchError(url, "invalid_url", "the address has no host") from None
            host = host.lower()
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
            # Names reserved for this machine or a private network: refused before any resolution.
            raise SafeFetchError(url, "address_not_allowed", f"{host} is a local name, which is never fetched")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        # An IRI's non-ASCII characters, percent-encoded as UTF-8 (the request line is ASCII).
        path = "".join(char if ord(char) < 0x80 else quote(char, safe="") for char in path)
        return _Target(url, scheme, host, port, path)

    def _resolve(self, target: _Target, deadline: float) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(target.host)]
        except ValueError:
            pass
        # The system resolver cannot be given a time-out: ask it from a helper thread and stop waiting
        # at the deadline (the thread ends by itself when the resolver gives up).
        outcome: list[list[IPAddress] | BaseException] = []

        def work() -> None:
            try:
                outcome.append(resolve_addresses(target.host, target.port))
            except BaseException as exc:  # handed to the caller below
                outcome.append(exc)

        worker = threading.Thread(target=work, name="badgehub-fetch-dns", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if not outcome:
            raise SafeFetchError(target.url, "timeout", f"resolving {target.host} took too long")
        result = outcome[0]
        if isinstance(result, BaseException) or not result:
            raise SafeFetchError(target.url, "dns_failed", f"{target.host} could not be found")
        return result

    def _check_addresses(self, target: _Target, addresses: Sequence[IPAddress]) -> None:
        for address in addresses:
            if any(address.version == net.version and address in net for net in self.allowed_networks):
                continue
            if not is_public_address(address):
                raise SafeFetchError(
                    target.url,
                    "address_not_allowed",
                    f"{target.host} is a local, private or reserved address ({address}), which is never fetched",
                )

    def _request(
        self, target: _Target, addresses: Sequence[IPAddress], accept: str, deadline: float
    ) -> tuple[int, str | None, bytes]:
        tls = None
        if target.scheme == "https":
            tls = self._ssl_context or ssl.create_default_context()
        last_error: BaseException | None = None
        for address in addresses:
            connection = _PinnedConnection(target, address, deadline, tls)
            try:
                try:
                    connection.connect()
                except (TimeoutError, ssl.SSLError, ssl.CertificateError):
                    raise
                except OSError as exc:
                    last_error = exc
                    continue  # try the next checked address
                return self._exchange(connection, target, accept)
            except TimeoutError:
                raise SafeFetchError(target.url, "timeout", f"{target.host} did not answer in time") from None
            except (ssl.SSLError, ssl.CertificateError) as exc:
                raise SafeFetchError(target.url, "tls_failed", f"secure connection to {target.host} failed: "
                                                               f"{type(exc).__name__}") from None
            except http.client.HTTPException as exc:
                raise SafeFetchError(target.url, "protocol_error", f"{target.host} sent a broken answer: "
                                                                   f"{type(exc).__name__}") from None
            except OSError as exc:
                raise SafeFetchError(target.url, "connect_failed", f"the connection to {target.host} failed: "
                                                                   f"{type(exc).__name__}") from None
            finally:
                connection.close()
        detail = type(last_error).__name__ if last_error is not None else "no address"
        raise SafeFetchError(target.url, "connect_failed", f"{target.host} could not be reached ({detail})")

    def _exchange(
        self, connection: _PinnedConnection, target: _Target, accept: str
    ) -> tuple[int, str | None, bytes]:
        connection.putrequest("GET", target.path, skip_accept_encoding=True)
        connection.putheader("Accept", accept)
        connection.putheader("User-Agent", self.user_agent)
        connection.putheader("Connection", "close")
        connection.endheaders()
        response = connection.getresponse()
        try:
            return self._read_response(response, target)
        finally:
            response.close()

    def _read_response(self, response: http.client.HTTPResponse, target: _Target) -> tuple[int, str | None, bytes]:
        if response.status in _REDIRECTS:
            return response.status, response.getheader("Location"), b""
        if response.status != 200:
            return response.status, None, b""
        if response.length is not None and response.length > self.max_bytes:
            raise SafeFetchError(
                target.url, "too_large", f"the document is larger than {self.max_bytes} bytes", response.status
            )
        announced = response.length
        chunks: list[bytes] = []
        total = 0
        while True:
            # Counted as it arrives: the Content-Length may be absent, or overruled by chunked encoding.
            chunk = response.read(min(_READ_CHUNK, self.max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > self.max_bytes:
                raise SafeFetchError(
                    target.url, "too_large", f"the document is larger than {self.max_bytes} bytes", response.status
                )
        if announced is not None and total != announced:
            # http.client returns a short body silently when reading by chunks.
            raise SafeFetchError(target.url, "protocol_error", f"{target.host} sent a truncated document")
        return response.status, None, b"".join(chunks)
