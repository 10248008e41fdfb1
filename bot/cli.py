"""The `policybot` command line: console (default), ask, serve, ingest, briefs, db."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..data.ingest.files import DEFAULT_MAX_BYTES

# What a sub-command needs is imported when it runs: importing this module, and so
# `policybot --help`, stays cheap (SQLAlchemy, alembic and the command handlers take over a
# second to import). benchmarks/startup.py measures it.
if TYPE_CHECKING:
    from ..data.ingest.text import ParseError
    from ..data.ingest.writer import IngestSummary
    from ..data.models import Brief
    from ..data.novelty import Novelty
    from ..handlers.context import Clock
    from .services import Services
    from .settings import Settings


def parse_now(value: str | None) -> Clock:
    from ..handlers.context import system_clock

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
        from .logs import configure_logging
        from .settings import Settings, SettingsError

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
        from .services import DatabaseNotReady, build_services

        try:
            return build_services(self.settings, clock or self.clock)
        except DatabaseNotReady as error:
            raise click.ClickException(str(error)) from error


pass_state = click.make_pass_decorator(AppState)
NOW_HELP = "Pretend it is this moment (ISO 8601), for checking countdowns and schedules."


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
        from .console import ConsoleSession, run_console

        state: AppState = ctx.obj
        services = state.services()
        try:
            session = ConsoleSession(services.runner, state.clock)
            interactive = sys.stdin.isatty()
            lines = None if interactive else (line.rstrip("\n") for line in sys.stdin)
            run_console(session, lines, interactive=interactive)
        finally:
            services.close()


@main.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--now", "now_override", help=NOW_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the Slack (Block Kit) payload.")
@pass_state
def ask(state: AppState, text: tuple[str, ...], now_override: str | None, as_json: bool) -> None:
    """Run one command, e.g. policybot ask "/policy storage", and print the reply."""
    from .console import ConsoleSession

    clock = parse_now(now_override) if now_override else state.clock
    services = state.services(clock)
    try:
        session = ConsoleSession(services.runner, clock)
        command = " ".join(text)
        if as_json:
            from ..handlers.context import Context
            from .blocks import render_blocks

            reply = services.runner.run(command, Context(now=clock()))
            click.echo(json.dumps(render_blocks(reply), ensure_ascii=False, indent=2))
        else:
            click.echo(session.handle(command), nl=False)
    finally:
        services.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added, updated, unchanged.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the preview as JSON.")
@click.option(
    "--max-mb",
    type=click.FloatRange(min=0.001),
    default=DEFAULT_MAX_BYTES / (1024 * 1024),
    show_default=True,
    help="Refuse files larger than this.",
)
@click.option(
    "--new",
    "novelty",
    flag_value="new",  # Novelty.NEW (imported when the command runs)
    help="Post these briefs as new whatever the files' dates (re-marks stored ones too).",
)
@click.option(
    "--archive",
    "novelty",
    flag_value="archive",  # Novelty.ARCHIVE
    help="Store these briefs as archive: searchable, never posted as new.",
)
@click.option(
    "--replace",
    "replace_facts",
    is_flag=True,
    help="Apply removals of stored goals, deadlines and dates (kept by default).",
)
@pass_state
def ingest(
    state: AppState,
    paths: tuple[Path, ...],
    dry_run: bool,
    as_json: bool,
    max_mb: float,
    novelty: str | None,
    replace_facts: bool,
) -> None:
    """Add tracker issues (PDF or text files) to the store; each file is all or nothing.
    Briefs of an issue older than 90 days are archive (never posted as new) unless --new."""
    max_bytes = int(max_mb * 1024 * 1024)
    if as_json and not dry_run:
        raise click.UsageError("--json goes with --dry-run")
    from ..data.novelty import Novelty

    choice = (Novelty(novelty or Novelty.AUTO.value), replace_facts)
    services = state.services()
    try:
        if dry_run:
            failures = _ingest_preview(services, paths, as_json, max_bytes, choice)
        else:
            failures = _ingest_write(services, paths, max_bytes, choice)
    finally:
        services.close()
    if failures:
        raise SystemExit(1)


def _ingest_write(
    services: Services, paths: tuple[Path, ...], max_bytes: int, choice: tuple[Novelty, bool]
) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from ..data.ingest.parser import UNDATED
    from ..data.ingest.text import ParseError
    from ..data.ingest.writer import ingest_paths

    console = Console(stderr=True)
    failures = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Ingesting", total=len(paths))

        def done(path: Path, result: IngestSummary | ParseError) -> None:
            progress.advance(task)

        results = ingest_paths(
            services.sessions,
            paths,
            services.clock(),
            on_file=done,
            max_bytes=max_bytes,
            novelty=choice[0],
            replace_facts=choice[1],
        )
    table = Table("file", "added", "updated", "unchanged", "result")
    for result in results:
        if isinstance(result, ParseError):
            failures += 1
            table.add_row(result.source, "-", "-", "-", "[red]error[/red]")
            click.echo(f"error: {result}", err=True)
        else:
            outcome = "already ingested" if result.already_ingested else "ok"
            if result.warnings:
                count = len(result.warnings)
                undated = sum(UNDATED in w for w in result.warnings)
                outcome += f" ({count} warning{'s' if count != 1 else ''}"
                outcome += (
                    f", {undated} brief{'s' if undated != 1 else ''} undated)" if undated else ")"
                )
            if result.novelty_label:
                outcome += f"; {result.novelty_label}"
            if result.kept:
                outcome += f"; kept {len(result.kept)} stored fact(s)"
            table.add_row(
                result.source,
                str(result.added),
                str(result.updated),
                str(result.unchanged),
                outcome,
            )
            for warning in result.warnings:
                click.echo(f"warning: {result.source}: {warning}", err=True)
            for fact in result.kept:
                click.echo(
                    f"warning: {result.source}: would remove {fact}: kept (--replace removes it)",
                    err=True,
                )
            for fact in result.removed:
                click.echo(f"{result.source}: removed as asked (--replace): {fact}", err=True)
    Console().print(table)
    return failures


def _ingest_preview(
    services: Services,
    paths: tuple[Path, ...],
    as_json: bool,
    max_bytes: int,
    choice: tuple[Novelty, bool],
) -> int:
    """The preview of each file; nothing is written (the session only reads)."""
    from ..data.ingest.files import read_tracker_file
    from ..data.ingest.preview import preview_bytes
    from ..data.ingest.text import ParseError
    from ..handlers.intake import preview_lines

    failures = 0
    previews: list[dict[str, Any]] = []
    for path in paths:
        try:
            raw = read_tracker_file(path, max_bytes)
            with services.sessions() as session:
                preview = preview_bytes(
                    session,
                    raw,
                    str(path),
                    services.clock(),
                    *choice,
                )
                session.rollback()
        except ParseError as error:
            failures += 1
            if as_json:
                previews.append({"source": str(path), "error": error.message})
            else:
                click.echo(f"error: {error}", err=True)
            continue
        if as_json:
            previews.append(preview.as_json())
            continue
        for line in preview_lines(preview):  # the preview a Slack upload shows, too
            click.echo(line)
    if as_json:
        click.echo(json.dumps(previews, ensure_ascii=False, indent=2))
    return failures


def brief_json(brief: Brief) -> dict[str, Any]:
    return {
        "id": brief.ref,
        "kind": str(brief.kind),
        "title": brief.title,
        "title_original": brief.title_original,
        "issuing_bodies": [b.abbreviation for b in brief.bodies],
        "issuing_bodies_more": brief.bodies_more,
        "published_on": brief.published_on.isoformat() if brief.published_on else None,
        "summary": brief.summary,
        "comment": brief.comment,
        "links": list(brief.links),
        "source_label": brief.source_label,
        "goals": [
            {
                "id": goal.ref,
                "text": goal.text,
                "deadline": goal.due_on.isoformat() if goal.due_on else None,
                "precision": goal.precision,
                "window_start": goal.window_start.isoformat() if goal.window_start else None,
                "status": str(goal.status),
            }
            for goal in brief.goals
        ],
    }


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array of briefs).")
@pass_state
def briefs(state: AppState, as_json: bool) -> None:
    """List every stored brief with its goals."""
    from ..data import store
    from ..data.db import reading

    services = state.services()
    try:
        with reading(services.sessions) as session:  # beside the server's writers
            rows = [brief_json(b) for b in store.all_briefs(session)]
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['kind']:<6} {row['published_on'] or '?':<10}  {row['title']}"
        )
        for goal in row["goals"]:
            when = goal["deadline"] or "-"
            click.echo(f"{'':>7}{goal['id']:>5} {when:<10} {goal['text'][:80]}")


@main.command()
@click.argument("fmt", metavar="ics|csv", type=click.Choice(["ics", "csv"], case_sensitive=False))
@click.option("--query", "-q", default="", help="Words and filters as in search (default: all).")
@click.option("--within", help="Only deadlines this soon, e.g. 24m, 90d, 2y (default: all future).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default: standard output).",
)
@pass_state
def export(state: AppState, fmt: str, query: str, within: str | None, output: Path | None) -> None:
    """Export future deadlines as a calendar (ics, RFC 5545) or a spreadsheet (csv).

    Calendar events keep their UIDs from one export to the next, so importing a newer file
    updates the events instead of adding copies."""
    from ..data.db import reading
    from ..data.errors import UserError
    from ..handlers.context import Context
    from ..handlers.export import export_deadlines

    text = " ".join(part for part in (f"within {within}" if within else "", query) if part)
    services = state.services()
    try:
        with reading(services.sessions) as session:  # beside the server's writers
            result = export_deadlines(session, Context(now=state.clock()), fmt, text)
    except UserError as error:
        raise click.ClickException(str(error)) from error
    finally:
        services.close()
    noun = "deadline" if result.count == 1 else "deadlines"
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(result.attachment.content)
        sys.stdout.buffer.flush()
    else:
        try:
            output.write_bytes(result.attachment.content)
        except OSError as error:
            reason = error.strerror or error
            raise click.ClickException(f"cannot write {output}: {reason}") from error
        click.echo(f"{result.count} {noun} written to {output}", err=True)
    if not result.count:
        click.echo("warning: no deadlines match; the file has none", err=True)


@main.group()
def config() -> None:
    """Settings."""


@config.command("check")
@pass_state
def config_check(state: AppState) -> None:
    """Print the settings (of secrets only whether they are set) and what each way of
    running still needs."""
    from .settings import Mode

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


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: AppState) -> None:
    """Apply schema migrations (safe to run repeatedly)."""
    from ..data.db import make_engine, session_factory, upgrade
    from ..data.search.backfill import write_missing_documents

    engine = make_engine(state.settings.database_url)
    try:
        upgrade(engine)
        # Once: search documents for briefs stored before they existed (or analysed by an
        # older version), so no process has to analyse them at every start.
        with session_factory(engine)() as session, session.begin():
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
    from sqlalchemy.orm import Session

    from ..data.db import make_engine
    from ..data.maintenance import maintain, stale_tables

    engine = make_engine(state.settings.database_url)
    try:
        with Session(engine) as session:
            stale = stale_tables(session)
        tables = maintain(engine)
    finally:
        engine.dispose()
    before = f" (statistics were stale: {', '.join(stale)})" if stale else ""
    click.echo(f"maintained {', '.join(tables)}{before}")


@main.command()
@click.option("--now", "now_override", help=NOW_HELP)
@click.option(
    "--dry-run", is_flag=True, help="Print what is due without posting or marking anything."
)
@pass_state
def tick(state: AppState, now_override: str | None, dry_run: bool) -> None:
    """Run everything the scheduler has due once, then exit (cron-style deployments)."""
    from ..handlers.context import CONSOLE_TEAM
    from ..scheduler.ledger import waiting_elsewhere
    from ..scheduler.ticker import dry_run as dry_run_tick
    from .posters import PrintPoster
    from .services import build_poster, build_ticker

    clock = parse_now(now_override) if now_override else state.clock
    services = state.services(clock)
    now = clock()
    try:
        if dry_run:
            report = dry_run_tick(services.engine, PrintPoster(), now)
            click.echo(
                f"dry run: {report.sent} item(s) in {report.messages} message(s) would be sent; "
                "nothing was posted or marked"
            )
            return
        poster = build_poster(services)
        report = build_ticker(services, poster).tick(now)
        waiting = 0
        if isinstance(poster, PrintPoster):
            with services.sessions() as session:
                waiting = waiting_elsewhere(session, CONSOLE_TEAM, now)
    finally:
        services.close()
    click.echo(
        f"tick: {report.sent} item(s) sent in {report.messages} message(s), "
        f"{report.retried} to retry"
        + (f", paused {', '.join(report.paused)}" if report.paused else "")
        + ("" if report.leader else " (another scheduler holds the lock; nothing done)")
    )
    if waiting:
        click.echo(
            f"{waiting} item(s) for Slack channels were left for Slack: this tick has no Slack "
            "token (set SLACK_BOT_TOKEN, or run `policybot serve`), so it posts to the console only"
        )


@main.command()
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
    from .logs import configure_logging
    from .server import ServeError
    from .server import serve as run_server
    from .settings import Settings, SettingsError

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

    from .services import DatabaseNotReady, build_services

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        return build_services(settings, clock)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from error
    except DBAPIError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database at {where}: {reason}") from None
