"""The `policybot` command line: the console (default), ask, briefs, export, ingest, source,
tick, serve, config and db; one module per command or group of commands.

What a command needs is imported when it runs: importing this package, and so
`policybot --help`, stays cheap (SQLAlchemy, alembic and the command handlers take over a
second to import). benchmarks/startup.py measures it.
"""

from __future__ import annotations

import sys

import click

from . import briefs, ingest, maintain, serve, source, tick
from .state import NOW_HELP, AppState


@click.group(invoke_without_command=True)
@click.option(
    "--db", envvar="POLICYBOT_DATABASE_URL", help="Database URL (default: embedded SQLite)."
)
@click.option("--now", help=NOW_HELP)
@click.version_option(package_name="policybot")
@click.pass_context
def main(ctx: click.Context, db: str | None, now: str | None) -> None:
    """policybot: Chinese industrial-policy briefs, searchable from Slack or this console.

    With no command, starts the console on the embedded database with the demo corpus.
    """
    ctx.obj = AppState(db, now)
    if ctx.invoked_subcommand is None:
        from ..console import ConsoleSession, run_console

        state: AppState = ctx.obj
        services = state.services()
        try:
            session = ConsoleSession(
                services.runner, state.clock, public_url=services.settings.public_url or ""
            )
            interactive = sys.stdin.isatty()
            lines = None if interactive else (line.rstrip("\n") for line in sys.stdin)
            run_console(session, lines, interactive=interactive)
        finally:
            services.close()


for command in (
    briefs.ask,
    briefs.briefs,
    briefs.export,
    ingest.ingest,
    maintain.config,
    maintain.db,
    source.source,
    tick.tick,
    serve.serve,
):
    main.add_command(command)
