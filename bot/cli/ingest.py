"""`policybot ingest`: tracker files into the database, or a preview of what they would
change (--dry-run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ...data.ingest.files import DEFAULT_MAX_BYTES
from .state import AppState, pass_state

# What a command needs is imported when it runs (see bot/cli/__init__.py).
if TYPE_CHECKING:
    from ...data.ingest.text import ParseError
    from ...data.ingest.writer import IngestSummary
    from ...data.novelty import Novelty
    from ..services import Services


@click.command()
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
    from ...data.novelty import Novelty

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

    from ...data.ingest.parser import UNDATED
    from ...data.ingest.text import ParseError
    from ...data.ingest.writer import ingest_paths

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
    from ...data.db import unit_of_work
    from ...data.ingest.files import read_tracker_file
    from ...data.ingest.preview import preview_bytes
    from ...data.ingest.text import ParseError
    from ...handlers.intake import preview_lines

    failures = 0
    previews: list[dict[str, Any]] = []
    for path in paths:
        try:
            raw = read_tracker_file(path, max_bytes)
            # Rolled back below: whatever the preview touched is not kept.
            with unit_of_work(services.sessions) as session:
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
