"""Many workspaces: Bolt's OAuth flow with slack_sdk's SQLAlchemy stores in our database,
and the bot token of each installed team for scheduled posts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import uuid4

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import CursorResult, Engine

from ..data.db import SessionFactory, session_factory, unit_of_work
from ..data.pauses import resume_team
from ..handlers.context import Clock, system_clock
from ..scheduler.messages import DeliveryError, FailureKind
from .settings import BOT_SCOPES, Settings
from .slack_client import RETRY_HANDLERS, make_web_client

log = logging.getLogger(__name__)


class PolicyInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store; a (re-)install also resumes what an uninstall paused."""

    def __init__(self, client_id: str, engine: Engine, sessions: SessionFactory) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.sessions = sessions

    def save(self, installation: Installation) -> None:
        super().save(installation)
        if installation.team_id:
            with unit_of_work(self.sessions) as session:
                resumed = resume_team(session, installation.team_id)
            if resumed:
                log.info("reinstalled: resumed %s", ", ".join(resumed))


class PurgingOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store on an injected clock, deleting expired states whenever it
    issues one: every unauthenticated GET /slack/install adds a row, so rows that nobody
    completed must not pile up."""

    def __init__(self, engine: Engine, clock: Clock, expiration_seconds: int = 600) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine)
        self.clock = clock
        self.sessions = session_factory(engine)

    def _now(self) -> datetime:
        now = normalize_datetime_for_db(self.clock().astimezone(UTC))
        assert now is not None
        return now

    def issue(self, *args: object, **kwargs: object) -> str:
        state = str(uuid4())
        now = self._now()
        table = self.oauth_states
        with unit_of_work(self.sessions) as session:
            session.execute(table.delete().where(table.c.expire_at <= now))
            session.execute(
                table.insert(),
                {"state": state, "expire_at": now + timedelta(seconds=self.expiration_seconds)},
            )
        return state

    def consume(self, state: str) -> bool:
        table = self.oauth_states
        with unit_of_work(self.sessions) as session:
            # One statement: a state is good once, and only before it expires.
            deleted = session.execute(
                table.delete().where(table.c.state == state, table.c.expire_at > self._now())
            )
        return cast("CursorResult[Any]", deleted).rowcount > 0


def build_oauth_settings(
    settings: Settings, engine: Engine, sessions: SessionFactory, clock: Clock = system_clock
) -> OAuthSettings:
    assert settings.client_id and settings.client_secret
    return OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=PolicyInstallationStore(settings.client_id, engine, sessions),
        state_store=PurgingOAuthStateStore(engine, clock),
    )


class TeamClients:
    """The Web API client for a team: the one bot token, or the team's installation."""

    def __init__(
        self,
        settings: Settings,
        store: SQLAlchemyInstallationStore | None,
        ttl: float = 300,
        retry_handlers: Sequence[RetryHandler] = RETRY_HANDLERS,
    ) -> None:
        self.settings = settings
        self.store = store
        self.ttl = ttl
        self.retry_handlers = retry_handlers
        self._cache: dict[str, tuple[float, WebClient]] = {}
        self._lock = threading.Lock()
        self._single = (
            make_web_client(settings, settings.bot_token, retry_handlers=retry_handlers)
            if settings.bot_token
            else None
        )

    def __call__(self, team_id: str) -> WebClient:
        if self._single is not None:
            return self._single
        with self._lock:
            cached = self._cache.get(team_id)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
        bot = self.store.find_bot(enterprise_id=None, team_id=team_id) if self.store else None
        if bot is None or not bot.bot_token:
            raise DeliveryError(
                FailureKind.AUTH, "not_installed", "the app is not installed in the workspace"
            )
        client = make_web_client(self.settings, bot.bot_token, retry_handlers=self.retry_handlers)
        with self._lock:
            self._cache[team_id] = (time.monotonic(), client)
        return client

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._cache.pop(team_id, None)
