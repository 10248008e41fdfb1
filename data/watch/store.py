"""Watched sources in the database: adding, listing, pausing and removing them (what
`/policy source ...` and App Home do), and the poller's bookkeeping: leasing a due source,
recording what a poll found or met, the back-off, and taking each found item once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..backends import backend_for
from ..errors import UserError
from ..fetch import FetchPolicy, check_url
from ..models import SourceItem, SourceItemStatus, WatchedSource
from .discover import FoundItem

DEFAULT_EVERY = timedelta(hours=6)
MIN_EVERY = timedelta(minutes=15)  # politeness: a ministry's list changes a few times a day
MAX_EVERY = timedelta(days=30)
MAX_BACKOFF = timedelta(days=7)
# A poll that died lets go of its source (and items) after this: longer than a poll of
# ITEMS_PER_POLL documents takes even at every fetch's timeout.
LEASE = timedelta(hours=1)
ITEM_ATTEMPTS = 3  # an item that failed this often is given up (its error kept)
MAX_SOURCES_PER_TEAM = 100
MAX_LABEL_CHARS = 200  # the column's size

_REF = re.compile(r"^\s*[wW]?(\d{1,9})\s*$")
_EVERY = re.compile(r"^(?:every\s+)?(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)$", re.I)
_NAMED_EVERY = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


@dataclass(frozen=True)
class SourceRequest:
    url: str
    every: timedelta
    label: str


def parse_every(text: str) -> timedelta | None:
    """ "every 6h", "6h", "30m", "2 days", "daily" -> the interval; None when not one."""
    text = " ".join(text.lower().split())
    if text in _NAMED_EVERY:
        return _NAMED_EVERY[text]
    match = _EVERY.match(text)
    if not match:
        return None
    count, unit = int(match[1]), match[2][0]
    return {"m": timedelta(minutes=count), "h": timedelta(hours=count)}.get(
        unit, timedelta(days=count)
    )


def parse_source_request(text: str) -> SourceRequest:
    """`URL [every 6h] [label]`: the URL first, a schedule anywhere after it, the rest the
    label."""
    text = text.strip()
    words = text.split()
    if not words:
        raise UserError(
            "Give the address to watch: `/policy source add https://example.gov.cn/list.html "
            "every 6h MIIT notices`."
        )
    url, rest = words[0].strip("<>"), words[1:]
    if text.startswith("<") and ">" in text:
        # Slack's <url> or <url|text> link form, whose text may hold spaces: all of it is
        # the address, none of it the label.
        link, _, after = text[1:].partition(">")
        url, rest = link.split("|", 1)[0].strip(), after.split()
    elif "|" in url:
        url = url.split("|", 1)[0]
    # Slack escapes &, < and > in a command's text (a query string's &amp;).
    url = url.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    every = DEFAULT_EVERY
    label_words: list[str] = []
    position = 0
    while position < len(rest):
        word = rest[position]
        if word.lower() == "every":
            # "every 6h" or "every 6 h"
            for size in (2, 3):
                found = parse_every(" ".join(rest[position : position + size]))
                if found is not None:
                    every, position = found, position + size
                    break
            else:
                raise UserError(
                    f"I could not read the schedule {' '.join(rest[position : position + 3])!r}: "
                    "write it as `every 30m`, `every 6h` or `every 2d`."
                )
            continue
        found = parse_every(word) if word.lower() in _NAMED_EVERY or not label_words else None
        if found is not None:
            every = found
        else:
            label_words.append(word)
        position += 1
    if every < MIN_EVERY or every > MAX_EVERY:
        raise UserError(
            "A source is polled at most every 15 minutes and at least every 30 days; "
            f"{_interval(every)} is outside that."
        )
    label = " ".join(label_words)
    if len(label) > MAX_LABEL_CHARS:
        raise UserError(
            f"A source's label is at most {MAX_LABEL_CHARS} characters; yours has {len(label)}."
        )
    return SourceRequest(url, every, label)


def source_by_ref(session: Session, team_id: str, text: str) -> WatchedSource:
    match = _REF.match(text)
    if not match:
        raise UserError(f"{text.strip()[:40]!r} is not a source id; `/policy sources` lists them.")
    source = session.get(WatchedSource, int(match[1]))
    if source is None or source.team_id != team_id:
        raise UserError(f"There is no source w{match[1]} in this workspace.")
    return source


def add_source(
    session: Session,
    team_id: str,
    user_id: str,
    request: SourceRequest,
    now: datetime,
    policy: FetchPolicy | None = None,
) -> WatchedSource:
    """A new source, polled first at once; FetchRefused (a sentence why) for a URL that
    may never be fetched, UserError for one watched already."""
    # Checked (DNS included) before the first query: on SQLite the transaction, and its
    # write lock, begins only then, so a slow resolver holds up nobody else.
    target = check_url(request.url, policy)
    existing = session.scalar(
        select(WatchedSource).where(
            WatchedSource.team_id == team_id, WatchedSource.url == target.url
        )
    )
    if existing is not None:
        raise UserError(f"{target.url} is watched already as {existing.ref}.")
    count = session.scalar(
        select(func.count()).select_from(WatchedSource).where(WatchedSource.team_id == team_id)
    )
    if (count or 0) >= MAX_SOURCES_PER_TEAM:
        raise UserError(f"This workspace watches {MAX_SOURCES_PER_TEAM} sources, the most it may.")
    source = WatchedSource(
        team_id=team_id,
        url=target.url,
        label=request.label,
        kind="auto",
        every_minutes=int(request.every.total_seconds() // 60),
        added_by=user_id,
        added_at=now,
        next_poll_at=now,
        failures=0,
        items_found=0,
    )
    session.add(source)
    session.flush()
    return source


def team_sources(session: Session, team_id: str) -> list[WatchedSource]:
    return list(
        session.scalars(
            select(WatchedSource).where(WatchedSource.team_id == team_id).order_by(WatchedSource.id)
        )
    )


def set_paused(source: WatchedSource, paused: bool, now: datetime) -> None:
    source.paused_at = now if paused else None
    if not paused:
        source.next_poll_at = now
        source.failures = 0


def remove_source(session: Session, source: WatchedSource) -> None:
    """The source and its item rows go; the briefs it brought stay in the corpus."""
    session.execute(delete(SourceItem).where(SourceItem.source_id == source.id))
    session.delete(source)


def _interval(every: timedelta) -> str:
    minutes = int(every.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"every {minutes // 1440}d"
    if minutes % 60 == 0:
        return f"every {minutes // 60}h"
    return f"every {minutes}m"


def schedule_label(source: WatchedSource) -> str:
    return _interval(timedelta(minutes=source.every_minutes))


# -- the poller's side ------------------------------------------------------------------


def lease_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Take up to `limit` due sources for this poller (the lease keeps others off them
    until the poll records its outcome, or for LEASE if it dies)."""
    due = list(
        session.scalars(
            backend_for(session).lock_for_claim(
                select(WatchedSource.id)
                .where(
                    WatchedSource.paused_at.is_(None),
                    WatchedSource.next_poll_at <= now,
                    or_(WatchedSource.leased_until.is_(None), WatchedSource.leased_until < now),
                )
                .order_by(WatchedSource.next_poll_at, WatchedSource.id)
                .limit(limit)
            )
        )
    )
    taken = []
    for source_id in due:
        result = session.execute(
            update(WatchedSource)
            .where(
                WatchedSource.id == source_id,
                or_(WatchedSource.leased_until.is_(None), WatchedSource.leased_until < now),
            )
            .values(leased_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            taken.append(source_id)
    return taken


def record_success(
    session: Session,
    source_id: int,
    now: datetime,
    kind: str,
    etag: str | None,
    last_modified: str | None,
) -> None:
    source = session.get(WatchedSource, source_id)
    if source is None:
        return  # removed while it was polled
    source.kind = kind
    if etag is not None or last_modified is not None:
        source.etag, source.last_modified = etag, last_modified
    source.last_polled_at = source.last_success_at = now
    source.failures = 0
    source.next_poll_at = now + timedelta(minutes=source.every_minutes)
    source.leased_until = None


def backoff(every: timedelta, failures: int) -> timedelta:
    """The wait after `failures` failed polls in a row: a quarter of the interval, then
    doubling each time, never longer than MAX_BACKOFF nor shorter than MIN_EVERY."""
    wait: timedelta = every / 4 * (2 ** min(failures - 1, 20))
    return max(MIN_EVERY, min(wait, MAX_BACKOFF))


def record_failure(session: Session, source_id: int, now: datetime, error: str) -> timedelta:
    source = session.get(WatchedSource, source_id)
    if source is None:
        return timedelta(0)
    source.failures += 1
    source.last_polled_at = source.last_error_at = now
    source.last_error = error[:500]
    wait = backoff(timedelta(minutes=source.every_minutes), source.failures)
    source.next_poll_at = now + wait
    source.leased_until = None
    return wait


def add_items(session: Session, source_id: int, items: Sequence[FoundItem], now: datetime) -> int:
    """Keep the items not seen before (by URL anywhere, by GUID in this source); how many
    were new."""
    if not items or session.get(WatchedSource, source_id) is None:
        return 0  # nothing found, or the source was removed while it was polled
    urls = [item.url[:2000] for item in items]
    guids = [item.guid for item in items if item.guid]
    known_urls = set(session.scalars(select(SourceItem.url).where(SourceItem.url.in_(urls))))
    known_guids: set[str | None] = set()
    if guids:
        known_guids = set(
            session.scalars(
                select(SourceItem.guid).where(
                    SourceItem.source_id == source_id, SourceItem.guid.in_(guids)
                )
            )
        )
    rows: dict[str, dict[str, object]] = {}
    taken_guids: set[str] = set()
    for item in items:
        url = item.url[:2000]
        if url in known_urls or url in rows or (item.guid and item.guid in known_guids):
            continue
        if item.guid and item.guid in taken_guids:
            continue
        if item.guid:
            taken_guids.add(item.guid)
        rows[url] = {
            "source_id": source_id,
            "url": url,
            "guid": item.guid,
            "title": item.title[:500],
            "published_on": item.published_on,
            "status": SourceItemStatus.PENDING.value,
            "found_at": now,
            "attempts": 0,
            "outcome": "",
        }
    if not rows:
        return 0
    # Another source may have found the same URL at this moment: its row stands.
    statement = backend_for(session).insert_ignoring_duplicates(SourceItem, ["url"])
    result = session.execute(statement, list(rows.values()))
    added = int(getattr(result, "rowcount", 0) or 0)
    if added <= 0:  # some drivers do not count an executemany
        added = len(rows)
    session.execute(
        update(WatchedSource)
        .where(WatchedSource.id == source_id)
        .values(items_found=WatchedSource.items_found + added)
        .execution_options(synchronize_session=False)
    )
    return added


def lease_items(session: Session, source_id: int, now: datetime, limit: int) -> list[SourceItem]:
    """Up to `limit` of the source's pending items, each leased to this poller."""
    candidates = list(
        session.scalars(
            select(SourceItem)
            .where(
                SourceItem.source_id == source_id,
                SourceItem.status == SourceItemStatus.PENDING,
                or_(SourceItem.leased_until.is_(None), SourceItem.leased_until < now),
            )
            .order_by(SourceItem.id)
            .limit(limit)
        )
    )
    leased = []
    for item in candidates:
        result = session.execute(
            update(SourceItem)
            .where(
                SourceItem.id == item.id,
                SourceItem.status == SourceItemStatus.PENDING,
                or_(SourceItem.leased_until.is_(None), SourceItem.leased_until < now),
            )
            .values(leased_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            leased.append(item)
    return leased


def item_taken(session: Session, item_id: int, now: datetime, outcome: str) -> bool:
    """Mark the item read; False when someone else took it meanwhile (write nothing)."""
    result = session.execute(
        update(SourceItem)
        .where(SourceItem.id == item_id, SourceItem.status == SourceItemStatus.PENDING)
        .values(
            status=SourceItemStatus.TAKEN,
            taken_at=now,
            leased_until=None,
            outcome=outcome[:2000],
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def record_outcome(session: Session, item_id: int, outcome: str) -> None:
    session.execute(
        update(SourceItem)
        .where(SourceItem.id == item_id)
        .values(outcome=outcome[:2000])
        .execution_options(synchronize_session=False)
    )


def item_failed(session: Session, item_id: int, now: datetime, error: str) -> None:
    item = session.get(SourceItem, item_id)
    if item is None or item.status != SourceItemStatus.PENDING:
        return
    item.attempts += 1
    item.error = error[:500]
    item.leased_until = None
    if item.attempts >= ITEM_ATTEMPTS:
        item.status = SourceItemStatus.FAILED


@dataclass(frozen=True)
class ItemCounts:
    pending: int = 0
    taken: int = 0
    failed: int = 0


def item_counts(session: Session, source_ids: Sequence[int]) -> dict[int, ItemCounts]:
    if not source_ids:
        return {}
    rows = session.execute(
        select(SourceItem.source_id, SourceItem.status, func.count())
        .where(SourceItem.source_id.in_(list(source_ids)))
        .group_by(SourceItem.source_id, SourceItem.status)
    )
    found: dict[int, dict[str, int]] = {}
    for source_id, status, count in rows:
        found.setdefault(source_id, {})[str(status)] = int(count)
    return {
        source_id: ItemCounts(
            counts.get("pending", 0), counts.get("taken", 0), counts.get("failed", 0)
        )
        for source_id, counts in found.items()
    }


def any_due(session: Session, now: datetime) -> bool:
    """Whether a poll has anything to do (an idle server asks this and nothing more)."""
    return (
        session.scalar(
            select(WatchedSource.id)
            .where(and_(WatchedSource.paused_at.is_(None), WatchedSource.next_poll_at <= now))
            .limit(1)
        )
        is not None
    )
