"""Maintenance: `config check` and the `db` group (`db upgrade`, `db maintain`)."""

from __future__ import annotations

import click

from .state import AppState, pass_state


@click.group()
def config() -> None:
    """Settings."""


@config.command("check")
@pass_state
def config_check(state: AppState) -> None:
    """Print the settings (of secrets only whether they are set) and what each way of
    running still needs."""
    from ..settings import Mode

    settings = state.settings
    width = max(len(name) for name in settings.masked())
    for name, value in settings.masked().items():
        click.echo(f"{name:<{width}}  {value}")
    click.echo("")
    click.echo(f"serve would run in: {settings.mode}")
    for mode in (Mode.HTTP, Mode.SOCKET, Mode.OAUTH):
        problems = settings.problems(mode)
        click.echo(f"  {mode:<7} " + ("ready" if not problems else "; ".join(problems)))
    for warning in settings.warnings():
        click.echo(f"warning: {warning}")
    if settings.mode is not Mode.CONSOLE and settings.problems(settings.mode):
        raise SystemExit(1)


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: AppState) -> None:
    """Apply schema migrations (safe to run repeatedly)."""
    from ...data.db import make_engine, session_factory, unit_of_work, upgrade
    from ...data.search.backfill import write_missing_documents

    engine = make_engine(state.settings.database_url)
    try:
        upgrade(engine)
        # Once: search documents for briefs stored before they existed (or analysed by an
        # older version), so no process has to analyse them at every start.
        with unit_of_work(session_factory(engine)) as session:
            written = write_missing_documents(session)
    finally:
        engine.dispose()
    if written:
        click.echo(f"wrote the search documents of {written} briefs")
    click.echo("database is up to date")


@db.command("maintain")
@pass_state
def db_maintain(state: AppState) -> None:
    """Refresh the search table's and the ledger's statistics (VACUUM ANALYZE on
    PostgreSQL): worth running after a bulk ingest."""

    from ...data.db import make_engine, session_factory, unit_of_work
    from ...data.maintenance import maintain, stale_tables

    engine = make_engine(state.settings.database_url)
    try:
        with unit_of_work(session_factory(engine), read_only=True) as session:
            stale = stale_tables(session)
        tables = maintain(engine)
    finally:
        engine.dispose()
    before = f" (statistics were stale: {', '.join(stale)})" if stale else ""
    click.echo(f"maintained {', '.join(tables)}{before}")
