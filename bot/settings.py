"""One settings object, read from the environment (and an optional .env) once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from ..data.db import default_database_url
from ..data.fetch import FetchPolicy
from ..data.ingest.isolation import MB, ReadLimits

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
SECRET_FIELDS = ("bot_token", "app_token", "signing_secret", "client_secret", "metrics_token")
DEFAULT_COMMANDS = ("/policy",)
# Slack's own rule for command names: a slash, then lower-case letters, digits, - or _.
_COMMAND_NAME = re.compile(r"^/[a-z0-9_\-\u00c0-\uffff]{1,31}$")
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "files:write",
    "links:read",  # link_shared events for the unfurl domains
    "links:write",  # chat.unfurl
    "files:read",  # tracker files uploaded to the bot (files.info, url_private)
)


# (field, variable, default, unit) of the limits on reading a PDF.
_PDF_LIMITS = (
    ("pdf_memory_mb", "POLICYBOT_PDF_MEMORY_MB", 1024, "MB"),
    ("pdf_seconds", "POLICYBOT_PDF_SECONDS", 30, "seconds"),
    ("pdf_text_mb", "POLICYBOT_PDF_TEXT_MB", 10, "MB"),
    ("pdf_inflated_mb", "POLICYBOT_PDF_INFLATED_MB", 64, "MB"),
    ("pdf_readers", "POLICYBOT_PDF_READERS", 2, "processes"),
)


class Mode(StrEnum):
    CONSOLE = "console"
    SOCKET = "socket"
    HTTP = "http"  # one workspace, a bot token
    OAUTH = "oauth"  # many workspaces, installed through /slack/install


class SettingsError(ValueError):
    """Missing or contradictory settings; the message names the variables."""


# More commands at once than the embedded SQLite database serves without long waits.
SQLITE_COMMAND_WORKERS = 32


@dataclass(frozen=True)
class Settings:
    database_url: str
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    api_url: str = SLACK_DEFAULT_API_URL
    port: int = 3000
    host: str = "0.0.0.0"
    load_demo: bool = True
    log_level: str = "WARNING"
    log_format: str = "text"  # or "json"
    admins: tuple[str, ...] = ()  # user ids allowed admin commands besides workspace admins
    scheduler_enabled: bool = True
    tick_seconds: int = 60  # how often the scheduler looks for due work
    commands: tuple[str, ...] = DEFAULT_COMMANDS  # the slash commands this app answers
    # The HTTP edge: request threads, open connections, idle seconds before a connection is
    # closed, and the largest request body accepted (Slack's payloads are a few KB).
    http_threads: int = 8
    connection_limit: int = 1000
    idle_timeout: int = 30
    max_body_bytes: int = 1_048_576
    # Commands run on their own pool, apart from the request threads.
    command_workers: int = 16
    # Replies a worker process has promised to a response_url and not yet sent; beyond this
    # a command is shed with "I'm busy right now" at once instead of queueing without bound.
    max_deferred_replies: int = 300
    # HTTP worker processes on the one port (each its own GIL, engine and search index):
    # about one per core. Socket Mode always runs one process.
    web_workers: int = 1
    # After SIGTERM: how long requests in flight and deferred (response_url) replies may take
    # to finish before the rest are abandoned (a worker still running 5 s later is killed).
    drain_seconds: int = 20
    # /metrics: on its own listener when metrics_port is set, and behind a bearer token
    # when metrics_token is set.
    metrics_token: str | None = field(default=None, repr=False)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    # Channels where an uploaded tracker file is previewed for ingestion (besides DMs).
    intake_channels: tuple[str, ...] = ()
    # Each PDF is read in a child process within these (data/ingest/isolation.py): memory,
    # wall-clock seconds, extracted text, what its streams inflate to, children at once.
    pdf_memory_mb: int = 1024
    pdf_seconds: int = 30
    pdf_text_mb: int = 10
    pdf_inflated_mb: int = 64
    pdf_readers: int = 2
    # Where the search index lives (a folder per database in it); None: beside the SQLite
    # file, or under the user's data directory for PostgreSQL (data/search/shared.py).
    index_dir: str | None = None
    # Watched sources may be fetched from loopback and private networks (an intranet; the
    # tests' local server). Link-local addresses stay refused (data/fetch.py).
    fetch_allow_private: bool = False
    # The address `policybot serve` is reached at from outside (https://bot.example.org):
    # calendar subscription URLs are made from it. None: no calendar subscriptions.
    public_url: str | None = None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = None,
        **overrides: object,
    ) -> Settings:
        """Variables from `environ` (default: the process), then a .env file for the rest."""
        env: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port = _port(get("PORT") or "3000", "PORT")
        api_url = get("SLACK_API_URL") or SLACK_DEFAULT_API_URL
        log_format = (get("POLICYBOT_LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            raise SettingsError("POLICYBOT_LOG_FORMAT must be text or json")
        values: dict[str, object] = {
            "database_url": get("POLICYBOT_DATABASE_URL") or default_database_url(),
            "bot_token": get("SLACK_BOT_TOKEN"),
            "app_token": get("SLACK_APP_TOKEN"),
            "signing_secret": get("SLACK_SIGNING_SECRET"),
            "client_id": get("SLACK_CLIENT_ID"),
            "client_secret": get("SLACK_CLIENT_SECRET"),
            "api_url": api_url if api_url.endswith("/") else api_url + "/",
            "port": port,
            "host": get("POLICYBOT_HOST") or "0.0.0.0",
            "load_demo": _flag(get("POLICYBOT_LOAD_DEMO"), True),
            "log_level": (get("POLICYBOT_LOG_LEVEL") or "WARNING").upper(),
            "log_format": log_format,
            "admins": tuple(
                a for a in (get("POLICYBOT_ADMINS") or "").replace(" ", ",").split(",") if a
            ),
            "scheduler_enabled": _flag(get("POLICYBOT_SCHEDULER"), True),
            "tick_seconds": _positive_int(
                get("POLICYBOT_TICK_SECONDS"), 60, "POLICYBOT_TICK_SECONDS"
            ),
            "commands": _command_names(get("POLICYBOT_COMMANDS")),
            "http_threads": _positive_int(
                get("POLICYBOT_HTTP_THREADS"), 8, "POLICYBOT_HTTP_THREADS", "threads"
            ),
            "connection_limit": _positive_int(
                get("POLICYBOT_CONNECTION_LIMIT"), 1000, "POLICYBOT_CONNECTION_LIMIT", "connections"
            ),
            "idle_timeout": _positive_int(
                get("POLICYBOT_IDLE_TIMEOUT"), 30, "POLICYBOT_IDLE_TIMEOUT"
            ),
            "max_body_bytes": _positive_int(
                get("POLICYBOT_MAX_BODY_BYTES"), 1_048_576, "POLICYBOT_MAX_BODY_BYTES", "bytes"
            ),
            "command_workers": _positive_int(
                get("POLICYBOT_COMMAND_WORKERS"), 16, "POLICYBOT_COMMAND_WORKERS", "threads"
            ),
            "max_deferred_replies": _positive_int(
                get("POLICYBOT_MAX_DEFERRED_REPLIES"),
                300,
                "POLICYBOT_MAX_DEFERRED_REPLIES",
                "replies",
            ),
            "web_workers": _positive_int(
                get("POLICYBOT_WEB_WORKERS"), 1, "POLICYBOT_WEB_WORKERS", "processes"
            ),
            "drain_seconds": _positive_int(
                get("POLICYBOT_DRAIN_SECONDS"), 20, "POLICYBOT_DRAIN_SECONDS"
            ),
            "metrics_token": get("POLICYBOT_METRICS_TOKEN"),
            "metrics_host": get("POLICYBOT_METRICS_HOST") or "127.0.0.1",
            "metrics_port": _port(get("POLICYBOT_METRICS_PORT"), "POLICYBOT_METRICS_PORT"),
            "intake_channels": _channel_ids(get("POLICYBOT_INTAKE_CHANNELS")),
            **{
                name: _positive_int(get(variable), default, variable, unit)
                for name, variable, default, unit in _PDF_LIMITS
            },
            "index_dir": get("POLICYBOT_INDEX_DIR"),
            "fetch_allow_private": _flag(get("POLICYBOT_FETCH_ALLOW_PRIVATE"), False),
            "public_url": _public_url(get("POLICYBOT_PUBLIC_URL")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(allow_private=self.fetch_allow_private)

    def pdf_limits(self) -> ReadLimits:
        return ReadLimits(
            memory_bytes=self.pdf_memory_mb * MB,
            seconds=self.pdf_seconds,
            text_bytes=self.pdf_text_mb * MB,
            inflated_bytes=self.pdf_inflated_mb * MB,
            parallel=self.pdf_readers,
        )

    @property
    def mode(self) -> Mode:
        if self.app_token:
            return Mode.SOCKET
        if self.client_id or self.client_secret:
            return Mode.OAUTH
        if self.bot_token or self.signing_secret:
            return Mode.HTTP
        return Mode.CONSOLE

    def problems(self, mode: Mode) -> list[str]:
        """What is missing or wrong for running in `mode` (empty: ready)."""
        found = []
        if self.app_token and not self.app_token.startswith("xapp-"):
            found.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if self.bot_token and not self.bot_token.startswith("xoxb-"):
            found.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        required: dict[Mode, tuple[tuple[str, str | None], ...]] = {
            Mode.SOCKET: (("SLACK_APP_TOKEN", self.app_token), ("SLACK_BOT_TOKEN", self.bot_token)),
            Mode.HTTP: (
                ("SLACK_BOT_TOKEN", self.bot_token),
                ("SLACK_SIGNING_SECRET", self.signing_secret),
            ),
            Mode.OAUTH: (
                ("SLACK_CLIENT_ID", self.client_id),
                ("SLACK_CLIENT_SECRET", self.client_secret),
                ("SLACK_SIGNING_SECRET", self.signing_secret),
            ),
            Mode.CONSOLE: (),
        }
        missing = [name for name, value in required[mode] if not value]
        if missing:
            label = {Mode.SOCKET: "Socket Mode", Mode.HTTP: "HTTP mode", Mode.OAUTH: "OAuth mode"}[
                mode
            ]
            found.append(f"{label} needs " + " and ".join(missing))
        if mode is Mode.OAUTH and self.bot_token:
            found.append(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET contradict: "
                "set a bot token for one workspace, or OAuth settings for many"
            )
        for name, port in (("PORT", self.port), ("POLICYBOT_METRICS_PORT", self.metrics_port)):
            if port is not None and not 0 < port < 65536:
                found.append(f"{name} must be between 1 and 65535, not {port}")
        if self.metrics_port is not None and self.metrics_port == self.port:
            found.append("POLICYBOT_METRICS_PORT must differ from PORT")
        if self.metrics_port is not None and self.web_workers > 1:
            # Each HTTP worker process has a metrics listener of its own: metrics_port + index.
            last = self.metrics_port + self.web_workers - 1
            if self.metrics_port < self.port <= last:
                found.append(
                    f"POLICYBOT_METRICS_PORT to {last} (one port per worker) must not include PORT"
                )
            if last > 65535:
                found.append(
                    f"POLICYBOT_METRICS_PORT + POLICYBOT_WEB_WORKERS - 1 must be at most 65535, "
                    f"not {last}"
                )
        return found

    def warnings(self) -> list[str]:
        """Settings that work but deserve a second look."""
        found = []
        if self.metrics_port is None and not self.metrics_token:
            found.append(
                "/metrics is open to anyone who reaches PORT: set POLICYBOT_METRICS_TOKEN, "
                "or POLICYBOT_METRICS_PORT to serve it on its own interface"
            )
        found += self._sqlite_warnings()
        if self.metrics_port is None and self.web_workers > 1:
            found.append(
                "with POLICYBOT_WEB_WORKERS > 1, /metrics on PORT shows one worker's figures "
                "(whichever takes the connection): set POLICYBOT_METRICS_PORT to scrape each "
                "worker on its own port (POLICYBOT_METRICS_PORT + its index)"
            )
        return found

    def _sqlite_warnings(self) -> list[str]:
        """The embedded database writes one transaction at a time, in one process's queue
        (benchmarks/writers.py: no failures up to 64 commands at once in one process, but
        the slowest waits seconds from 16 on); past that, PostgreSQL."""
        if not self.database_url.startswith("sqlite"):
            return []
        move = "set POLICYBOT_DATABASE_URL to a PostgreSQL database"
        found = []
        if self.web_workers > 1:
            found.append(
                f"POLICYBOT_WEB_WORKERS={self.web_workers} with the embedded SQLite database: "
                "the workers' writes contend for one file with no queue between them (and "
                f"each builds its own search index): {move}, or run one worker"
            )
        if self.mode is Mode.OAUTH:
            found.append(
                "OAuth mode (many workspaces) with the embedded SQLite database, which writes "
                f"one command at a time: {move}"
            )
        if self.command_workers > SQLITE_COMMAND_WORKERS:
            found.append(
                f"POLICYBOT_COMMAND_WORKERS={self.command_workers} with the embedded SQLite "
                f"database: past {SQLITE_COMMAND_WORKERS} commands at once, writes queue for "
                f"seconds: {move}"
            )
        return found

    def check_serve(self) -> Mode:
        """The mode `serve` will run in, or SettingsError naming what is missing."""
        mode = self.mode
        if mode is Mode.CONSOLE:
            raise SettingsError(
                "`serve` needs Slack settings: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP "
                "mode), SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or SLACK_CLIENT_ID, "
                "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET (OAuth). Without them, run "
                "`policybot` for the console."
            )
        problems = self.problems(mode)
        if problems:
            raise SettingsError("; ".join(problems))
        return mode

    def secrets(self) -> list[str]:
        values = [getattr(self, name) for name in SECRET_FIELDS]
        password = make_url(self.database_url).password if "://" in self.database_url else None
        return [s for s in [*values, password] if s]

    def masked(self) -> dict[str, str]:
        """Every setting; of a secret only whether it is set (no prefix, no length)."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRET_FIELDS and value:
                value = "(set, hidden)"
            elif item.name == "database_url":
                value = make_url(value).render_as_string(hide_password=True)
            elif value is None or value == ():
                value = "(not set)"
            out[item.name] = str(value)
        return out


