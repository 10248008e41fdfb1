"""Safe fetching (data/fetch.py) against a local server: schemes, addresses and every
redirect hop checked, bodies capped, timeouts, content types, conditional GETs and one
request at a time per host, spaced by an injected clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from policybot.data.fetch import (
    Fetcher,
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    HostGate,
    check_url,
)
from tests.watch.web import Resource, Site, rss, serving

LOCAL = FetchPolicy(allow_private=True, timeout=2.0, max_bytes=64 * 1024, spacing=0.0)


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


class FakeClock:
    """Seconds that pass only when the gate waits: politeness without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.now += seconds


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.org/file.pdf", "only fetch http and https"),
        ("file:///etc/passwd", "only fetch http and https"),
        ("example.org/list.html", "lacks http:// or https://"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost:8080/", "loopback"),
        ("http://10.1.2.3/feed.xml", "private network"),
        ("http://192.168.0.10/", "private network"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "reserved"),
    ],
)
def test_urls_refused_with_a_sentence(url: str, why: str) -> None:
    with pytest.raises(FetchRefused) as refused:
        check_url(url, FetchPolicy())
    assert why in str(refused.value)
    assert str(refused.value).endswith(".")


def test_the_setting_allows_private_addresses_but_never_link_local() -> None:
    assert check_url("http://127.0.0.1:9/x", LOCAL).address == "127.0.0.1"
    assert check_url("http://10.0.0.8/", LOCAL).address == "10.0.0.8"
    with pytest.raises(FetchRefused, match="link-local"):
        check_url("http://169.254.169.254/", LOCAL)


def test_a_redirect_to_a_refused_address_is_not_followed(site: Site) -> None:
    site.routes["/go"] = Resource(
        b"", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    site.routes["/hop1"] = Resource(b"", status=301, headers={"Location": "/hop2"})
    site.routes["/hop2"] = Resource(b"", status=307, headers={"Location": site.url("/go")})
    fetcher = Fetcher(LOCAL)
    with pytest.raises(FetchRefused, match="link-local"):
        fetcher.get(site.url("/hop1"))
    assert [s.path for s in site.seen] == ["/hop1", "/hop2", "/go"]


def test_redirects_are_followed_a_few_times_only(site: Site) -> None:
    for hop in range(10):
        site.routes[f"/r{hop}"] = Resource(b"", status=302, headers={"Location": f"/r{hop + 1}"})
    site.routes["/r3"] = Resource(rss([]), content_type="application/rss+xml")
    assert Fetcher(LOCAL).get(site.url("/r0")).url == site.url("/r3")
    site.routes["/r3"] = Resource(b"", status=302, headers={"Location": "/r4"})
    with pytest.raises(FetchFailed, match="more than 5 redirects"):
        Fetcher(LOCAL).get(site.url("/r0"))


def test_bodies_are_capped_whether_declared_or_not(site: Site) -> None:
    site.routes["/big"] = Resource(b"x" * (LOCAL.max_bytes + 1), content_type="text/html")
    with pytest.raises(FetchFailed, match="larger than"):
        Fetcher(LOCAL).get(site.url("/big"))
    small = FetchPolicy(allow_private=True, max_bytes=10, spacing=0.0)
    site.routes["/exact"] = Resource(b"0123456789", content_type="text/plain")
    assert Fetcher(small).get(site.url("/exact")).body == b"0123456789"


def test_a_slow_server_times_out_and_the_fetch_gives_up(site: Site) -> None:
    answer = threading.Event()
    site.routes["/slow"] = Resource(rss([]), content_type="application/rss+xml", wait=answer)
    quick = FetchPolicy(allow_private=True, timeout=0.2, spacing=0.0)
    try:
        with pytest.raises(FetchFailed, match="no answer within 0.2 s"):
            Fetcher(quick).get(site.url("/slow"))
    finally:
        answer.set()


def test_error_statuses_and_unreadable_types_fail_with_a_reason(site: Site) -> None:
    site.routes["/broken"] = Resource(b"oops", status=500)
    site.routes["/script"] = Resource(b"alert(1)", content_type="application/javascript")
    site.routes["/zip"] = Resource(b"PK\x03\x04", content_type="application/octet-stream")
    site.routes["/pdf"] = Resource(b"%PDF-1.4 ...", content_type="application/octet-stream")
    fetcher = Fetcher(LOCAL)
    with pytest.raises(FetchFailed, match="HTTP 500 Internal Server Error"):
        fetcher.get(site.url("/broken"))
    with pytest.raises(FetchFailed, match="application/javascript, not a feed"):
        fetcher.get(site.url("/script"))
    with pytest.raises(FetchFailed, match="application/octet-stream"):
        fetcher.get(site.url("/zip"))
    assert fetcher.get(site.url("/pdf")).kind == "pdf"
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetcher.get(site.url("/missing"))


def test_conditional_get_and_user_agent(site: Site) -> None:
    site.routes["/feed"] = Resource(rss([]), content_type="application/rss+xml")
    fetcher = Fetcher(LOCAL)
    first = fetcher.get(site.url("/feed"))
    assert first.status == 200 and first.kind == "feed" and first.etag
    second = fetcher.get(site.url("/feed"), etag=first.etag)
    assert second.not_modified and second.body == b""
    seen = site.requests_to("/feed")
    assert seen[0].if_none_match is None and seen[1].if_none_match == first.etag
    assert all((s.user_agent or "").startswith("policybot/") for s in seen)


def test_one_request_at_a_time_per_host_spaced_by_the_clock() -> None:
    clock = FakeClock()
    gate = HostGate(spacing=3.0, clock=clock, wait=clock.wait)
    inside: list[str] = []
    starts: dict[str, list[float]] = {"a": [], "b": []}

    def visit(host: str) -> None:
        with gate.turn(host):
            assert host not in inside  # never two at once for one host
            inside.append(host)
            starts[host].append(clock())
            inside.remove(host)

    threads = [threading.Thread(target=visit, args=(h,)) for h in "ababab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for host in "ab":
        times = starts[host]
        assert len(times) == 3
        assert all(later - earlier >= 3.0 for earlier, later in zip(times, times[1:], strict=False))
    assert clock.waits  # the gate waited, through the injected clock, not a sleep
