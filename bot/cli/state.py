"""What every command shares: the settings and clock of the run (AppState), `--now`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

# What a command needs is imported when it runs (see bot/cli/__init__.py).
if TYPE_CHECKING:
    from ...handlers.context import Clock
    from ..services import Services


def parse_now(value: str | None) -> Clock:
    from ...handlers.context import system_clock

    if value is None:
        return system_clock
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date-time like 2026-11-29T09:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return lambda: moment


class AppState:
    def __init__(self, db: str | None, now: str | None) -> None:
        from ..logs import configure_logging
        from ..settings import Settings, SettingsError

        self.db = db
        self.clock = parse_now(now)
        try:
            self.settings = Settings.from_env(env_file=Path(".env"), database_url=db)
        except SettingsError as error:
            raise click.ClickException(str(error)) from error
        configure_logging(
            self.settings.log_level, self.settings.secrets(), self.settings.log_format
        )

    def services(self, clock: Clock | None = None) -> Services:
        from ..services import DatabaseNotReady, build_services

        try:
            return build_services(self.settings, clock or self.clock)
        except DatabaseNotReady as error:
            raise click.ClickException(str(error)) from error


pass_state = click.make_pass_decorator(AppState)
NOW_HELP = "Pretend it is this moment (ISO 8601), for checking countdowns and schedules."
