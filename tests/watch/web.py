"""A local web server for the watched-source tests (127.0.0.1, port 0): routes answer
with generated feeds, pages and PDFs, conditional GETs answer 304 for an unchanged
resource, and every request is recorded (path, validators sent, User-Agent).

Faults are routes too: an error status, a redirect, an answer that waits on an Event
(a slow server, with no sleep: the test sets the Event when it is done), a body larger
than any limit.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Resource:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # ETag/Last-Modified, and a 304 when they match
    wait: threading.Event | None = None  # answer only once this is set


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Resource | Callable[[], Resource]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with site._lock:
                    site.seen.append(
                        Seen(
                            self.path,
                            self.headers.get("If-None-Match"),
                            self.headers.get("If-Modified-Since"),
                            self.headers.get("User-Agent"),
                        )
                    )
                    route = site.routes.get(self.path)
                if route is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"not found")
                    return
                resource = route() if callable(route) else route
                if resource.wait is not None:
                    resource.wait.wait(10)
                headers = {"Content-Type": resource.content_type, **resource.headers}
                if resource.conditional and resource.status == 200:
                    etag = '"' + hashlib.sha1(resource.body).hexdigest()[:16] + '"'
                    headers["ETag"] = etag
                    if self.headers.get("If-None-Match") == etag:
                        self._send(304, {"ETag": etag}, b"")
                        return
                self._send(resource.status, headers, resource.body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or size-limit test)

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up mid-request (a timeout or size-limit test) is expected, even
        # before the handler reads its request line; anything else is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


@contextmanager
def serving() -> Iterator[Site]:
    site = Site()
    server = _QuietServer(("127.0.0.1", 0), site.handler())
    server.daemon_threads = True
    site.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


# -- generated material ------------------------------------------------------------------


def rss(items: list[tuple[str, str, date]], title: str = "Policy feed") -> bytes:
    """An RSS 2.0 feed of (title, link, published) items, with GUIDs."""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(link)}#guid</guid>'
        f"<pubDate>{format_datetime(datetime(d.year, d.month, d.day, 8, tzinfo=UTC))}</pubDate>"
        "</item>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>"
        f"<description>test</description>{entries}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str, date]], title: str = "Policy feed") -> bytes:
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link href="{escape(link)}"/>'
        f"<id>urn:test:{escape(link)}</id><updated>{d.isoformat()}T08:00:00Z</updated></entry>"
        for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        f"<updated>2026-11-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


# Chinese policy documents as a ministry publishes them: a notice page around the text.
PLAN_TOPICS = (
    ("新型储能制造业", "储能"),
    ("工业互联网平台", "平台"),
    ("智能网联汽车", "汽车"),
    ("算力基础设施", "算力"),
    ("绿色低碳工厂", "工厂"),
)


def document_page(number: int, published: date) -> tuple[str, bytes, list[int]]:
    """A ministry-style document page: (title, html, the target years it holds)."""
    topic, short = PLAN_TOPICS[number % len(PLAN_TOPICS)]
    title = f"关于印发《{topic}高质量发展行动方案（第{number}号）》的通知"
    near = 2025
    far = 2027 + number % 3
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<header><a href="/">首页</a> <a href="/about.html">机构设置</a></header>
<nav><ul><li><a href="/zcfb/index.html">政策发布</a></li></ul></nav>
<div class="article">
<h1>{title}</h1>
<p class="date">发布时间：{published.year}年{published.month}月{published.day}日  来源：工业和信息化部</p>
<p>各省、自治区、直辖市及计划单列市工业和信息化主管部门：</p>
<p>为推动{topic}高质量发展，现将《{topic}高质量发展行动方案》印发给你们，请结合实际认真贯彻落实。</p>
<p>到{far}年，{short}产业规模显著提升，培育一批具有国际竞争力的领军企业。</p>
<p>{near}年底前，建成{number + 10}个以上{short}示范项目，关键技术取得突破。</p>
<p>工业和信息化部</p>
</div>
<footer><a href="/contact.html">联系我们</a> 版权所有</footer>
</body></html>"""
    return title, html.encode(), [far, near]


def notice_list(links: list[tuple[str, str, date]]) -> bytes:
    """A ministry's notice list: navigation, then the documents with their dates."""
    rows = "".join(
        f'<li><a href="{href}" target="_blank">{escape(title)}</a><span>{d.isoformat()}</span></li>'
        for title, href, d in links
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策文件</title></head>
<body>
<header><a href="/">首页</a><a href="/zwgk/index.html">政务公开</a></header>
<nav><a href="/zcfb/index.html">政策发布</a><a href="/zcjd/index.html">政策解读</a></nav>
<div class="list"><ul>{rows}</ul></div>
<div class="page"><a href="index_1.html">下一页</a><a href="index_9.html">尾页</a></div>
<footer><a href="https://beian.miit.gov.cn/">京ICP备12345678号</a></footer>
</body></html>""".encode()


def days_before(day: date, count: int) -> date:
    return day - timedelta(days=count)
