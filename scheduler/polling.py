"""Polling watched sources: the scheduler's second job beside the delivery tick.

Each pass leases the sources that are due (data/watch/store.py) and polls them on a small
thread pool, so a slow or failing source never holds up another one, and never the
delivery tick, which runs as a job of its own. A poll of one source: a conditional GET
(ETag / Last-Modified kept from the last answer), the items it lists kept once each
(unique by URL and GUID), then each pending item fetched, read as an upload is read
(data/watch/documents.py) and written as a brief; digests deliver it by the same rule as
every brief (new by its date, data/novelty.py). An error is kept on the source for
`/policy sources`, and the source waits longer after each failure in a row (back-off).

Fetching goes through data/fetch.py: checked addresses, a timeout, a size limit and one
request at a time per host, a few seconds apart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from ..data.db import SessionFactory, unit_of_work
from ..data.errors import UserError
from ..data.fetch import Fetched, Fetcher, FetchFailed
from ..data.ingest.records import IssueRecord
from ..data.ingest.text import ParseError
from ..data.ingest.writer import IssueWriter
from ..data.models import WatchedSource
from ..data.watch import store
from ..data.watch.discover import DiscoveryError, FoundItem, feed_items, page_items
from ..data.watch.documents import DocumentHints, read_document

log = logging.getLogger(__name__)

SOURCES_PER_PASS = 50
ITEMS_PER_POLL = 100  # documents read per source per poll; the rest wait for the next
PARALLEL_SOURCES = 4
# What a source is, by what its address answered: a feed, a page listing documents, or
# one document (a PDF, a text file).
TAKEN_ELSEWHERE = -1  # _write's answer when another poller took the item first
SOURCE_KINDS = {"feed": "feed", "html": "page", "pdf": "pdf", "text": "document"}


@dataclass
class SourcePoll:
    """What one source's poll did."""

    source_id: int
    ok: bool = True
    not_modified: bool = False
    error: str | None = None
    found: int = 0  # items not seen before
    taken: int = 0  # items read and written
    failed: int = 0  # items that could not be read this time
    added: int = 0  # briefs added


@dataclass
class PollReport:
    polls: list[SourcePoll] = field(default_factory=list)
    started: int = 0  # sources a pass set out to poll (its workers count them)

    @property
    def taken(self) -> int:
        return sum(p.taken for p in self.polls)

    @property
    def found(self) -> int:
        return sum(p.found for p in self.polls)


