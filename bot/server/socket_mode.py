"""Socket Mode: one process, Bolt's socket client, the scheduler in a background thread."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from ...scheduler.runner import start_background_ticker
from ..app import build_app
from ..services import Services, build_ticker
from ..settings import Settings
from .drain import finish_deferred_replies
from .startup import warm_index

log = logging.getLogger(__name__)


def serve_socket_mode(settings: Settings, services: Services) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    warm_index(services, "this process")
    app = build_app(services, token_verification=False)  # check_slack did it
    ticker = build_ticker(services)
    scheduler = None
    if settings.scheduler_enabled:
        scheduler = start_background_ticker(
            ticker, services.clock, settings.tick_seconds, services.scheduler
        )
    stop = threading.Event()
    stopped_at: list[float] = []
    handler = SocketModeHandler(app, settings.app_token)

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        stopped_at.append(time.monotonic())
        ticker.stop()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    log.info("starting in Socket Mode")
    handler.connect()  # type: ignore[no-untyped-call]
    stop.wait()
    handler.close()  # type: ignore[no-untyped-call]
    if scheduler is not None:
        log.info("stopping the scheduler (finishing the posts in flight)")
        scheduler.shutdown(wait=True)
    abandoned = 0
    if services.pending_replies is not None:
        abandoned = finish_deferred_replies(
            services.pending_replies, stopped_at[0] + settings.drain_seconds
        )
    log.info("stopped")
    if abandoned:
        # The interpreter would wait for the pool's threads at exit (and be killed waiting).
        logging.shutdown()
        os._exit(0)
