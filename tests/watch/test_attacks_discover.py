"""Attacks on discovery (data/watch/discover.py, data/watch/store.add_items): feeds with
10,000 items, entries without links or with relative, script or overlong links, dates
out of any range, duplicate GUIDs and URLs, a notice list that links to itself, and
charsets that lie."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import SourceItem, WatchedSource
from policybot.data.watch import store
from policybot.data.watch.discover import (
    MAX_ITEMS,
    FoundItem,
    decode_html,
    feed_items,
    page_items,
)
from tests.conftest import NOW

BASE = "https://www.miit.gov.cn/rss/feed.xml"


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def test_a_feed_of_ten_thousand_items_gives_at_most_the_cap() -> None:
    body = rss(
        "".join(
            f"<item><title>Notice {i}</title><link>/art/{i}.html</link><guid>g{i}</guid></item>"
            for i in range(10_000)
        )
    )
    items = feed_items(body, BASE)
    assert len(items) == MAX_ITEMS
    assert items[0].url == "https://www.miit.gov.cn/art/0.html"  # relative, resolved


def test_entries_without_usable_links_are_skipped() -> None:
    body = rss(
        "<item><title>no link at all</title></item>"
        "<item><title>script</title><link>javascript:alert(1)</link></item>"
        "<item><title>data</title><link>data:text/html,x</link></item>"
        "<item><title>mail</title><link>mailto:a@b.c</link></item>"
        f"<item><title>overlong</title><link>https://x.org/{'a' * 2100}</link></item>"
        "<item><title>good</title><link>  https://x.org/good.html  </link></item>"
    )
    assert [i.url for i in feed_items(body, BASE)] == ["https://x.org/good.html"]


def test_dates_out_of_any_range_are_not_kept() -> None:
    body = rss(
        "<item><title>a</title><link>https://x.org/1</link><pubDate>9999-12-31T00:00:00Z</pubDate></item>"
        "<item><title>b</title><link>https://x.org/2</link><pubDate>0001-01-01T00:00:00Z</pubDate></item>"
        "<item><title>c</title><link>https://x.org/3</link><pubDate>2026-11-20T00:00:00Z</pubDate></item>"
    )
    assert [i.published_on for i in feed_items(body, BASE)] == [None, None, date(2026, 11, 20)]


def test_malformed_feeds_fail_with_a_reason_or_give_what_they_hold() -> None:
    for body in (b"", b"\x00\xff\xfe garbage", b"<rss><channel><item><title>x</tit", b"<html>"):
        try:
            assert feed_items(body, BASE) == []
        except Exception as error:
            assert "not valid XML" in str(error)
    # The billion laughs: entities are not expanded (feedparser's sanitizing parser).
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
        b"<rss><channel><item><title>&lol4;</title><link>https://x.org/1</link></item>"
        b"</channel></rss>"
    )
    items = feed_items(laughs, BASE)
    assert all(len(i.title) <= 500 for i in items)


def test_duplicate_guids_and_urls_are_each_kept_once(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        request = store.parse_source_request("https://www.miit.gov.cn/rss/feed.xml")
        source = WatchedSource(
            team_id="T1",
            url=request.url,
            label="",
            kind="feed",
            every_minutes=60,
            added_by="U1",
            added_at=NOW,
            next_poll_at=NOW,
            failures=0,
            items_found=0,
        )
        session.add(source)
        session.flush()
        first = [
            FoundItem("https://x.org/a.html", "A", guid="g1"),
            FoundItem("https://x.org/b.html", "B", guid="g1"),  # same GUID, another URL
            FoundItem("https://x.org/a.html", "A again", guid="g2"),  # same URL, another GUID
            FoundItem("https://x.org/c.html", "C"),
            FoundItem("https://x.org/c.html", "C"),
        ]
        assert store.add_items(session, source.id, first, NOW) == 2
        again = [
            FoundItem("https://x.org/d.html", "D", guid="g1"),  # a GUID seen before
            FoundItem("https://x.org/c.html", "C", guid="g9"),  # a URL seen before
            FoundItem("https://x.org/e.html", "E", guid="g3"),
        ]
        assert store.add_items(session, source.id, again, NOW) == 1
        urls = sorted(session.scalars(select(SourceItem.url)))
        assert urls == ["https://x.org/a.html", "https://x.org/c.html", "https://x.org/e.html"]
        session.refresh(source)
        assert source.items_found == 3


def test_a_notice_list_linking_to_itself_is_not_an_item() -> None:
    page = "https://www.miit.gov.cn/zwgk/zcwj/index_123.html"
    body = (
        "<html><body><ul>"
        f'<li><a href="{page}">政策文件列表第一百二十三页</a></li>'
        f'<li><a href="{page}#top">政策文件列表第一百二十三页</a></li>'
        '<li><a href="./index_123.html">政策文件列表第一百二十三页</a></li>'
        '<li><a href="/zwgk/zcwj/art/t20261120_1234567.html">关于印发《工业互联网行动方案》的通知</a>'
        "<span>2026-11-20</span></li>"
        "</ul></body></html>"
    ).encode()
    items = page_items(body, "utf-8", page)
    assert [i.url for i in items] == [
        "https://www.miit.gov.cn/zwgk/zcwj/art/t20261120_1234567.html"
    ]
    assert items[0].published_on == date(2026, 11, 20)


TEXT = "关于印发《新型储能制造业高质量发展行动方案》的通知 到2027年，新型储能制造业全链条国际竞争优势凸显。"


def test_gbk_served_as_utf8_is_read_as_gbk() -> None:
    body = f"<html><body><p>{TEXT}</p></body></html>".encode("gbk")
    assert TEXT in decode_html(body, "utf-8")


def test_utf8_served_as_gbk_is_read_as_utf8() -> None:
    """A CMS that declares gb2312 (header or <meta>) but writes UTF-8: GB18030 decodes
    almost any bytes, into nonsense; valid UTF-8 with Chinese in it is UTF-8."""
    page = f'<html><head><meta charset="gb2312"></head><body><p>{TEXT}</p></body></html>'
    assert TEXT in decode_html(page.encode("utf-8"), "gbk")
    assert TEXT in decode_html(page.encode("utf-8"), None)
    assert TEXT in decode_html(page.encode("gb18030"), None)  # a true GB page stays one