class Poller:
    def __init__(
        self,
        sessions: SessionFactory,
        fetcher: Fetcher | None = None,
        *,
        parallel: int = PARALLEL_SOURCES,
        items_per_poll: int = ITEMS_PER_POLL,
    ) -> None:
        self.sessions = sessions
        self.fetcher = fetcher or Fetcher()
        self.parallel = parallel
        self.items_per_poll = items_per_poll
        self._lock = threading.Lock()  # one pass at a time in this process
        self._lock_report = threading.Lock()  # a pass's workers add to one report

    def poll(self, now: datetime) -> PollReport:
        """Poll every source due at `now`."""
        report = PollReport()
        if not self._lock.acquire(blocking=False):
            return report  # the previous pass is still reading
        try:
            with unit_of_work(self.sessions, read_only=True) as session:
                if not store.any_due(session, now):
                    return report  # the idle case: one small query, nothing written
            # Each of `parallel` workers leases one due source at a time and takes the next
            # when it is done: a slow source holds its own worker only, never a batch (the
            # others go on leasing and polling), and replicas share the due sources.
            workers = max(1, self.parallel)
            if workers == 1:
                self._work(now, report)
            else:
                with ThreadPoolExecutor(workers) as pool:
                    for future in [pool.submit(self._work, now, report) for _ in range(workers)]:
                        future.result()
            return report
        finally:
            self._lock.release()

    def _work(self, now: datetime, report: PollReport) -> None:
        """One worker of a pass: lease a due source, poll it, repeat until none is due or
        the pass has polled SOURCES_PER_PASS."""
        while True:
            with self._lock_report:
                if report.started >= SOURCES_PER_PASS:
                    return
                report.started += 1
            with unit_of_work(self.sessions) as session:
                due = store.lease_due(session, now, 1)
            if not due:
                return
            polled = self.poll_source(due[0], now)
            with self._lock_report:
                report.polls.append(polled)

    def poll_source(self, source_id: int, now: datetime) -> SourcePoll:
        """One leased source: never raises; what went wrong is kept on the source."""
        result = SourcePoll(source_id)
        try:
            self._poll(source_id, now, result)
        except (FetchFailed, DiscoveryError) as error:
            result.ok, result.error = False, _reason(error)
        except UserError as error:  # FetchRefused: a redirect to a refused address
            result.ok, result.error = False, str(error)
        except Exception as error:
            log.exception("polling source w%s failed unexpectedly", source_id)
            result.ok, result.error = False, f"unexpected error ({type(error).__name__})"
        if not result.ok:
            with unit_of_work(self.sessions) as session:
                wait = store.record_failure(session, source_id, now, result.error or "failed")
            log.warning("source w%s failed (%s); next try in %s", source_id, result.error, wait)
        return result

    def _poll(self, source_id: int, now: datetime, result: SourcePoll) -> None:
        with unit_of_work(self.sessions, read_only=True) as session:
            source = session.get(WatchedSource, source_id)
            if source is None:
                result.ok = True
                return
            url, etag, modified = source.url, source.etag, source.last_modified
            kind = source.kind
        fetched = self.fetcher.get(url, etag=etag, last_modified=modified)
        bodies: dict[str, Fetched] = {}
        if fetched.not_modified:
            result.not_modified = True
        else:
            kind = fetched.kind
            items = self._discover(fetched, url, bodies)
            with unit_of_work(self.sessions) as session:
                result.found = store.add_items(session, source_id, items, now)
        self._take_items(source_id, now, bodies, result)
        with unit_of_work(self.sessions) as session:
            store.record_success(
                session,
                source_id,
                now,
                SOURCE_KINDS.get(kind, kind),
                fetched.etag,
                fetched.last_modified,
            )

    @staticmethod
    def _discover(fetched: Fetched, url: str, bodies: dict[str, Fetched]) -> list[FoundItem]:
        if fetched.kind == "feed":
            return feed_items(fetched.body, fetched.url, fetched.content_type)
        if fetched.kind == "html":
            return page_items(fetched.body, fetched.charset, fetched.url)
        # A direct link to a document: the source is its one item, read from this answer.
        bodies[url] = fetched
        return [FoundItem(url=url, title="")]

    def _take_items(
        self, source_id: int, now: datetime, bodies: dict[str, Fetched], result: SourcePoll
    ) -> None:
        with unit_of_work(self.sessions) as session:
            leased = [
                (item.id, item.url, DocumentHints(item.title, item.published_on))
                for item in store.lease_items(session, source_id, now, self.items_per_poll)
            ]
        for item_id, url, hints in leased:
            try:
                document = bodies.get(url) or self.fetcher.get(url)
                issue = read_document(document, hints)
            except (FetchFailed, ParseError, UserError) as error:
                result.failed += 1
                with unit_of_work(self.sessions) as session:
                    store.item_failed(session, item_id, now, _reason(error))
                continue
            except Exception as error:
                # A document the readers choke on counts against that item alone (given up
                # after a few tries), never against its source: otherwise it would fail
                # every poll of the source, and the items after it would never be read.
                log.exception("reading %s failed unexpectedly", url[:200])
                result.failed += 1
                with unit_of_work(self.sessions) as session:
                    store.item_failed(
                        session, item_id, now, f"unexpected error ({type(error).__name__})"
                    )
                continue
            written = self._write(item_id, issue, document, now)
            if written is None:
                result.failed += 1
            elif written >= 0:
                result.taken += 1
                result.added += written

    def _write(
        self, item_id: int, issue: IssueRecord, document: Fetched, now: datetime
    ) -> int | None:
        """Write the item's briefs and mark it taken, in one transaction: the briefs added;
        TAKEN_ELSEWHERE when another poller took the item first; None when it could not
        be written (it waits for the next poll)."""
        digest = hashlib.sha256(document.body).hexdigest()
        for attempt in (1, 2):
            try:
                with unit_of_work(self.sessions) as session:
                    if not store.item_taken(session, item_id, now, ""):
                        return TAKEN_ELSEWHERE
                    summary = IssueWriter(session, now).write(issue, digest)
                    store.record_outcome(session, item_id, _outcome(summary.added, summary.updated))
                    return summary.added
            except IntegrityError:
                # Another writer stored the same rows (a body, a brief) at this moment: the
                # retry sees them; a second clash waits for the next poll.
                if attempt == 2:
                    with unit_of_work(self.sessions) as session:
                        store.item_failed(
                            session, item_id, now, "another ingest wrote it meanwhile"
                        )
            except UserError as error:  # the writer's refusal (a limit): this item's alone
                with unit_of_work(self.sessions) as session:
                    store.item_failed(session, item_id, now, str(error))
                return None
            except Exception as error:
                log.exception("writing item %s failed unexpectedly", item_id)
                with unit_of_work(self.sessions) as session:
                    store.item_failed(
                        session, item_id, now, f"unexpected error ({type(error).__name__})"
                    )
                return None
        return None


def _outcome(added: int, updated: int) -> str:
    return f"added {added}, updated {updated}"


def _reason(error: BaseException) -> str:
    if isinstance(error, FetchFailed):
        return error.reason
    if isinstance(error, ParseError):
        return error.message
    return str(error)
