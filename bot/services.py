"""Wiring: the engine, sessions, command runner and clock that every runner shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine, func, select

from policybot.bot.metrics import MeteredPoster, Metrics
from policybot.bot.oauth import TeamClients
from policybot.bot.posters import PrintPoster, SlackPoster
from policybot.bot.settings import Mode, Settings
from policybot.bot.slack_client import POSTING_RETRY_HANDLERS
from policybot.data.db import (
    SessionFactory,
    make_engine,
    pending_migrations,
    session_factory,
    upgrade,
)
from policybot.data.ingest.writer import IngestSummary, ingest_bytes
from policybot.data.models import SourceDocument
from policybot.data.search.shared import configure as configure_search_index
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import CONSOLE_TEAM, Clock, system_clock
from policybot.scheduler.messages import Poster
from policybot.scheduler.runner import SchedulerStatus
from policybot.scheduler.ticker import Ticker

log = logging.getLogger(__name__)
DEMO_CORPUS = "china-industrial-policy-tracker-2024-11.txt"


class DatabaseNotReady(RuntimeError):
    pass


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

    def close(self) -> None:
        self.engine.dispose()


def is_embedded(url: str) -> bool:
    return url.startswith("sqlite")


def load_demo_corpus(sessions: SessionFactory, now: datetime) -> IngestSummary:
    raw = resources.files("policybot.data").joinpath("corpus", DEMO_CORPUS).read_bytes()
    with sessions() as session, session.begin():
        return ingest_bytes(session, raw, DEMO_CORPUS, now)


def prepare_database(
    engine: Engine, sessions: SessionFactory, settings: Settings, clock: Clock
) -> None:
    """The embedded database upgrades itself and starts with the demo corpus; a server
    database (PostgreSQL) is migrated on purpose with `policybot db upgrade`."""
    if is_embedded(settings.database_url):
        upgrade(engine)
        if settings.load_demo:
            with sessions() as session:
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
    configure_search_index(settings.index_dir)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if prepare:
        prepare_database(engine, sessions, settings, clock)
    return Services(
        settings, engine, sessions, CommandRunner(sessions), clock, Metrics(sessions, clock)
    )
