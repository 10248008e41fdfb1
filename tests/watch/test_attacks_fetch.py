"""Attacks on safe fetching (data/fetch.py) with POLICYBOT_FETCH_ALLOW_PRIVATE off: every
spelling of a private address, every scheme and URL trick, refused with a sentence; every
redirect hop to such a place refused; and hostile servers (bodies that never end or lie
about their length, compression bombs, headers dripped a byte at a time, endless
100 Continue) failing within the fetch's budget instead of hanging or being believed.

The test server is reached with the setting off through `trusted_origins`: that one
host:port is fetched although it is loopback, and nothing else private is.
"""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest

from policybot.data.fetch import Fetched, Fetcher, FetchFailed, FetchPolicy, FetchRefused, check_url
from policybot.data.ingest.text import ParseError
from policybot.data.watch.documents import DocumentHints, read_document
from tests.watch.rawweb import drip, raw_serving, send
from tests.watch.web import Resource, Site, rss, serving

OFF = FetchPolicy(allow_private=False, timeout=2.0, max_bytes=64 * 1024, spacing=0.0)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


def trusting(site_url: str, policy: FetchPolicy = OFF) -> FetchPolicy:
    """The setting off, the one test server trusted (as an intranet's one host would be)."""
    origin = site_url.split("//", 1)[1].split("/", 1)[0]
    return replace(policy, trusted_origins=frozenset({origin}))


# Private, loopback, link-local and reserved addresses in every spelling a URL allows, and
# the URL tricks around them: each refused, with a sentence saying why.
REFUSED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1:8080/feed.xml", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f.1/", "loopback"),  # hex, short form
    ("http://0x7f000001/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://127.1/", "loopback"),
    ("http://localhost/", "loopback"),  # a name that resolves to loopback
    ("http://localhost./", "loopback"),
    ("http://LOCALHOST:80/", "loopback"),
    ("http://10.0.0.1/", "private network"),
    ("http://10.255.255.254/", "private network"),
    ("http://172.16.0.1/", "private network"),
    ("http://172.31.255.255/", "private network"),
    ("http://192.168.1.1/", "private network"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fd00::1]/", "private network"),
    ("http://100.64.0.1/", "not on the public internet"),  # carrier-grade NAT
    ("http://0.0.0.0/", "reserved"),
    ("http://0/", "reserved"),
    ("http://[::]/", "reserved"),
    ("http://224.0.0.1/", "reserved"),
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 wrapping the metadata service
    ("http://example.com@127.0.0.1/", "user name or password"),
    ("http://127.0.0.1#@example.com/", "loopback"),
    ("http://user:pass@example.org/", "user name or password"),
    ("file:///etc/passwd", "only fetch http and https"),
    ("ftp://example.org/list.pdf", "only fetch http and https"),
    ("gopher://127.0.0.1:70/_GET", "only fetch http and https"),
    ("javascript:alert(1)", "only fetch http and https"),
    ("data:text/html,<h1>x</h1>", "only fetch http and https"),
    ("dict://127.0.0.1:11211/stats", "only fetch http and https"),
    ("//example.org/feed.xml", "lacks http:// or https://"),
    ("http:///feed.xml", "names no host"),
    ("http://93.184.215.14:0/", "port"),
    ("http://93.184.215.14:99999/", "not a URL I can read"),
    ("http://93.184.215.14/a\nb", "control character"),
    ("http://93.184.215.14/\x00", "control character"),
    ("http://93.184.215.14\t.evil.example/", "control character"),
    ("http://93.184.215.14/" + "a" * 3000, "too long"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_private_addresses_schemes_and_url_tricks_are_refused(url: str, why: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        check_url(url, OFF)
    sentence = str(refused.value)
    assert why in sentence, sentence
    assert sentence.endswith("."), sentence
    assert "Traceback" not in sentence and len(sentence) < 500


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--nxasmq6b.invalid/feed.xml",  # an IDN that does not resolve
        "http://例え.invalid/",  # the same, unencoded
        "http://" + "a" * 64 + ".example/",  # a label too long for DNS
        "http://" + ".".join(["a" * 60] * 5) + "/",  # a name too long for DNS
        "http://ex ample.org/",
    ],
)
def test_unresolvable_and_impossible_hosts_are_refused_with_a_sentence(url: str) -> None:
    with pytest.raises(FetchRefused, match=r"^I could not find the host .*\.$"):
        check_url(url, OFF)


