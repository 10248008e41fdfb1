"""Attacks on `/policy source ...` (handlers/sources.py, data/watch/store.py) with the
allow-private setting off, as a deployment runs: every bad input gets a friendly sentence
(an error reply, never a stack trace) and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data import fetch
from policybot.data.fetch import FetchPolicy
from policybot.data.models import WatchedSource
from policybot.data.watch import store
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.conftest import NOW
from tests.watch.web import Site, serving

ADMIN = Context(now=NOW, team_id="T1", channel_id="C1", user_id="UADMIN")
MEMBER = replace(ADMIN, user_id="UMEMBER", is_admin=lambda: False)
OTHER_ADMIN = replace(ADMIN, team_id="T2", user_id="UOTHER")


@pytest.fixture(autouse=True)
def setting_off() -> Iterator[FetchPolicy]:
    """POLICYBOT_FETCH_ALLOW_PRIVATE off, as deployed; the test server trusted alone."""
    before = fetch.current_policy()
    with serving() as site:
        origin = site.base.split("//", 1)[1]
        policy = FetchPolicy(allow_private=False, trusted_origins=frozenset({origin}))
        fetch.configure(policy)
        SITE.append(site)
        try:
            yield policy
        finally:
            SITE.clear()
            fetch.configure(before)


SITE: list[Site] = []


def url(path: str) -> str:
    return SITE[0].url(path)


def run(factory: sessionmaker[Session], text: str, ctx: Context = ADMIN) -> Reply:
    return CommandRunner(factory).run(text, ctx)


def snapshot(factory: sessionmaker[Session]) -> list[tuple[object, ...]]:
    with factory() as session:
        return [
            (s.id, s.team_id, s.url, s.label, s.every_minutes, s.paused_at)
            for s in session.scalars(select(WatchedSource).order_by(WatchedSource.id))
        ]


def refused(factory: sessionmaker[Session], text: str, ctx: Context = ADMIN) -> str:
    """The reply to a bad command, checked to be an error sentence that changed nothing."""
    before = snapshot(factory)
    reply = run(factory, text, ctx)
    assert reply.is_error, reply.text
    assert "Traceback" not in reply.text and "Error(" not in reply.text
    assert 0 < len(reply.text) < 600
    assert snapshot(factory) == before
    return reply.text


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("source add", "Give the address to watch"),
        ("source add    ", "Give the address to watch"),
        ("source add <>", "not a web address"),
        (f"source add {'https://www.miit.gov.cn/list.html'} every 0h", "at most every 15 minutes"),
        ("source add https://www.miit.gov.cn/list.html every 0m", "at most every 15 minutes"),
        ("source add https://www.miit.gov.cn/list.html every 100y", "could not read the schedule"),
        ("source add https://www.miit.gov.cn/list.html every 99999h", "could not read"),
        ("source add https://www.miit.gov.cn/list.html every 9999d", "at least every 30 days"),
        ("source add https://www.miit.gov.cn/list.html every -1h", "could not read the schedule"),
        ("source add https://www.miit.gov.cn/list.html every", "could not read the schedule"),
        ("source add https://www.miit.gov.cn/list.html 0m", "at most every 15 minutes"),
        ("source add https://www.miit.gov.cn/list.html " + "L" * 5000, "label"),
        ("source add https://www.miit.gov.cn/list.html " + "政策 " * 150, "label"),
        ("source add http://127.0.0.1/feed.xml", "loopback"),
        ("source add http://localhost:8080/", "loopback"),
        ("source add http://[::1]/", "loopback"),
        ("source add http://[::ffff:127.0.0.1]/", "loopback"),
        ("source add http://2130706433/", "loopback"),
        ("source add http://0x7f.1/", "loopback"),
        ("source add http://10.1.2.3/", "private network"),
        ("source add http://172.20.0.1/", "private network"),
        ("source add http://192.168.0.1/", "private network"),
        ("source add http://169.254.169.254/latest/meta-data/", "link-local"),
        ("source add http://example.com@127.0.0.1/", "user name or password"),
        ("source add <http://127.0.0.1/feed.xml|ministry feed>", "loopback"),
        ("source add <mailto:tracker@example.org|tracker@example.org>", "only fetch http"),
        ("source add file:///etc/passwd", "only fetch http"),
        ("source add gopher://127.0.0.1:70/", "only fetch http"),
        ("source add javascript:alert(1)", "only fetch http"),
        ("source add http://" + "a" * 3000 + ".example/", "too long"),
        ("source add http://1.2.3.4/" + "p" * 3000, "too long"),
        ("source add http://例え.invalid/feed", "could not find the host"),
        ("source pause", "Name the source"),
        ("source resume   ", "Name the source"),
        ("source remove banana", "not a source id"),
        ("source remove w0", "There is no source w0"),
        ("source remove w99999999999", "not a source id"),
        ("source remove w-1", "not a source id"),
        ("source pause <@U123>", "not a source id"),
    ],
)
def test_bad_commands_get_a_sentence_and_change_nothing(
    factory: sessionmaker[Session], command: str, why: str
) -> None:
    run(factory, f"source add {url('/kept.xml')} every 2h Kept")  # a source that must stay
    assert why in refused(factory, command)


def test_another_workspace_and_members_cannot_touch_a_source(
    factory: sessionmaker[Session],
) -> None:
    added = run(factory, f"source add {url('/feed.xml')} every 6h Ministry")
    assert not added.is_error, added.text
    ref = snapshot(factory)[0][0]
    for verb in ("pause", "resume", "remove"):
        assert f"There is no source w{ref} in this workspace" in refused(
            factory, f"source {verb} w{ref}", OTHER_ADMIN
        )
        assert "Only workspace admins" in refused(factory, f"source {verb} w{ref}", MEMBER)
    assert "Only workspace admins" in refused(factory, f"source add {url('/x.xml')}", MEMBER)
    assert run(factory, "sources", OTHER_ADMIN).text == "This workspace watches no sources."
    assert "Ministry" not in str(run(factory, "sources", OTHER_ADMIN).sections)


@pytest.mark.parametrize(
    ("typed", "path", "label"),
    [
        ("<{u}>", "/a.xml", ""),
        ("<{u}|{u}>", "/a.xml", ""),
        ("<{u}|MIIT notice list> every 2h", "/a.xml", ""),
        ("<{u}|MIIT notice list> every 2h MIIT notices", "/a.xml", "MIIT notices"),
        ("<{u}?a=1&amp;b=2>", "/a.xml?a=1&b=2", ""),
    ],
)
def test_slack_link_forms_are_read_as_the_address(
    factory: sessionmaker[Session], typed: str, path: str, label: str
) -> None:
    base = url("/a.xml")
    reply = run(factory, "source add " + typed.format(u=base))
    assert not reply.is_error, reply.text
    ((_, _, stored_url, stored_label, _, _),) = snapshot(factory)
    assert stored_url == url(path)
    assert stored_label == label


def test_the_schedule_words_parse_only_as_schedules() -> None:
    request = store.parse_source_request("https://example.org/feed.xml daily MIIT 6h notices")
    assert (request.every.total_seconds(), request.label) == (86400, "MIIT 6h notices")
