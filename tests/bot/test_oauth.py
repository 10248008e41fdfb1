"""Multi-workspace install: Bolt's OAuth flow against the fake Slack, then a signed command
from the new team served with that team's own token; uninstall pauses, reinstall resumes."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text

from policybot.bot.app import NOT_INSTALLED, build_app
from policybot.bot.logs import configure_logging
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services, build_services, build_ticker
from policybot.bot.settings import Mode, Settings
from policybot.data.models import Subscription
from tests.bot.conftest import SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.conftest import NOW
from tests.fakeslack import TEAM2_TOKEN, FakeSlack
from tests.scheduler.conftest import ingest, tracker_issue

CLIENT_SECRET = "0123456789abcdef-client-secret"


@pytest.fixture
def oauth_services(tmp_path: Path, fake: FakeSlack) -> Iterator[Services]:
    settings = Settings.from_env(
        {},
        database_url=f"sqlite:///{tmp_path / 'oauth.sqlite3'}",
        client_id="111.222",
        client_secret=CLIENT_SECRET,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )
    assert settings.mode is Mode.OAUTH
    services = build_services(settings, clock=lambda: NOW)
    yield services
    services.close()


def get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), by_name(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), by_name(error.headers)


def by_name(headers: Message) -> dict[str, str]:
    """Header names are case-insensitive (Bolt sends them in lower case): Title-Case them."""
    return {name.title(): value for name, value in headers.items()}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def install(server: LiveServer) -> None:
    status, page, headers = get(f"{server.url}/slack/install")
    assert status in (200, 302)
    state = re.search(r"state=([\w-]+)", page + headers.get("Location", ""))
    assert state, page
    cookie = headers["Set-Cookie"].split(";")[0]
    status, page, _ = get(
        f"{server.url}/slack/oauth_redirect?code=good-code&state={state.group(1)}", cookie
    )
    assert status == 200, page


def test_install_then_serve_that_team_with_its_token(
    oauth_services: Services, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs = io.StringIO()
    monkeypatch.setattr("sys.stderr", logs)
    configure_logging("DEBUG", [CLIENT_SECRET, SIGNING_SECRET], "json")
    app = build_app(oauth_services)
    fake.add_channel_member("C2", "U2")
    fake.set_user("U2", tz="Asia/Shanghai", team_id="T2")
    with LiveServer(make_wsgi_app(app, oauth_services)) as server:
        install(server)
        assert [c.params.get("code") for c in fake.calls_to("oauth.v2.access")] == ["good-code"]
        form = slash_form(
            fake, "subscribe storage daily at 09:00", team_id="T2", channel_id="C2", user_id="U2"
        )
        status, body = post(f"{server.url}/slack/events", urlencode(form))
    assert status == 200
    assert "Subscribed s1" in json.loads(body)["text"]
    assert "Asia/Shanghai" in json.loads(body)["text"]  # users.info, called with T2's token
    lookups = fake.calls_to("users.info") + fake.calls_to("conversations.members")
    assert lookups and {c.token for c in lookups} == {TEAM2_TOKEN}
    # Scheduled posts for T2 use T2's token from the installation store.
    ingest(oauth_services.sessions, tracker_issue("Team Two Storage"), NOW + timedelta(minutes=1))
    build_ticker(oauth_services).tick(NOW + timedelta(days=1))
    posts = [c for c in fake.calls_to("chat.postMessage") if c.status == 200]
    assert posts and {c.token for c in posts} == {TEAM2_TOKEN}
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    # slack_sdk logs oauth.v2.access responses at DEBUG: the workspace's token is masked.
    assert "oauth.v2.access" in logs.getvalue()
    for secret in (TEAM2_TOKEN, CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in logs.getvalue()


def test_uninstall_pauses_and_removes_tokens_reinstall_resumes(
    oauth_services: Services, fake: FakeSlack
) -> None:
    app = build_app(oauth_services)
    fake.add_channel_member("C2", "U2")
    with LiveServer(make_wsgi_app(app, oauth_services)) as server:
        install(server)
        form = slash_form(fake, "subscribe storage", team_id="T2", channel_id="C2", user_id="U2")
        assert post(f"{server.url}/slack/events", urlencode(form))[0] == 200
        event = {
            "token": "x",
            "team_id": "T2",
            "api_app_id": "A1",
            "type": "event_callback",
            "event": {"type": "app_uninstalled"},
            "event_id": "Ev1",
            "event_time": int(time.time()),
        }
        status, _ = post(
            f"{server.url}/slack/events", json.dumps(event), content_type="application/json"
        )
        assert status == 200

        def paused() -> bool:
            with oauth_services.sessions() as session:
                sub = session.scalar(select(Subscription))
                return sub is not None and sub.paused_reason is not None

        assert wait_for(paused)
        store_rows = oauth_services.engine.connect()
        with store_rows:
            assert store_rows.execute(text("SELECT count(*) FROM slack_bots")).scalar() == 0
        install(server)
    with oauth_services.sessions() as session:
        sub = session.scalar(select(Subscription))
        assert sub is not None and sub.paused_reason is None


class MovableClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def state_rows(services: Services) -> int:
    with services.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM slack_oauth_states")).scalar_one())


def test_expired_oauth_states_are_purged(tmp_path: Path, fake: FakeSlack) -> None:
    clock = MovableClock()
    settings = Settings.from_env(
        {},
        database_url=f"sqlite:///{tmp_path / 'states.sqlite3'}",
        client_id="111.222",
        client_secret=CLIENT_SECRET,
        signing_secret=SIGNING_SECRET,
        api_url=fake.url,
    )
    services = build_services(settings, clock=clock)
    try:
        with LiveServer(make_wsgi_app(build_app(services), services)) as server:
            for _ in range(30):  # unauthenticated visitors who never finish
                assert get(f"{server.url}/slack/install")[0] in (200, 302)
            assert state_rows(services) == 30
            _, page, headers = get(f"{server.url}/slack/install")
            stale = re.search(r"state=([\w-]+)", page + headers.get("Location", ""))
            assert stale is not None
            clock.now = NOW + timedelta(minutes=11)
            install(server)  # issues a fresh state, purging the 31 expired ones
            assert state_rows(services) == 0  # the fresh one was consumed
            cookie = headers["Set-Cookie"].split(";")[0]
            status, _, _ = get(
                f"{server.url}/slack/oauth_redirect?code=good-code&state={stale.group(1)}", cookie
            )
            assert status != 200  # an expired state never completes an install
    finally:
        services.close()


def test_a_workspace_that_never_installed_is_told_so(
    oauth_services: Services, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(oauth_services)
    with caplog.at_level(logging.INFO), LiveServer(make_wsgi_app(app, oauth_services)) as server:
        form = slash_form(fake, "storage", team_id="T9", channel_id="C9", user_id="U9")
        status, body = post(f"{server.url}/slack/events", urlencode(form))
    assert status == 200
    # Bolt sends the message to the command's response_url and acks with an empty body.
    assert wait_for(lambda: fake.calls_to("response_url"))
    sent = fake.calls_to("response_url")[0].params
    assert sent["text"] == NOT_INSTALLED
    assert "Sorry" not in body + json.dumps(sent)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
