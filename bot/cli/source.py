"""`policybot source`: the watched sources (feeds and pages) of a workspace."""

from __future__ import annotations

import sys

import click

from .state import AppState, pass_state


@click.command()
@click.argument("action", type=click.Choice(["add", "list", "pause", "resume", "remove", "poll"]))
@click.argument("words", nargs=-1)
@click.option("--team", help="The Slack workspace (team id) whose sources these are.")
@pass_state
def source(state: AppState, action: str, words: tuple[str, ...], team: str | None) -> None:
    """Watched sources: add URL [every 6h] [label], list, pause|resume|remove ID, or poll
    (every due source once, now)."""
    from ...handlers.context import CONSOLE_TEAM, Context
    from ...handlers.render_text import render_text

    services = state.services()
    try:
        if action == "poll":
            from ...scheduler.polling import Poller

            report = Poller(services.sessions).poll(state.clock())
            for poll in report.polls:
                if poll.error:
                    outcome = f"failed: {poll.error}"
                elif poll.not_modified:
                    outcome = "not modified"
                else:
                    outcome = f"{poll.found} new item(s), {poll.taken} read, {poll.added} added"
                unreadable = f", {poll.failed} unreadable" if poll.failed else ""
                click.echo(f"w{poll.source_id}: {outcome}{unreadable}")
            click.echo(f"polled {len(report.polls)} source(s)")
            return
        command = "sources" if action == "list" else f"source {action} {' '.join(words)}"
        reply = services.runner.run(
            command, Context(now=state.clock(), team_id=team or CONSOLE_TEAM)
        )
        click.echo(render_text(reply), nl=False)
        if reply.is_error:
            sys.exit(1)
    finally:
        services.close()
