"""A scheduler process for the crash test: ticks until everything due is sent.

Usage: python -m tests.scheduler.crash_child DB_URL SLACK_API_URL NOW_ISO
Prints "ready" once imports and set-up are done, so the parent kills it mid-work.
"""

from __future__ import annotations

import sys
from datetime import datetime

from policybot.bot.posters import ChannelPacer, SlackPoster
from policybot.bot.settings import Settings
from policybot.bot.slack_client import make_web_client
from policybot.data.db import make_engine, session_factory
from policybot.scheduler.ticker import Ticker


def main() -> None:
    url, api_url, now_text = sys.argv[1:4]
    settings = Settings.from_env({}, database_url=url, bot_token="xoxb-crash", api_url=api_url)
    client = make_web_client(settings, settings.bot_token)
    poster = SlackPoster(lambda _team: client, pacer=ChannelPacer(sleep=lambda _s: None))
    engine = make_engine(url)
    ticker = Ticker(session_factory(engine), poster, max_workers=2)
    print("ready", flush=True)
    report = ticker.tick(datetime.fromisoformat(now_text))
    print(f"done sent={report.sent}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
