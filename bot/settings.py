"""One settings object, read from the environment (and an optional .env) once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from policybot.data.db import default_database_url

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
SECRET_FIELDS = ("bot_token", "app_token", "signing_secret", "client_secret")
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
)


class Mode(StrEnum):
    CONSOLE = "console"
    SOCKET = "socket"
    HTTP = "http"  # one workspace, a bot token
    OAUTH = "oauth"  # many workspaces, installed through /slack/install


class SettingsError(ValueError):
    """Missing or contradictory settings; the message names the variables."""


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

        port_text = get("PORT") or "3000"
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORT must be a number, not {port_text!r}") from None
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
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

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
        if not 0 < self.port < 65536:
            found.append(f"PORT must be between 1 and 65535, not {self.port}")
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
        """Every setting, secrets shown only by their first characters."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRET_FIELDS and value:
                value = value[:5] + "\u2026" + f" ({len(value)} characters)"
            elif item.name == "database_url":
                value = make_url(value).render_as_string(hide_password=True)
            elif value is None or value == ():
                value = "(not set)"
            out[item.name] = str(value)
        return out


def _positive_int(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of seconds, not {value!r}")
    return int(value)


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() not in ("0", "false", "no", "off")
