"""`/policy source add|pause|resume|remove` and `/policy sources`, run as the console and
Slack run them (CommandRunner), against a local server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data import fetch
from policybot.data.fetch import Fetcher, FetchPolicy, HostGate
from policybot.data.models import WatchedSource
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.scheduler.polling import Poller
from tests.conftest import NOW
from tests.watch.test_fetch import FakeClock
from tests.watch.web import Resource, Site, rss, serving


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as site:
        yield site


@pytest.fixture
def allow_local() -> Iterator[FetchPolicy]:
    """POLICYBOT_FETCH_ALLOW_PRIVATE, as a deployment on an intranet sets it."""
    before = fetch.current_policy()
    policy = FetchPolicy(allow_private=True, timeout=2.0, spacing=0.0)
    fetch.configure(policy)
    yield policy
    fetch.configure(before)


ADMIN = Context(now=NOW, team_id="T1", channel_id="C1", user_id="UADMIN")
MEMBER = replace(ADMIN, user_id="UMEMBER", is_admin=lambda: False)


def run(factory: sessionmaker[Session], text: str, ctx: Context = ADMIN) -> str:
    reply = CommandRunner(factory).run(text, ctx)
    lines = [reply.text, *reply.notes]
    for section in reply.sections:
        lines.append(section.title)
        lines.extend(str(line) for line in section.lines)
    return "\n".join(lines)


def test_add_list_pause_resume_remove(
    factory: sessionmaker[Session], site: Site, allow_local: FetchPolicy
) -> None:
    assert "watches no sources" in run(factory, "sources")
    answer = run(factory, f"source add {site.url('/feed.xml')} every 2h Ministry notices")
    assert answer.startswith(f"Watching Ministry notices ({site.url('/feed.xml')}) as w")
    assert "every 2h" in answer
    ref = answer.split(" as ")[1].split(",")[0]
    listed = run(factory, "sources")
    assert f"{ref} Ministry notices" in listed
    assert "not read yet" in listed and f"next poll {NOW:%Y-%m-%d %H:%M} UTC" in listed

    entries = [("Notice", site.url("/a/1234.html"), NOW.date())]
    site.routes["/feed.xml"] = Resource(rss(entries), content_type="application/rss+xml")
    site.routes["/a/1234.html"] = Resource(
        b"<html><body><h1>Notice on robots</h1><p>The MIIT issued a plan on 2026-11-27. "
        b"By 2027, robot density doubles across manufacturing industries nationwide.</p>"
        b"</body></html>"
    )
    gate = HostGate(0.0, clock=FakeClock(), wait=FakeClock().wait)
    Poller(factory, Fetcher(allow_local, gate), parallel=1).poll(NOW)
    listed = run(factory, "sources")
    assert f"last success {NOW:%Y-%m-%d %H:%M} UTC" in listed
    assert "1 item found" in listed
    assert f"next poll {NOW + timedelta(hours=2):%Y-%m-%d %H:%M} UTC" in listed

    site.routes["/feed.xml"] = Resource(b"gone", status=500)
    Poller(factory, Fetcher(allow_local, gate), parallel=1).poll(NOW + timedelta(hours=2))
    listed = run(factory, "sources")
    assert "last error" in listed and "HTTP 500 Internal Server Error" in listed
    assert "1 failure in a row; backing off" in listed

    assert run(factory, f"source pause {ref}").startswith(f"Paused {ref}")
    assert "[paused]" in run(factory, "sources")
    assert run(factory, f"source pause {ref}") == f"{ref} is paused already."
    assert run(factory, f"source resume {ref}").startswith(f"Resumed {ref}")
    assert run(factory, f"source remove {ref}").startswith(f"Stopped watching {ref}")
    assert "watches no sources" in run(factory, "sources")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/feed.xml", "a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("ftp://example.org/feed.xml", "I only fetch http and https addresses"),
        ("www.miit.gov.cn/list.html", "lacks http:// or https://"),
    ],
)
def test_a_url_failing_validation_is_refused_at_add_time(
    factory: sessionmaker[Session], url: str, why: str
) -> None:
    answer = run(factory, f"source add {url}")
    assert why in answer
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(WatchedSource)) == 0


def test_bad_input_gets_a_clear_reply_and_changes_nothing(
    factory: sessionmaker[Session], site: Site, allow_local: FetchPolicy
) -> None:
    url = site.url("/feed.xml")
    assert "write it as `every 30m`" in run(factory, f"source add {url} every fortnight")
    assert "at most every 15 minutes" in run(factory, f"source add {url} every 5m")
    assert "Give the address to watch" in run(factory, "source add")
    assert "Only workspace admins" in run(factory, f"source add {url}", MEMBER)
    assert "not a source id" in run(factory, "source pause banana")
    assert "There is no source w99" in run(factory, "source remove w99")
    run(factory, f"source add <{url}|feed> every 1d")
    assert "is watched already as w" in run(factory, f"source add {url}")
    assert "Only workspace admins" in run(factory, "source remove w1", MEMBER)
    other_team = replace(ADMIN, team_id="T2")
    assert "watches no sources" in run(factory, "sources", other_team)
    with factory() as session:
        source = session.scalars(select(WatchedSource)).one()
        assert source.every_minutes == 24 * 60 and source.label == ""
