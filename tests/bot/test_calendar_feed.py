"""A live calendar end to end: a signed `/policy deadlines calendar` makes a feed, the real
HTTP endpoint serves it (200 with events, 304 on the validators, 404 after revoke or for a
wrong token), a new goal appears on the next fetch, and the token never reaches the log or
the database."""

from __future__ import annotations

import json
import logging
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from icalendar import Calendar
from sqlalchemy import select

from policybot.bot.app import build_app
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services, build_services
from policybot.bot.settings import Settings, SettingsError
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import CalendarFeed
from policybot.data.novelty import Novelty
from policybot.handlers.calendar import NO_PUBLIC_URL
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form
from tests.conftest import NOW
from tests.fakeslack import FakeSlack

PUBLIC = "https://policybot.example.org"
FEED_URL = re.compile(re.escape(PUBLIC) + r"/calendar/([A-Za-z0-9_-]{43})\.ics")


@pytest.fixture
def public_services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    settings = Settings.from_env(
        {"POLICYBOT_PUBLIC_URL": PUBLIC + "/"},
        database_url=f"sqlite:///{tmp_path / 'feeds.sqlite3'}",
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )
    assert settings.public_url == PUBLIC  # the trailing slash goes
    services = build_services(settings, clock=lambda: NOW)
    yield services
    services.close()


@pytest.fixture
def server(public_services: Services, fake: FakeSlack) -> Iterator[LiveServer]:
    fake.add_channel_member("C100", "U100")
    with LiveServer(make_wsgi_app(build_app(public_services), public_services)) as live:
        yield live


def answer(server: LiveServer, fake: FakeSlack, text: str, channel: str = "C100") -> str:
    """The whole acked reply (text and blocks) as JSON text."""
    status, body = post(
        f"{server.url}/slack/events", urlencode(slash_form(fake, text, channel_id=channel))
    )
    assert status == 200
    return body


def command(server: LiveServer, fake: FakeSlack, text: str, channel: str = "C100") -> str:
    return str(json.loads(answer(server, fake, text, channel))["text"])


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def uids(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}


def storage_issue() -> bytes:
    return (
        "At a glance: The MIIT released a plan on energy storage stations. Key goals include:\n\n"
        "\uf0a1 By 2029, build 40 new energy storage demonstration stations\n\n"
        "MERICS comment: More storage.\n\n"
        "Article: Plan on energy storage stations (Link)\n\n"
        "Issuing body: MIIT\n\n"
        "Date: November 20, 2026\n\n"
        "https://example.org/storage-stations\n"
    ).encode()


