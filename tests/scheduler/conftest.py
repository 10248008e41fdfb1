"""Helpers for scheduler tests: synthetic tracker issues and a recording poster."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.services import Services, build_services
from policybot.bot.settings import Settings
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.novelty import Novelty
from policybot.scheduler.messages import DeliveryError, Digest, Outgoing

_serial = itertools.count(1)


def tracker_issue(
    *titles: str, published: date = date(2026, 11, 20), words: str = "energy storage"
) -> bytes:
    """A small tracker issue with one policy brief per title."""
    parts = []
    for title in titles:
        n = next(_serial)
        parts.append(
            f"At a glance: The MIIT released {title.lower()} about {words} (number {n}). Key goals include:\n\n"
            f"\uf0a1 By 2028, reach the {words} target number {n}\n\n"
            f"MERICS comment: A comment about {words}.\n\n"
            f"Article: {title} (关于{n}号储能文件的通知) (Link)\n\n"
            f"Issuing body: MIIT\n\n"
            f"Date: {published.strftime('%B %-d, %Y')}\n\n"
            f"https://example.org/brief/{n}\n"
        )
    return "\n\n".join(parts).encode()


def shown_briefs(message: dict[str, Any]) -> list[str]:
    """The brief refs a posted message delivers: by their Show buttons (a section's accessory
    or an actions block's elements) and the "See the other N" button of a capped digest
    (`list b11 b12 ...`), so the count does not depend on the layout."""
    blocks = message.get("blocks") or []
    refs = []
    for block in json.loads(blocks) if isinstance(blocks, str) else blocks:
        for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
            value = str(element.get("value", ""))
            if match := re.fullmatch(r"show (b\d+)", value):
                refs.append(match.group(1))
            elif value.startswith("list "):
                refs += [ref for ref in value.split()[1:] if re.fullmatch(r"b\d+", ref)]
    return refs


def ingest(factory: sessionmaker[Session], raw: bytes, at: datetime) -> None:
    """Store a synthetic issue as news at `at` (its printed date pins deadlines, not its
    novelty: the archive rule has tests of its own)."""
    with factory() as session, session.begin():
        ingest_bytes(session, raw, f"issue-{next(_serial)}.txt", at, Novelty.NEW)


@dataclass
class RecordingPoster:
    """Records posts; `fail_with` makes the next posts raise."""

    posts: list[tuple[str, str, Outgoing]] = field(default_factory=list)
    fail_with: list[DeliveryError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        with self.lock:
            if self.fail_with:
                raise self.fail_with.pop(0)
            self.posts.append((team_id, channel_id, message))
            return f"ts.{len(self.posts)}"

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        return set()

    def digests(self, channel: str | None = None) -> list[Digest]:
        return [
            m
            for _, c, m in self.posts
            if isinstance(m, Digest) and (channel is None or c == channel)
        ]

    def brief_titles(self, channel: str | None = None) -> list[str]:
        return [b.title for d in self.digests(channel) for b in d.briefs]


@contextmanager
def slack_services(directory: Path, fake_url: str, now: datetime) -> Iterator[Services]:
    """Services on a fresh SQLite file with a bot token, talking to the fake Slack."""
    settings = Settings.from_env(
        {},
        database_url=f"sqlite:///{directory / 'deliver.sqlite3'}",
        bot_token="xoxb-delivery-test",
        api_url=fake_url,
        load_demo=False,
    )
    services = build_services(settings, clock=lambda: now)
    try:
        yield services
    finally:
        services.close()
