"""Wiring: the engine, sessions, command runner and clock that every runner shares."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..data.db import (
    SessionFactory,
    make_engine,
    pending_migrations,
    read_only,
    session_factory,
    unit_of_work,
    upgrade,
)
from ..data.fetch import configure as configure_fetching
from ..data.ingest.isolation import configure as configure_pdf_reading
from ..data.ingest.writer import IngestSummary, ingest_bytes
from ..data.models import SourceDocument
from ..data.search.shared import configure as configure_search_index
from ..handlers.commands import CommandRunner
from ..handlers.context import CONSOLE_TEAM, Clock, system_clock
from ..scheduler.messages import Poster
from ..scheduler.runner import SchedulerStatus
from ..scheduler.ticker import Ticker
from .metrics import MeteredPoster, Metrics
from .oauth import TeamClients
from .posters import PrintPoster, SlackPoster
from .settings import Mode, Settings
from .slack_client import POSTING_RETRY_HANDLERS

log = logging.getLogger(__name__)
DEMO_CORPUS = "china-industrial-policy-tracker-2024-11.txt"
# PostgreSQL: how long opening a connection may take (a partition would otherwise hold a
# request thread for the kernel's TCP time-out, minutes), and how long /readyz's own query
# may run.
CONNECT_TIMEOUT_SECONDS = 5
PROBE_TIMEOUT_SECONDS = 3
DATABASE_DOWN = "The database is not answering; try again in a minute."


class DatabaseNotReady(RuntimeError):
    pass


class OutageLog:
    """A database that does not answer: one WARNING line per `period` seconds, with how
    many requests met it since the last line, instead of a traceback per request."""

    def __init__(self, period: float = 60.0) -> None:
        self.period = period
        self._lock = threading.Lock()
        self._last_logged: float | None = None
        self._unlogged = 0

    def record(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if self._last_logged is not None and now - self._last_logged < self.period:
                self._unlogged += 1
                return
            since, self._unlogged, self._last_logged = self._unlogged, 0, now
        cause = getattr(error, "orig", None) or error
        lines = str(cause).strip().splitlines()
        log.warning(
            "the database is not answering (%s: %s)%s",
            type(cause).__name__,
            lines[0][:300] if lines else "no reason given",
            f"; {since} more requests met it since the last line" if since else "",
        )


@dataclass
class ReadinessProbe:
    """/readyz's own engine: no pool, and on PostgreSQL connect and statement timeouts; one
    probe at a time (`lock`), the others answer with the `last` result meanwhile."""

    engine: Engine
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: tuple[bool, dict[str, str]] = (False, {"database": "not checked yet"})
    started: float = 0.0  # time.monotonic() of the latest probe's start


def probe_engine(url: str) -> Engine:
    """The /readyz probe's engine: it only reads, so on SQLite it never queues behind
    writers (read_only); on PostgreSQL it gives up at its connect and statement timeouts."""
    if is_embedded(url):
        return read_only(
            make_engine(url, poolclass=NullPool, connect_args={"timeout": PROBE_TIMEOUT_SECONDS})
        )
    return make_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
        },
    )


def server_engine(url: str) -> Engine:
    """The engine requests and the scheduler use; on PostgreSQL with a connect timeout."""
    if is_embedded(url) or make_url(url).get_backend_name() != "postgresql":
        return make_engine(url)
    return make_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    runner: CommandRunner
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    scheduler: SchedulerStatus = field(default_factory=SchedulerStatus)
    # Commands queued or running on the Slack app's pool (set by build_app): a shutdown
    # waits for these deferred replies.
    pending_replies: Callable[[], int] | None = None
    # /readyz's engine (set by build_services; the main engine otherwise).
    probe: ReadinessProbe = field(default=None)  # type: ignore[assignment]
    outage: OutageLog = field(default_factory=OutageLog)

    def __post_init__(self) -> None:
        if self.probe is None:
            self.probe = ReadinessProbe(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        self.probe.engine.dispose()


def is_embedded(url: str) -> bool:
    return url.startswith("sqlite")


def load_demo_corpus(sessions: SessionFactory, now: datetime) -> IngestSummary:
    raw = resources.files("policybot.data").joinpath("corpus", DEMO_CORPUS).read_bytes()
    with unit_of_work(sessions) as session:
        return ingest_bytes(session, raw, DEMO_CORPUS, now)


def prepare_database(
    engine: Engine, sessions: SessionFactory, settings: Settings, clock: Clock
) -> None:
    """The embedded database upgrades itself and starts with the demo corpus; a server
    database (PostgreSQL) is migrated on purpose with `policybot db upgrade`."""
    if is_embedded(settings.database_url):
        upgrade(engine)
        if settings.load_demo:
            with unit_of_work(sessions, read_only=True) as session:
                empty = not session.scalar(select(func.count()).select_from(SourceDocument))
            if empty:
                summary = load_demo_corpus(sessions, clock())
                log.info("loaded the demo corpus: %s briefs", summary.added)
    elif pending_migrations(engine):
        raise DatabaseNotReady(
            "the database schema is not current: run `policybot db upgrade` first"
        )


def build_poster(services: Services) -> Poster:
    """Slack with the bot token or each team's installation; else the console prints."""
    settings = services.settings
    if settings.bot_token:
        clients = TeamClients(settings, None, retry_handlers=POSTING_RETRY_HANDLERS)
        return MeteredPoster(SlackPoster(clients), services.metrics)
    if settings.mode is Mode.OAUTH and settings.client_id:
        store = SQLAlchemyInstallationStore(client_id=settings.client_id, engine=services.engine)
        clients = TeamClients(settings, store, retry_handlers=POSTING_RETRY_HANDLERS)
        return MeteredPoster(SlackPoster(clients), services.metrics)
    return PrintPoster()


def build_ticker(services: Services, poster: Poster | None = None) -> Ticker:
    poster = poster or build_poster(services)
    # Printing reaches the console only: Slack workspaces' rows wait for a Slack poster.
    only = CONSOLE_TEAM if isinstance(poster, PrintPoster) else None
    return Ticker(services.sessions, poster, only_team=only)


def build_services(
    settings: Settings, clock: Clock = system_clock, prepare: bool = True
) -> Services:
    configure_pdf_reading(settings.pdf_limits())
    configure_fetching(settings.fetch_policy())
    configure_search_index(settings.index_dir)
    engine = server_engine(settings.database_url)
    sessions = session_factory(engine)
    if prepare:
        prepare_database(engine, sessions, settings, clock)
    return Services(
        settings,
        engine,
        sessions,
        CommandRunner(sessions),
        clock,
        Metrics(sessions, clock),
        probe=ReadinessProbe(probe_engine(settings.database_url)),
    )
