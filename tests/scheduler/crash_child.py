"""A scheduler process for the crash test: one tick, posting to the fake Slack.

Usage: python -m tests.scheduler.crash_child DB_URL SLACK_API_URL NOW_ISO
With POLICYBOT_KILL_AT set (scheduler/faults.py) it kills itself at that named point.
One worker thread: the order of posts, and so what a kill at the n-th point leaves, is the
same on every run.
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
    ticker = Ticker(session_factory(engine), poster, max_workers=1)
    report = ticker.tick(datetime.fromisoformat(now_text))
    print(f"done sent={report.sent} recovered={report.recovered}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
