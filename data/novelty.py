"""When a brief counts as new: the one rule digests, "newly tracked" deadline alerts and
subscription previews share.

A brief is as new as what brought it. A tracker issue from last week is new, whatever the
dates of the policies it reports; an issue (or a standalone document, by its own date)
older than ARCHIVE_AFTER when it is ingested is archive: stored and searchable at once,
never posted as new. The decision is made once, at ingestion, and kept on the brief as
`Brief.new_since` (when it became new to readers; NULL: archive), so a later look at the
store never has to guess from dates again. An admin can say it explicitly (`ingest
--archive` / `--new`, the Slack upload's choice), which also re-marks briefs stored before.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, select

from .models import Brief

# A monthly tracker's issue stays the latest news for a while after its month: it may be
# uploaded late, and a monthly digest reads it weeks later still. A quarter covers both;
# by then two or three later issues have come out, so anything older is a back issue
# (archive) being loaded, not news.
ARCHIVE_AFTER = timedelta(days=90)


class Novelty(StrEnum):
    AUTO = "auto"  # decided from the (or document's) date
    NEW = "new"
    ARCHIVE = "archive"


def is_archive_date(dated: date | None, now: datetime) -> bool:
    """Whether a source dated `dated` is archive when ingested at `now`. An undated source
    counts as new: nothing says it is old (an admin can still say --archive)."""
    return dated is not None and dated < now.date() - ARCHIVE_AFTER


def decide_archive(novelty: Novelty, dated: date | None, now: datetime) -> bool:
    if novelty is Novelty.AUTO:
        return is_archive_date(dated, now)
    return novelty is Novelty.ARCHIVE


def new_since_value(archive: bool, now: datetime) -> datetime | None:
    return None if archive else now


def new_briefs_between(after: datetime, until: datetime) -> Select[int, datetime]:
    """(id, since when it is new) of the briefs that became new in (after, until]:
    what digests deliver. Archive briefs (new_since NULL) never match."""
    statement = select(Brief.id, Brief.new_since).where(
        and_(Brief.new_since > after, Brief.new_since <= until)
    )
    return statement  # type: ignore[return-value]  # NULLs excluded by the comparison


def became_new_after(new_since: datetime | None, moment: datetime) -> bool:
    """Whether a brief became new after `moment` (a rule's creation): a "newly tracked"
    deadline. An archive brief is never newly tracked."""
    return new_since is not None and new_since > moment