def _positive_int(value: str | None, default: int, name: str, unit: str = "seconds") -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of {unit}, not {value!r}")
    return int(value)


def _port(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None


def _command_names(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_COMMANDS
    names = tuple(dict.fromkeys(n for n in value.replace(" ", ",").split(",") if n))
    bad = [n for n in names if not _COMMAND_NAME.match(n)]
    if bad or not names:
        raise SettingsError(
            "POLICYBOT_COMMANDS must be slash command names like /policy (comma-separated), "
            f"not {value!r}"
        )
    return names


def _channel_ids(value: str | None) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(c for c in (value or "").replace(" ", ",").split(",") if c))
    bad = [c for c in ids if not re.fullmatch(r"[CGD][A-Z0-9]{2,}", c)]
    if bad:
        raise SettingsError(
            "POLICYBOT_INTAKE_CHANNELS must be channel ids like C0123ABCD (comma-separated), "
            f"not {', '.join(bad)}"
        )
    return ids


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() not in ("0", "false", "no", "off")


def _public_url(value: str | None) -> str | None:
    """An http(s) address without a trailing slash (None when unset)."""
    if value is None:
        return None
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
        raise SettingsError(
            "POLICYBOT_PUBLIC_URL must be the http(s) address the server is reached at, "
            "such as https://policybot.example.org"
        )
    return value.rstrip("/")
