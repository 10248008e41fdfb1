"""Fetching a URL someone else chose, safely: watched sources (data/watch) read the web
through this module only.

Only http(s). Every hop's host is resolved and each of its addresses checked: loopback,
private, link-local, multicast and reserved addresses are refused (unless the deployment
allows private addresses, POLICYBOT_FETCH_ALLOW_PRIVATE: an intranet, or the tests' local
server), and the connection goes to the address that was checked, so a name that resolves
differently a moment later (DNS rebinding) cannot slip past. Redirects are followed a few
times, each hop checked again. A timeout covers the whole answer, not each read; the body
is capped while it is read; the content type must be one the caller reads. No compression
is asked for (nothing to inflate), and nothing fetched is ever executed: callers parse the
bytes as a feed, an HTML page or a PDF (in a child process, data/ingest/isolation.py).

Politeness: one request at a time per host, `spacing` seconds apart (HostGate), with a
User-Agent naming policybot and its version.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import quote, urljoin, urlsplit

from .errors import UserError

MB = 1024 * 1024
REDIRECTS = {301, 302, 303, 307, 308}
MAX_URL_CHARS = 2000  # what a watched source's or an item's URL column holds
# Validators kept for the next conditional GET, as long as their columns (data/models.py):
# a longer one from a hostile server is dropped, not stored (PostgreSQL would refuse it).
MAX_ETAG_CHARS = 500
MAX_LAST_MODIFIED_CHARS = 100
# Characters a request line may carry as they are; anything else in a path or query
# (spaces, Chinese file names) is percent-encoded, and escapes already there are kept.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_CONTROL = frozenset(chr(c) for c in [*range(0x20), 0x7F])


def _version() -> str:
    try:
        return metadata.version("policybot")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "dev"


USER_AGENT = f"policybot/{_version()} (+watched sources; one request at a time per host)"

# What each kind of answer may be. A server that names none of these gets a refusal, not
# a guess; application/octet-stream passes only when the bytes are a PDF.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
TEXT_TYPES = frozenset({"text/plain"})
READABLE_TYPES = FEED_TYPES | HTML_TYPES | PDF_TYPES | TEXT_TYPES


class FetchRefused(UserError):
    """A URL that may not be fetched, with a sentence saying why (shown to the admin)."""


class FetchFailed(Exception):
    """The fetch went wrong (no answer, an error status, too large): `reason` says how, in
    words fit for `/policy sources`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchPolicy:
    # POLICYBOT_FETCH_ALLOW_PRIVATE: loopback and private networks (an intranet, the
    # tests' local server); link-local never.
    allow_private: bool = False
    # Origins ("host:port", as the URL names them) fetched although they resolve to a
    # private or loopback address, with every other private address still refused: one
    # intranet server, or the tests' local server with the setting off. Link-local never.
    trusted_origins: frozenset[str] = frozenset()
    timeout: float = 20.0  # seconds for the whole answer, connect to last byte
    max_bytes: int = 10 * MB
    max_redirects: int = 5
    spacing: float = 3.0  # seconds between two requests to one host
    user_agent: str = USER_AGENT


_policy = FetchPolicy()


def configure(policy: FetchPolicy) -> None:
    """The process's fetch policy (bot/services.py sets it from the settings)."""
    global _policy
    _policy = policy


