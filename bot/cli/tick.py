"""`policybot tick`: one scheduler tick from the command line (posts to the console, or
Slack when a bot token is set; --dry-run shows what it would send)."""

from __future__ import annotations

import click

from .state import NOW_HELP, AppState, parse_now, pass_state


@click.command()
@click.option("--now", "now_override", help=NOW_HELP)
@click.option(
    "--dry-run", is_flag=True, help="Print what is due without posting or marking anything."
)
@pass_state
def tick(state: AppState, now_override: str | None, dry_run: bool) -> None:
    """Run everything the scheduler has due once, then exit (cron-style deployments)."""
    from ...data.db import unit_of_work
    from ...handlers.context import CONSOLE_TEAM
    from ...scheduler.ledger import waiting_elsewhere
    from ...scheduler.ticker import dry_run as dry_run_tick
    from ..posters import PrintPoster
    from ..services import build_poster, build_ticker

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
            with unit_of_work(services.sessions, read_only=True) as session:
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
