"""APScheduler only wakes the ticker up; all state lives in the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .delivery import TickReport
from .polling import Poller
from .ticker import Ticker

log = logging.getLogger(__name__)
TICK_JOB_ID = "policybot-tick"
POLL_JOB_ID = "policybot-poll"  # watched sources: a job of its own, never delaying a tick


@dataclass
class SchedulerStatus:
    """What /readyz says about this process's scheduler."""

    role: str = "disabled"  # disabled, starting, leader, follower, failing
    last_tick: datetime | None = None


def quiet_executor_logs() -> None:
    """APScheduler's executor logs two INFO lines per run ("Running job", "executed
    successfully"): at a tick every minute, most of a healthy server's log. Its warnings
    (a missed run) and errors (a job that raised) still come through; at DEBUG, all of it."""
    executors = logging.getLogger("apscheduler.executors")
    if executors.getEffectiveLevel() == logging.INFO:
        executors.setLevel(logging.WARNING)


def start_background_ticker(
    ticker: Ticker,
    clock: Callable[[], datetime],
    interval_seconds: int = 60,
    status: SchedulerStatus | None = None,
    poll_sources: bool = True,
) -> BackgroundScheduler:
    """Tick every `interval_seconds` in a background thread.

    Job settings on purpose: coalesce (missed ticks collapse into one: the database knows
    what is due anyway), max_instances=1 (ticks never overlap in a process), and a generous
    misfire grace so a late tick still runs instead of APScheduler's 1-second default dropping
    it. The in-memory job store holds nothing the database does not.
    """
    quiet_executor_logs()
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )

    status = status or SchedulerStatus()
    status.role = "starting"

    def on_leadership(leader: bool) -> None:
        # While the tick holds the leader lock, not once it has finished.
        status.role = "leader" if leader else "follower"

    ticker.on_leadership = on_leadership

    def run_tick() -> None:
        try:
            report: TickReport = ticker.tick(clock())
        except Exception:
            status.role = "failing"
            log.exception("scheduler tick failed")
            return
        status.role = "leader" if report.leader else "follower"
        status.last_tick = clock()
        if report.claimed or report.paused:
            log.info(
                "tick: planned=%s claimed=%s sent=%s retried=%s paused=%s",
                report.planned,
                report.claimed,
                report.sent,
                report.retried,
                report.paused,
            )

    scheduler.add_job(
        run_tick,
        IntervalTrigger(seconds=interval_seconds),
        id=TICK_JOB_ID,
        replace_existing=True,
        next_run_time=datetime.now(UTC),  # catch up at start, not one interval later
    )
    if poll_sources:
        poller = Poller(ticker.sessions)

        def run_poll() -> None:
            try:
                poller.poll(clock())
            except Exception:
                log.exception("polling watched sources failed")

        scheduler.add_job(
            run_poll,
            IntervalTrigger(seconds=interval_seconds),
            id=POLL_JOB_ID,
            replace_existing=True,
        )
    scheduler.start()
    return scheduler
