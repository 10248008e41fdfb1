"""Several people writing at once through the real `policybot serve` on its embedded SQLite
database, with the scheduler ticking every second in the same server: no command is
answered "Sorry" and every write is stored.

Each command's write transaction reads before it writes; with a deferred BEGIN, one that
read before another connection committed was refused at once ("database is locked"), and
34 of 48 such commands sent 4 at a time failed."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text

from policybot.bot.dispatcher import SORRY, WORKING
from policybot.data.db import make_engine, read_only
from tests.bot.cli_server import CliServer, http
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.bot.test_http import slash_form
from tests.bot.test_workers import until
from tests.fakeslack import FakeSlack

EACH = 16  # notes, subscriptions and reminder rules: 48 commands
AT_ONCE = 8
USERS = [f"U{n}" for n in range(100, 108)]


def commands() -> list[tuple[str, str, str]]:
    """(user, channel, text) of 48 writes: notes on briefs, subscriptions (instant ones put
    the scheduler to work every tick) and reminder rules, each in a channel of its own."""
    out = []
    for n in range(EACH):
        user = USERS[n % len(USERS)]
        out.append((user, "C100", f"note b{n % 20 + 1} Concurrent note {n}"))
        schedule = "instant" if n % 2 else f"daily at {n % 24:02d}:00"
        out.append((user, f"CS{n}", f"subscribe storage {schedule}"))
        out.append((user, f"CR{n}", "remind storage leads 90,30,7"))
    return out


def reply_text(fake: FakeSlack, key: str, status: int, body: str) -> str:
    """The command's answer: in the ack, or posted to its response_url afterwards."""
    assert status == 200, body
    acked = json.loads(body).get("text", "") if body else ""
    if acked != WORKING:
        return str(acked)
    call = fake.wait_for_call(
        lambda c: c.method == "response_url" and c.path.endswith(f"/{key}"), timeout=60
    )
    assert call is not None, f"no answer for {key}"
    return str(call.params.get("text", ""))


def stored(database_url: str) -> dict[str, int]:
    engine = read_only(make_engine(database_url))
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("team_notes", "subscriptions", "reminder_rules")
            }
    finally:
        engine.dispose()


def due_marks(database_url: str) -> set[str]:
    engine = read_only(make_engine(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT next_due_at FROM subscriptions"))
            return {str(value) for value in rows.scalars().all()}
    finally:
        engine.dispose()


def test_48_writes_8_at_a_time_with_the_scheduler_ticking(tmp_path: Path, fake: FakeSlack) -> None:
    url = f"sqlite:///{tmp_path / 'writers.sqlite3'}"
    work = commands()
    for user, channel, _ in work:
        fake.set_user(user, tz="Europe/Berlin")
        fake.add_channel_member(channel, user)
    with CliServer(url, fake, tmp_path / "serve.log", POLICYBOT_TICK_SECONDS="1") as server:

        def send(numbered: tuple[int, tuple[str, str, str]]) -> str:
            n, (user, channel, command) = numbered
            key = f"w{n}"
            form = slash_form(fake, command, user_id=user, channel_id=channel)
            form["response_url"] = fake.response_url(key)
            status, body = http(f"{server.url}/slack/events", urlencode(form), timeout=60)
            return reply_text(fake, key, status, body)

        with ThreadPoolExecutor(AT_ONCE) as pool:
            replies = list(pool.map(send, enumerate(work)))
        counts = stored(url)
        # The scheduler ticked through it all and still does: instant subscriptions move on.
        first = due_marks(url)
        until(lambda: due_marks(url) != first, 30, "a tick after the burst")
        log = server.log()
    sorry = [
        (command, reply)
        for (_, _, command), reply in zip(work, replies, strict=True)
        if SORRY in reply or "Sorry" in reply
    ]
    assert sorry == [], sorry[:5]
    assert "database is locked" not in log
    assert counts == {"team_notes": EACH, "subscriptions": EACH, "reminder_rules": EACH}


def config_check(env: dict[str, str]) -> str:
    from click.testing import CliRunner

    from policybot.bot.cli import main

    base = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    result = CliRunner().invoke(main, ["config", "check"], env={**base, **env})
    assert result.exit_code == 0, result.output
    return result.output


def test_config_check_says_when_sqlite_is_outgrown(tmp_path: Path) -> None:
    sqlite = {"POLICYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    postgres = {"POLICYBOT_DATABASE_URL": "postgresql+psycopg://policybot@db/policybot"}
    assert "SQLite" not in config_check(sqlite)  # one worker, the default pool: it serves
    for outgrown in (
        {"POLICYBOT_WEB_WORKERS": "2"},
        {"POLICYBOT_COMMAND_WORKERS": "64"},
        # OAuth: many workspaces (and no single bot token).
        {
            "SLACK_BOT_TOKEN": "",
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "client-secret-abcdef",
        },
    ):
        warned = [
            line
            for line in config_check({**sqlite, **outgrown}).splitlines()
            if line.startswith("warning:") and "SQLite" in line
        ]
        assert len(warned) == 1 and "PostgreSQL" in warned[0], (outgrown, warned)
        assert "SQLite" not in config_check({**postgres, **outgrown})