def test_a_trusted_origin_is_that_host_and_port_only(site: Site) -> None:
    policy = trusting(site.base)
    assert check_url(site.url("/x"), policy).address == "127.0.0.1"
    port = site.base.rsplit(":", 1)[1]
    with pytest.raises(FetchRefused, match="loopback"):
        check_url(f"http://127.0.0.1:{int(port) + 1}/", policy)  # another port
    with pytest.raises(FetchRefused, match="loopback"):
        check_url(f"http://localhost:{port}/", policy)  # another name for it
    metadata = replace(OFF, trusted_origins=frozenset({"169.254.169.254:80"}))
    with pytest.raises(FetchRefused, match="link-local"):
        check_url("http://169.254.169.254/", metadata)  # never, trusted or not


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://127.0.0.1:1/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://10.0.0.5/admin", "private network"),
        ("http://172.16.0.1/", "private network"),
        ("http://192.168.0.1/", "private network"),
        ("http://169.254.169.254/latest/meta-data/iam/", "link-local"),
        ("http://trusted@127.0.0.1/", "user name or password"),
        ("file:///etc/passwd", "only fetch http and https"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "only fetch http and https"),
    ],
)
def test_a_redirect_to_a_private_place_is_refused_with_the_setting_off(
    site: Site, location: str, why: str
) -> None:
    site.routes["/go"] = Resource(b"", status=302, headers={"Location": location})
    with pytest.raises(FetchRefused, match=why):
        Fetcher(trusting(site.base)).get(site.url("/go"))
    assert [s.path for s in site.seen] == ["/go"]


def test_a_redirect_loop_stops(site: Site) -> None:
    site.routes["/a"] = Resource(b"", status=301, headers={"Location": "/b"})
    site.routes["/b"] = Resource(b"", status=308, headers={"Location": "/a"})
    with pytest.raises(FetchFailed, match="more than 5 redirects"):
        Fetcher(trusting(site.base)).get(site.url("/a"))
    assert len(site.seen) == 6


def test_paths_with_spaces_and_chinese_are_sent_percent_encoded(site: Site) -> None:
    site.routes["/zcwj/%E9%80%9A%E7%9F%A5%20123.html"] = Resource(b"<html>ok</html>")
    site.routes["/list?q=%E8%83%BD%E6%BA%90&page=2"] = Resource(b"<html>ok</html>")
    site.routes["/kept%2Fslash.pdf"] = Resource(b"%PDF-1.4", content_type="application/pdf")
    fetcher = Fetcher(trusting(site.base))
    assert fetcher.get(site.url("/zcwj/通知 123.html")).status == 200
    assert fetcher.get(site.url("/list?q=能源&page=2")).status == 200
    assert fetcher.get(site.url("/kept%2Fslash.pdf")).kind == "pdf"  # escapes stay as they are


# -- hostile servers ----------------------------------------------------------------------


def head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_an_endless_chunked_body_is_cut_at_the_cap() -> None:
    def endless(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head("HTTP/1.1 200 OK", "Content-Type: text/html", "Transfer-Encoding: chunked"),
        )
        chunk = b"1000\r\n" + b"x" * 0x1000 + b"\r\n"
        while not raw.stop.is_set():
            send(connection, raw, chunk)

    with raw_serving(endless) as raw:
        with pytest.raises(FetchFailed, match="larger than"):
            Fetcher(trusting(raw.url())).get(raw.url("/feed"))
        assert raw.gave_up.wait(5)  # the fetch hung up; the server did not stop on its own


