"""Commands that read briefs: `ask` (one console question), `briefs` (the list) and
`export` (deadlines as .ics or .csv)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .state import NOW_HELP, AppState, parse_now, pass_state

# What a command needs is imported when it runs (see bot/cli/__init__.py).
if TYPE_CHECKING:
    from ...data.models import Brief


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--now", "now_override", help=NOW_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the Slack (Block Kit) payload.")
@pass_state
def ask(state: AppState, text: tuple[str, ...], now_override: str | None, as_json: bool) -> None:
    """Run one command, e.g. policybot ask "/policy storage", and print the reply."""
    from ..console import ConsoleSession

    clock = parse_now(now_override) if now_override else state.clock
    services = state.services(clock)
    try:
        session = ConsoleSession(
            services.runner, clock, public_url=services.settings.public_url or ""
        )
        command = " ".join(text)
        if as_json:
            from ...handlers.context import Context
            from ..blocks import render_blocks

            reply = services.runner.run(command, Context(now=clock()))
            click.echo(json.dumps(render_blocks(reply), ensure_ascii=False, indent=2))
        else:
            click.echo(session.handle(command), nl=False)
    finally:
        services.close()


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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array of briefs).")
@pass_state
def briefs(state: AppState, as_json: bool) -> None:
    """List every stored brief with its goals."""
    from ...data.briefs import all_briefs
    from ...data.db import unit_of_work

    services = state.services()
    try:
        # Read-only: beside the server's writers.
        with unit_of_work(services.sessions, read_only=True) as session:
            rows = [brief_json(b) for b in all_briefs(session)]
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


@click.command()
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
    from ...data.db import unit_of_work
    from ...data.errors import UserError
    from ...handlers.context import Context
    from ...handlers.export import export_deadlines

    text = " ".join(part for part in (f"within {within}" if within else "", query) if part)
    services = state.services()
    try:
        with unit_of_work(
            services.sessions, read_only=True
        ) as session:  # beside the server's writers
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
