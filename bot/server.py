"""Runners for Slack: Socket Mode, or HTTP through Bolt's WSGI adapter on waitress."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.app import build_app
from bot.services import Services, build_ticker
from bot.settings import Mode, Settings
from scheduler.runner import start_background_ticker

log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def make_wsgi_app(app: App, services: Services) -> WsgiApp:
    """`/slack/events` goes to Bolt; `/healthz` says the process is up; `/readyz` checks the
    database."""
    slack = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            try:
                with services.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as error:
                log.warning("readiness check failed: %s", type(error).__name__)
                return _json(start_response, "503 Service Unavailable", {"status": "database unreachable"})
            return _json(start_response, "200 OK", {"status": "ready"})
        return slack(environ, start_response)

    return wsgi


def serve(settings: Settings, services: Services, mode: Mode) -> None:
    app = build_app(services)
    scheduler = start_background_ticker(build_ticker(services), services.clock)
    try:
        _run(app, settings, services, mode)
    finally:
        scheduler.shutdown(wait=True)


def _run(app: App, settings: Settings, services: Services, mode: Mode) -> None:
    if mode is Mode.SOCKET:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("starting in Socket Mode")
        SocketModeHandler(app, settings.app_token).start()
        return
    import waitress

    log.info("serving HTTP on %s:%s (/slack/events, /healthz)", settings.host, settings.port)
    waitress.serve(make_wsgi_app(app, services), host=settings.host, port=settings.port, threads=8)
