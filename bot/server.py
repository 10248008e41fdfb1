"""Runners for Slack: Socket Mode, or HTTP through Bolt's WSGI adapter on waitress.

HTTP serves `/slack/events` (and `/slack/install`, `/slack/oauth_redirect` in OAuth mode),
`/healthz` (the process is up), `/readyz` (database reachable, migrations current, scheduler
role) and `/metrics` (Prometheus). SIGTERM stops taking requests, lets in-flight requests
and the current scheduler tick finish, then exits.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from policybot.bot.app import build_app
from policybot.bot.services import Services, build_ticker
from policybot.bot.settings import Mode, Settings
from policybot.data.db import pending_migrations
from policybot.scheduler.runner import start_background_ticker

log = logging.getLogger(__name__)

WsgiApp = WSGIApplication


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def readiness(services: Services) -> tuple[bool, dict[str, str]]:
    report = {"scheduler": services.scheduler.role}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        report["database"] = "ok"
        pending = pending_migrations(services.engine)
        report["migrations"] = "pending: run `policybot db upgrade`" if pending else "current"
    except Exception as error:
        log.warning("readiness: database unreachable (%s)", type(error).__name__)
        report["database"] = "unreachable"
        return False, report
    return report["migrations"] == "current", report


def make_wsgi_app(app: App, services: Services) -> WsgiApp:
    slack = SlackRequestHandler(app)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            ready, report = readiness(services)
            status = "200 OK" if ready else "503 Service Unavailable"
            return _json(
                start_response, status, {"status": "ready" if ready else "not ready", **report}
            )
        if path == "/metrics":
            body = services.metrics.render()
            start_response(
                "200 OK",
                [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))],
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


class GracefulServer:
    """waitress, stoppable from a signal handler: the loop closes its own sockets, running
    requests finish, then `run` returns."""

    def __init__(self, wsgi: WsgiApp, host: str, port: int, threads: int = 8) -> None:
        from waitress.server import create_server

        self.server: Any = create_server(wsgi, host=host, port=port, threads=threads)
        self.port: int = self.server.effective_port

    def run(self) -> None:
        self.server.run()
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)

    def stop(self) -> None:
        def close_everything() -> None:
            for channel in list(self.server._map.values()):
                channel.close()

        self.server.trigger.pull_trigger(close_everything)


def serve(settings: Settings, services: Services, mode: Mode) -> None:
    app = build_app(services)
    scheduler = None
    if settings.scheduler_enabled:
        scheduler = start_background_ticker(
            build_ticker(services), services.clock, settings.tick_seconds, services.scheduler
        )
    try:
        _run(app, settings, services, mode)
    finally:
        if scheduler is not None:
            log.info("stopping the scheduler (waiting for a running tick)")
            scheduler.shutdown(wait=True)
        log.info("stopped")


def _run(app: App, settings: Settings, services: Services, mode: Mode) -> None:
    stop = threading.Event()
    if mode is Mode.SOCKET:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, settings.app_token)

        def stop_socket_mode() -> None:
            stop.set()
            handler.close()  # type: ignore[no-untyped-call]

        _on_sigterm(stop_socket_mode)
        log.info("starting in Socket Mode")
        handler.connect()  # type: ignore[no-untyped-call]
        stop.wait()
        return
    server = GracefulServer(make_wsgi_app(app, services), settings.host, settings.port)
    _on_sigterm(server.stop)
    log.info("serving HTTP on %s:%s (%s mode)", settings.host, server.port, mode)
    server.run()


def _on_sigterm(action: Callable[[], object]) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        action()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
