"""One settings object, read from the environment once at start and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum

from data.db import default_database_url

SLACK_DEFAULT_API_URL = "https://slack.com/api/"


class Mode(StrEnum):
    CONSOLE = "console"
    SOCKET = "socket"
    HTTP = "http"


class SettingsError(ValueError):
    """Missing or contradictory settings; the message names the variables."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_url: str = SLACK_DEFAULT_API_URL
    port: int = 3000
    host: str = "0.0.0.0"
    load_demo: bool = True
    log_level: str = "WARNING"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port_text = get("PORT") or "3000"
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORT must be a number, not {port_text!r}") from None
        api_url = get("SLACK_API_URL") or SLACK_DEFAULT_API_URL
        values: dict[str, object] = {
            "database_url": get("POLICYBOT_DATABASE_URL") or default_database_url(),
            "bot_token": get("SLACK_BOT_TOKEN"),
            "app_token": get("SLACK_APP_TOKEN"),
            "signing_secret": get("SLACK_SIGNING_SECRET"),
            "api_url": api_url if api_url.endswith("/") else api_url + "/",
            "port": port,
            "load_demo": (get("POLICYBOT_LOAD_DEMO") or "1").lower() not in ("0", "false", "no"),
            "log_level": (get("POLICYBOT_LOG_LEVEL") or "WARNING").upper(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def mode(self) -> Mode:
        if self.app_token:
            return Mode.SOCKET
        if self.bot_token or self.signing_secret:
            return Mode.HTTP
        return Mode.CONSOLE

    def check_serve(self) -> Mode:
        """The mode `serve` will run in, or SettingsError naming what is missing."""
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if self.bot_token and not self.bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        mode = self.mode
        if mode is Mode.SOCKET and not self.bot_token:
            raise SettingsError("Socket Mode needs SLACK_BOT_TOKEN as well as SLACK_APP_TOKEN")
        if mode is Mode.HTTP:
            missing = [
                name
                for name, value in (
                    ("SLACK_BOT_TOKEN", self.bot_token),
                    ("SLACK_SIGNING_SECRET", self.signing_secret),
                )
                if not value
            ]
            if missing:
                raise SettingsError(
                    "HTTP mode needs " + " and ".join(missing)
                    + " (or set SLACK_APP_TOKEN and SLACK_BOT_TOKEN for Socket Mode)"
                )
        if mode is Mode.CONSOLE:
            raise SettingsError(
                "`serve` needs Slack settings: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP "
                "mode) or SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode). Without them, run "
                "`policybot` for the console."
            )
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, not {self.port}")
        return mode

    def secrets(self) -> list[str]:
        return [s for s in (self.bot_token, self.app_token, self.signing_secret) if s]

    def masked(self) -> dict[str, str]:
        """Every setting, secrets shown only by their first characters."""
        out = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("bot_token", "app_token", "signing_secret") and value:
                value = value[:5] + "\u2026" + f"({len(value)} chars)"
            out[item.name] = str(value)
        return out