def current_policy() -> FetchPolicy:
    return _policy


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 for a conditional GET that found nothing new
    content_type: str  # the media type alone, lower case ("" for a 304)
    charset: str | None
    body: bytes
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def kind(self) -> str:
        """feed, html, pdf or text: how the body is to be read."""
        if self.content_type in PDF_TYPES or self.body[:5] == b"%PDF-":
            return "pdf"
        if self.content_type in FEED_TYPES:
            return "feed"
        if self.content_type in HTML_TYPES:
            head = self.body[:1024].lstrip().lower()
            if head.startswith(b"<?xml"):  # XHTML has the declaration too: look past it
                head = head[head.find(b"?>") + 2 :].lstrip()
                while head.startswith(b"<!--") or head.startswith(b"<?"):
                    head = head[head.find(b">") + 1 :].lstrip()
            return "feed" if head.startswith((b"<rss", b"<feed", b"<rdf")) else "html"
        return "text"


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address may not be fetched from, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one (mapped ::ffff:a.b.c.d, 6to4 2002:abcd::,
        # Teredo) reaches that IPv4 address: it is judged as that address.
        teredo = address.teredo
        embedded = address.ipv4_mapped or address.sixtofour or (teredo[1] if teredo else None)
        if embedded is not None:
            return _refused_address(embedded)
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "a reserved address"
    if address.is_link_local:
        return "a link-local address (such as a cloud metadata service)"
    if address.is_private:
        return "a private network address"
    if not address.is_global:
        return "an address that is not on the public internet"
    return None


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked address the connection goes to


def check_url(url: str, policy: FetchPolicy | None = None) -> Target:
    """The URL as it will be fetched, or FetchRefused saying why it may not be."""
    policy = policy or _policy
    url = url.strip().strip("<>")
    if any(char in _CONTROL for char in url):
        # urlsplit drops tabs and newlines silently: what would be fetched is not what
        # was typed (nor what `/policy sources` would show).
        raise FetchRefused(f"{url[:200]!r} holds a control character; it is not a URL I fetch.")
    if len(url) > MAX_URL_CHARS:
        raise FetchRefused(
            f"That URL is too long ({len(url)} characters; {MAX_URL_CHARS} at most)."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchRefused(f"{url[:200]!r} is not a URL I can read ({error}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused(
            f"I only fetch http and https addresses; {url[:200]!r} is "
            + (f"{scheme}:." if scheme else "not a web address (it lacks http:// or https://).")
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused(f"{url[:200]!r} names no host.")
    if parts.username or parts.password:
        raise FetchRefused("A URL with a user name or password in it is not fetched.")
    if port == 0:
        raise FetchRefused(f"{url[:200]!r} names port 0, which no server listens on.")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise FetchRefused(f"I could not find the host {host[:200]} ({error}).") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise FetchRefused(f"I could not find the host {host[:200]}.")
    origin = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    trusted = origin in policy.trusted_origins
    for address in addresses:
        why = _refused_address(address)
        # Link-local stays refused whatever the setting: it is where a cloud machine's
        # metadata service (and its credentials) answers, never a place for documents.
        if why and (not (policy.allow_private or trusted) or "link-local" in why):
            allow = (
                ""
                if "link-local" in why
                else (" (POLICYBOT_FETCH_ALLOW_PRIVATE allows private addresses, for an intranet)")
            )
            raise FetchRefused(
                f"{host} resolves to {address}, {why}; policybot does not fetch from there{allow}."
            )
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return Target(url, scheme, host, port, path, str(addresses[0]))


class HostGate:
    """One request at a time per host (per origin: host and port), `spacing` seconds apart. The clock and the wait are
    injected: tests pass a fake clock whose wait moves it on, so nothing sleeps."""

    def __init__(
        self,
        spacing: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self.spacing = _policy.spacing if spacing is None else spacing
        self.clock = clock
        self.wait = wait
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(host.lower(), threading.Lock())
        with lock:
            last = self._last.get(host.lower())
            if last is not None:
                pause = last + self.spacing - self.clock()
                if pause > 0:
                    self.wait(pause)
            try:
                yield
            finally:
                self._last[host.lower()] = self.clock()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host's name, as for any https request.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _Watchdog:
    """The whole-answer budget. A socket timeout bounds each read only, so a server that
    drips a byte at a time (or sends endless 100 Continue) would hold a fetch for ever:
    when the budget runs out this shuts the connection's socket, which ends whatever read
    is waiting, and the fetch reports a timeout."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection = connection
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        sock = self.connection.sock
        if sock is not None:
            # The plain socket's shutdown even for TLS: it ends a read in progress without
            # the TLS layer's goodbye, which would wait on the peer. OSError: closed meanwhile.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


@dataclass
class Fetcher:
    """Fetches with one policy and one host gate (shared by a poll's threads)."""

    policy: FetchPolicy = field(default_factory=current_policy)
    gate: HostGate | None = None
    requests: int = 0  # requests sent, redirects included (benchmarks and tests read it)

    def __post_init__(self) -> None:
        if self.gate is None:
            self.gate = HostGate(self.policy.spacing)

    def get(
        self,
        url: str,
        *,
        accept: frozenset[str] = READABLE_TYPES,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET `url` (conditionally, given a validator): FetchRefused for a URL or
        redirect that may not be followed, FetchFailed for anything else gone wrong."""
        assert self.gate is not None
        policy = self.policy
        current = url
        for _hop in range(policy.max_redirects + 1):
            target = check_url(current, policy)
            with self.gate.turn(f"{target.host}:{target.port}"):  # per origin
                self.requests += 1
                status, headers, body = self._request(target, etag, last_modified)
            if status in REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise FetchFailed(f"HTTP {status} without a Location to go to")
                current = urljoin(current, location)
                etag = last_modified = None  # validators belong to the first URL
                continue
            return self._answer(target, status, headers, body, accept)
        raise FetchFailed(f"more than {policy.max_redirects} redirects")

    def _request(
        self, target: Target, etag: str | None, last_modified: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        policy = self.policy
        deadline = time.monotonic() + policy.timeout
        kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        connection = kind(target, policy.timeout)
        headers = {
            "User-Agent": policy.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
            "text/html;q=0.8, application/pdf;q=0.8, */*;q=0.1",
            "Accept-Encoding": "identity",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timed_out = FetchFailed(f"no answer within {policy.timeout:g} s")
        watchdog = _Watchdog(connection, policy.timeout)
        try:
            with watchdog:
                status, answer, body = self._exchange(connection, target, headers, deadline)
        except FetchFailed:
            if watchdog.fired:
                raise timed_out from None
            raise
        except TimeoutError:
            raise FetchFailed(f"no answer within {policy.timeout:g} s") from None
        except ssl.SSLError as error:
            if watchdog.fired:
                raise timed_out from None
            raise FetchFailed(f"TLS failed ({error.reason or error})") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            # ValueError: a TLS socket shut under a read in progress says so that way.
            if watchdog.fired:
                raise timed_out from None
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise FetchFailed(f"the server did not answer properly ({reason})") from None
        finally:
            connection.close()
        if watchdog.fired:  # the shut socket read as the end of the answer
            raise timed_out
        return status, answer, body

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        target: Target,
        headers: dict[str, str],
        deadline: float,
    ) -> tuple[int, dict[str, str], bytes]:
        policy = self.policy
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        answer = {k.lower(): v for k, v in response.getheaders()}
        declared = answer.get("content-length", "")
        if declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchFailed(_too_large(policy.max_bytes))
        body = bytearray()
        if response.status in REDIRECTS or response.status == 304:
            return response.status, answer, bytes(body)
        encoding = answer.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity") and response.status == 200:
            # Only identity was asked for: a compressed answer is refused unread, never
            # inflated (a few kilobytes of gzip can inflate to gigabytes).
            raise FetchFailed(
                f"the answer is compressed ({encoding[:40]}), which was not asked for"
            )
        while chunk := response.read1(64 * 1024):
            body += chunk
            if len(body) > policy.max_bytes:
                raise FetchFailed(_too_large(policy.max_bytes))
            if time.monotonic() > deadline:
                raise FetchFailed(f"no whole answer within {policy.timeout:g} s")
            remaining = deadline - time.monotonic()
            if connection.sock is not None:
                connection.sock.settimeout(max(0.01, remaining))
        if response.length:  # what Content-Length promised and never came
            raise FetchFailed(
                f"the answer ended early ({len(body)} of {len(body) + response.length} bytes)"
            )
        return response.status, answer, bytes(body)

    @staticmethod
    def _answer(
        target: Target,
        status: int,
        headers: dict[str, str],
        body: bytes,
        accept: frozenset[str],
    ) -> Fetched:
        etag, modified = headers.get("etag"), headers.get("last-modified")
        if etag is not None and len(etag) > MAX_ETAG_CHARS:
            etag = None
        if modified is not None and len(modified) > MAX_LAST_MODIFIED_CHARS:
            modified = None
        if status == 304:
            return Fetched(target.url, 304, "", None, b"", etag, modified)
        if status != 200:
            phrase = http.client.responses.get(status, "")
            raise FetchFailed(f"HTTP {status}" + (f" {phrase}" if phrase else ""))
        media, _, params = (headers.get("content-type") or "").partition(";")
        media = media.strip().lower()
        charset = None
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"').lower()
        if media not in accept and not (
            body[:5] == b"%PDF-" and media in ("application/octet-stream", "")
        ):
            raise FetchFailed(
                f"the answer is {media or 'of no stated type'}, not a feed, page or PDF"
            )
        return Fetched(target.url, 200, media, charset, body, etag, modified)


def _too_large(limit: int) -> str:
    return f"the answer is larger than {limit / MB:g} MB"
