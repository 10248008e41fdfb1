"""`policybot serve`: Slack over Socket Mode or HTTP (bot/server/)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .state import AppState, pass_state

# What a command needs is imported when it runs (see bot/cli/__init__.py).
if TYPE_CHECKING:
    from ...handlers.context import Clock
    from ..services import Services
    from ..settings import Settings


@click.command()
@click.option("--port", type=int, help="HTTP port (default: PORT or 3000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="HTTP worker processes on the port, about one per core (default: "
    "POLICYBOT_WEB_WORKERS or 1).",
)
@pass_state
def serve(state: AppState, port: int | None, workers: int | None) -> None:
    """Serve Slack: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on --port."""
    from ..logs import configure_logging
    from ..server import serve as run_server
    from ..server.startup import ServeError
    from ..settings import Settings, SettingsError

    settings = state.settings
    if port is not None or workers is not None:
        settings = Settings.from_env(
            env_file=Path(".env"), database_url=state.db, port=port, web_workers=workers
        )
    if not os.environ.get("POLICYBOT_LOG_LEVEL"):
        # A server should say what it does.
        configure_logging("INFO", settings.secrets(), settings.log_format)
    try:
        mode = settings.check_serve()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error
    services = services_for_serve(settings, state.clock)
    try:
        run_server(settings, services, mode)
    except ServeError as error:
        # Slack's API unanswered or refusing the token, the port taken: one clear line.
        raise click.ClickException(str(error)) from None
    finally:
        services.close()


def services_for_serve(settings: Settings, clock: Clock) -> Services:
    """Services, or one clear line (no traceback) when the database cannot be used."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from ..services import DatabaseNotReady, build_services

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        return build_services(settings, clock)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from error
    except DBAPIError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database at {where}: {reason}") from None