def test_a_declared_length_over_the_cap_is_refused_before_the_body() -> None:
    def huge(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head("HTTP/1.1 200 OK", "Content-Type: text/html", "Content-Length: 99999999999"),
        )
        raw.stop.wait()

    with raw_serving(huge) as raw, pytest.raises(FetchFailed, match="larger than"):
        Fetcher(trusting(raw.url())).get(raw.url("/"))


def test_a_body_shorter_than_its_content_length_is_not_believed() -> None:
    """A server that dies mid-answer: the truncated page is an error, not a document."""

    def truncated(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head("HTTP/1.1 200 OK", "Content-Type: text/html", "Content-Length: 5000"),
        )
        send(connection, raw, b"<html><body><h1>Half a document")

    with raw_serving(truncated) as raw, pytest.raises(FetchFailed, match="ended early"):
        Fetcher(trusting(raw.url())).get(raw.url("/"))


def test_a_chunked_body_that_stops_midway_is_not_believed() -> None:
    def truncated(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head("HTTP/1.1 200 OK", "Content-Type: text/html", "Transfer-Encoding: chunked"),
        )
        send(connection, raw, b"100\r\n<html>only a little")

    with raw_serving(truncated) as raw, pytest.raises(FetchFailed):
        Fetcher(trusting(raw.url())).get(raw.url("/"))


def test_a_longer_body_than_declared_is_read_to_its_declared_length_only() -> None:
    def longer(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head("HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 10"),
        )
        send(connection, raw, b"0123456789" + b"y" * 200_000)

    with raw_serving(longer) as raw:
        assert Fetcher(trusting(raw.url())).get(raw.url("/")).body == b"0123456789"


def test_a_gzip_bomb_is_never_inflated() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < OFF.max_bytes  # small on the wire, 50 MB inflated

    def compressed(connection: socket.socket, _: bytes) -> None:
        send(
            connection,
            raw,
            head(
                "HTTP/1.1 200 OK",
                "Content-Type: text/html; charset=utf-8",
                "Content-Encoding: gzip",
                f"Content-Length: {len(bomb)}",
            )
            + bomb,
        )

    with raw_serving(compressed) as raw:
        with pytest.raises(FetchFailed, match="compressed"):
            Fetcher(trusting(raw.url())).get(raw.url("/"))
        (request,) = raw.requests
        assert b"accept-encoding: identity" in request.lower()  # none was asked for


def test_a_server_that_sends_a_byte_then_blocks_times_out() -> None:
    def stuck(connection: socket.socket, _: bytes) -> None:
        send(connection, raw, b"H")
        raw.stop.wait()

    quick = replace(OFF, timeout=0.3)
    with raw_serving(stuck) as raw, pytest.raises(FetchFailed, match=r"within 0\.3 s"):
        Fetcher(trusting(raw.url(), quick)).get(raw.url("/"))