def test_a_feed_is_made_served_followed_and_revoked(
    server: LiveServer,
    fake: FakeSlack,
    public_services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    said = command(server, fake, "deadlines calendar storage")
    assert said.startswith("Calendar subscription cal1 for storage, 3 deadlines now: ")
    match = FEED_URL.search(said)
    assert match is not None
    token = match.group(1)
    url = f"{server.url}/calendar/{token}.ics"

    status, headers, body = fetch(url)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    first = uids(body)
    assert len(first) == 3
    assert all(re.fullmatch(r"goal-\d+-due@[0-9a-f]{32}\.policybot", u) for u in first)
    etag, modified = headers["ETag"], headers["Last-Modified"]

    # A calendar that sends back what it has gets 304 and no body.
    status, again, body304 = fetch(url, {"If-None-Match": etag})
    assert (status, body304, again["ETag"]) == (304, b"", etag)
    assert fetch(url, {"If-Modified-Since": modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"something-else"'})[0] == 200
    # Stable: the same document (so the same UIDs) at the next poll.
    assert fetch(url)[2] == body

    # A new storage goal appears at the next poll, beside the old events.
    with public_services.sessions() as session, session.begin():
        ingest_bytes(session, storage_issue(), "storage-stations.txt", NOW, Novelty.NEW)
    status, newer, body = fetch(url, {"If-None-Match": etag})
    assert status == 200
    assert newer["ETag"] != etag
    assert uids(body) > first and len(uids(body)) == 4

    # Listed; another channel can neither see nor revoke it.
    listed = answer(server, fake, "deadlines calendar list")
    assert json.loads(listed)["text"] == "This channel's calendar subscription: 1"
    assert "cal1: storage (made 29 Nov 2026 by <@U100>)" in listed
    assert token not in listed
    assert command(server, fake, "deadlines calendar list", channel="C200").startswith(
        "This channel has no calendar subscriptions"
    )
    fake.add_channel_member("C200", "U100")
    assert "no calendar subscription `cal1`" in command(
        server, fake, "deadlines calendar revoke cal1", channel="C200"
    )
    assert fetch(url)[0] == 200

    assert command(server, fake, "deadlines calendar revoke cal1").startswith("Revoked cal1")
    status, _, gone = fetch(url)
    assert status == 404 and b"BEGIN:VCALENDAR" not in gone
    assert fetch(url, {"If-None-Match": etag})[0] == 404

    # Only a hash is stored, and no log line holds the token.
    with public_services.sessions() as session:
        stored = session.scalars(select(CalendarFeed)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert stored.revoked_at is not None
    logged = "\n".join(
        r.getMessage() + repr(r.args) + repr(getattr(r, "__dict__", {})) for r in caplog.records
    )
    assert token not in logged


def test_wrong_or_malformed_tokens_are_404(server: LiveServer) -> None:
    for path in (
        f"/calendar/{secrets.token_urlsafe(32)}.ics",
        "/calendar/short.ics",
        "/calendar/../../etc/passwd.ics",
    ):
        status, _, body = fetch(server.url + path)
        assert status == 404, path
        assert b"VCALENDAR" not in body


def test_a_post_to_a_feed_is_refused(server: LiveServer, fake: FakeSlack) -> None:
    said = command(server, fake, "deadlines calendar")
    match = FEED_URL.search(said)
    assert match is not None
    request = urllib.request.Request(
        f"{server.url}/calendar/{match.group(1)}.ics", data=b"x", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    with raised.value as error:
        assert error.code == 405
        assert error.headers["Allow"] == "GET, HEAD"


def test_off_revokes_every_feed_of_the_channel(server: LiveServer, fake: FakeSlack) -> None:
    urls = []
    for words in ("", "storage"):
        match = FEED_URL.search(command(server, fake, f"deadlines calendar {words}"))
        assert match is not None
        urls.append(f"{server.url}/calendar/{match.group(1)}.ics")
    assert all(fetch(u)[0] == 200 for u in urls)
    assert (
        command(server, fake, "deadlines calendar off") == "Revoked cal1, cal2: calendars "
        "polling them now get nothing, and their events stay only until the calendar next polls."
    )
    assert all(fetch(u)[0] == 404 for u in urls)
    assert command(server, fake, "deadlines calendar off").startswith(
        "This channel has no calendar subscriptions"
    )


def test_bad_words_create_nothing(
    server: LiveServer, fake: FakeSlack, public_services: Services
) -> None:
    said = command(server, fake, "deadlines calendar since:yesterday-ish")
    assert "Calendar subscription" not in said
    with public_services.sessions() as session:
        assert session.scalars(select(CalendarFeed)).all() == []


def test_without_a_public_url_the_command_says_how_to_set_it(
    live: LiveServer, fake: FakeSlack, services: Services
) -> None:
    status, body = post(
        f"{live.url}/slack/events", urlencode(slash_form(fake, "deadlines calendar"))
    )
    assert status == 200
    assert json.loads(body)["text"] == NO_PUBLIC_URL
    with services.sessions() as session:
        assert session.scalars(select(CalendarFeed)).all() == []


def test_a_public_url_must_be_http() -> None:
    with pytest.raises(SettingsError, match="POLICYBOT_PUBLIC_URL"):
        Settings.from_env({"POLICYBOT_PUBLIC_URL": "policybot.example.org"})
