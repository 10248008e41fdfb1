"""Runners for Slack: Socket Mode, or HTTP through Bolt's WSGI adapter on waitress.

HTTP serves `/slack/events` (checked by bot/edge.py before Bolt parses anything; and
`/slack/install`, `/slack/oauth_redirect` in OAuth mode), `/healthz` (the process is up),
`/readyz` (database reachable, migrations current, scheduler role) and `/metrics`
(Prometheus; optionally behind a token, or on a listener of its own). SIGTERM stops taking requests, lets in-flight requests
and the current scheduler tick finish, then exits.
"""

from __future__ import annotations

import hmac
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from policybot.bot.app import build_app
from policybot.bot.edge import EVENTS_PATH, GuardedSlackEndpoint, Refused, refuse
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


def _metrics(
    environ: WSGIEnvironment, start_response: StartResponse, services: Services
) -> list[bytes]:
    token = services.settings.metrics_token
    if token:
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            log.warning("refused /metrics from %s: no valid token", environ.get("REMOTE_ADDR"))
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Bearer realm="metrics"'), ("Content-Length", "0")],
            )
            return [b""]
    body = services.metrics.render()
    start_response(
        "200 OK",
        [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))],
    )
    return [body]


def _probes(
    path: str, environ: WSGIEnvironment, start_response: StartResponse, services: Services
) -> list[bytes] | None:
    """/healthz and /readyz (every listener), or None for any other path."""
    if path == "/healthz":
        return _json(start_response, "200 OK", {"status": "ok"})
    if path == "/readyz":
        ready, report = readiness(services)
        status = "200 OK" if ready else "503 Service Unavailable"
        return _json(
            start_response, status, {"status": "ready" if ready else "not ready", **report}
        )
    return None


def make_wsgi_app(app: App, services: Services) -> WsgiApp:
    """The main listener: Slack's requests (checked by the edge first), probes, and /metrics
    unless it has a listener of its own."""
    settings = services.settings
    bolt = SlackRequestHandler(app)
    events = GuardedSlackEndpoint(bolt, settings.signing_secret or "", settings.max_body_bytes)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return events(environ, start_response)
        probe = _probes(path, environ, start_response, services)
        if probe is not None:
            return probe
        if path == "/metrics" and settings.metrics_port is None:
            return _metrics(environ, start_response, services)
        if environ.get("REQUEST_METHOD") == "GET":
            return bolt(environ, start_response)  # /slack/install, /slack/oauth_redirect
        return refuse(start_response, Refused(404, "not found"))

    return wsgi


def make_ops_wsgi_app(services: Services) -> WsgiApp:
    """The operations listener (POLICYBOT_METRICS_PORT): /metrics and the probes."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _metrics(environ, start_response, services)
        probe = _probes(path, environ, start_response, services)
        if probe is not None:
            return probe
        return _json(start_response, "404 Not Found", {"status": "not found"})

    return wsgi


def waitress_limits(settings: Settings) -> dict[str, Any]:
    """Connection, idle and size limits: idle or slow clients cannot hold every connection,
    and an oversized body is refused (413) from its Content-Length, before it is read."""
    return {
        "threads": settings.http_threads,
        "connection_limit": settings.connection_limit,
        "channel_timeout": settings.idle_timeout,
        "cleanup_interval": max(1, min(30, settings.idle_timeout // 2)),
        # waitress refuses a body of max_request_body_size bytes or more.
        "max_request_body_size": settings.max_body_bytes + 1,
        "max_request_header_size": 65536,
        # select() cannot watch more than 1,024 sockets; poll() can.
        "asyncore_use_poll": True,
        "ident": "policybot",
    }


class GracefulServer:
    """waitress, stoppable from a signal handler: it stops accepting at once, lets requests
    that are running or queued finish and their answers go out, then closes every
    connection and `run` returns."""

    def __init__(self, wsgi: WsgiApp, host: str, port: int, **limits: Any) -> None:
        from waitress.server import create_server

        self.server: Any = create_server(wsgi, host=host, port=port, **limits)
        self.port: int = self.server.effective_port
        self._stopping = threading.Event()

    def run(self) -> None:
        self.server.run()
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)

    def stop(self, drain_seconds: float = 10.0) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        # Not on the caller's thread: a signal handler runs on the loop's own thread, and
        # the loop must keep running to send the answers being drained.
        threading.Thread(
            target=self._drain_then_close, args=(drain_seconds,), name="waitress-stop"
        ).start()

    def _drain_then_close(self, drain_seconds: float) -> None:
        server = self.server
        # The loop owns its sockets: closing them from another thread races its poll.
        self._in_loop(server.close)  # the listening socket: no new connections
        deadline = time.monotonic() + drain_seconds
        while time.monotonic() < deadline and any(map(_busy, list(server._map.values()))):
            time.sleep(0.05)

        def close_everything() -> None:
            for channel in list(server._map.values()):
                channel.close()

        self._in_loop(close_everything)

    def _in_loop(self, thunk: Callable[[], object]) -> None:
        try:
            self.server.trigger.pull_trigger(thunk)
        except OSError:
            log.debug("waitress loop already gone")


def _busy(channel: Any) -> bool:
    """A connection with a request being served or an answer still being sent."""
    return bool(getattr(channel, "requests", None)) or bool(
        getattr(channel, "total_outbufs_len", 0)
    )


def serve(settings: Settings, services: Services, mode: Mode) -> None:
    app = build_app(services)
    scheduler = None
    ticker = build_ticker(services)
    if settings.scheduler_enabled:
        scheduler = start_background_ticker(
            ticker, services.clock, settings.tick_seconds, services.scheduler
        )
    try:
        _run(app, settings, services, mode)
    finally:
        if scheduler is not None:
            # The running tick finishes the posts in flight and hands the rest back.
            log.info("stopping the scheduler (finishing the posts in flight)")
            ticker.stop()
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
    limits = waitress_limits(settings)
    server = GracefulServer(make_wsgi_app(app, services), settings.host, settings.port, **limits)
    ops = None
    if settings.metrics_port is not None:
        ops = GracefulServer(
            make_ops_wsgi_app(services), settings.metrics_host, settings.metrics_port, threads=2
        )
        threading.Thread(target=ops.run, name="policybot-ops", daemon=True).start()
        log.info("serving /metrics on %s:%s", settings.metrics_host, ops.port)

    def stop_all() -> None:
        server.stop()
        if ops is not None:
            ops.stop()

    _on_sigterm(stop_all)
    log.info("serving HTTP on %s:%s (%s mode)", settings.host, server.port, mode)
    server.run()


def _on_sigterm(action: Callable[[], object]) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        action()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