@pytest.mark.parametrize("where", ["status line", "headers", "body"])
def test_a_slow_loris_is_cut_off_at_the_whole_answer_budget(where: str) -> None:
    """A byte every 50 ms never trips a per-read timeout of 0.3 s; the answer as a whole
    must still end within it. The drip would last 40 s: the fetch hangs up long before."""
    dripped: list[int] = []
    filler = b"x" * 800
    prefix, slow = {
        "status line": (b"", b"HTTP/1.1 200 OK" + filler),
        "headers": (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", b"X-Filler: " + filler),
        "body": (head("HTTP/1.1 200 OK", "Content-Type: text/html", "Content-Length: 800"), filler),
    }[where]

    def loris(connection: socket.socket, _: bytes) -> None:
        if prefix:
            send(connection, raw, prefix)
        dripped.append(drip(connection, raw, slow, every=0.05))

    quick = replace(OFF, timeout=0.3)
    with raw_serving(loris) as raw:
        with pytest.raises(FetchFailed, match=r"within 0\.3 s"):
            Fetcher(trusting(raw.url(), quick)).get(raw.url("/"))
        assert raw.gave_up.wait(10)
    assert dripped and dripped[0] < len(slow)  # hung up on, not waited out


def test_endless_100_continue_is_cut_off_at_the_budget() -> None:
    def continues(connection: socket.socket, _: bytes) -> None:
        while not raw.stop.wait(0.02):
            send(connection, raw, b"HTTP/1.1 100 Continue\r\n\r\n")

    quick = replace(OFF, timeout=0.3)
    with raw_serving(continues) as raw:
        with pytest.raises(FetchFailed, match=r"within 0\.3 s"):
            Fetcher(trusting(raw.url(), quick)).get(raw.url("/"))
        assert raw.gave_up.wait(10)


def test_garbage_instead_of_http_fails_with_a_reason() -> None:
    def garbage(connection: socket.socket, _: bytes) -> None:
        send(connection, raw, b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")

    with (
        raw_serving(garbage) as raw,
        pytest.raises(FetchFailed, match="did not answer properly"),
    ):
        Fetcher(trusting(raw.url())).get(raw.url("/"))


@pytest.mark.parametrize(
    ("name", "value"),
    [("ETag", '"' + "e" * 5000 + '"'), ("Last-Modified", "Mon, " + "x" * 5000)],
)
def test_oversized_validators_are_not_kept(site: Site, name: str, value: str) -> None:
    """They are stored on the source for the next conditional GET; a hostile one would not
    fit its column (PostgreSQL refuses it, and every later poll would fail)."""
    site.routes["/feed.xml"] = Resource(
        rss([]), content_type="application/rss+xml", headers={name: value}, conditional=False
    )
    fetched = Fetcher(trusting(site.base)).get(site.url("/feed.xml"))
    assert fetched.etag is None and fetched.last_modified is None


# -- content types that lie ---------------------------------------------------------------


def fetched(body: bytes, content_type: str, charset: str | None = None) -> Fetched:
    return Fetched(
        "https://www.miit.gov.cn/zwgk/art/t20261120_12345.html",
        200,
        content_type,
        charset,
        body,
        None,
        None,
    )


def test_html_served_as_a_pdf_is_refused_with_a_reason() -> None:
    page = b"<html><body><p>" + b"A notice on robots. " * 40 + b"</p></body></html>"
    with pytest.raises(ParseError, match="cannot read this PDF"):
        read_document(fetched(page, "application/pdf"), DocumentHints())


def test_a_pdf_served_as_html_is_read_as_a_pdf() -> None:
    assert fetched(b"%PDF-1.7\n...", "text/html").kind == "pdf"


def test_an_xhtml_notice_list_with_an_xml_declaration_is_a_page_not_a_feed() -> None:
    page = b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><body></body></html>'
    assert fetched(page, "text/html").kind == "html"
    feed = b'<?xml version="1.0"?>\n<rss version="2.0"><channel></channel></rss>'
    assert fetched(feed, "text/html").kind == "feed"


def test_binary_garbage_served_as_html_is_no_document() -> None:
    with pytest.raises(ParseError, match="no main text"):
        read_document(fetched(bytes(range(256)) * 64, "text/html"), DocumentHints())


def test_script_and_executable_types_are_refused(site: Site) -> None:
    fetcher = Fetcher(trusting(site.base))
    for path, kind in [
        ("/a.js", "application/javascript"),
        ("/a.exe", "application/x-msdownload"),
        ("/a.svg", "image/svg+xml"),
        ("/a.json", "application/json"),
    ]:
        site.routes[path] = Resource(b"%PDF-1.4 pretending", content_type=kind)
        with pytest.raises(FetchFailed, match="not a feed, page or PDF"):
            fetcher.get(site.url(path))
