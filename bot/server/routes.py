"""The WSGI applications: the main listener (`/slack/events` checked by bot/edge.py before
Bolt parses anything; `/slack/install`, `/slack/oauth_redirect` in OAuth mode; `/healthz`,
`/readyz`, `/metrics` and `/calendar/<token>.ics`), the operations listener, and the header
naming the worker that answered."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from ..calendar_feed import calendar_route
from ..edge import EVENTS_PATH, GuardedSlackEndpoint, Refused, refuse
from ..services import Services
from .probes import readiness

log = logging.getLogger(__name__)

WsgiApp = WSGIApplication
WORKER_HEADER = "X-Policybot-Worker"  # which worker process answered (its index, not its pid)


def json_reply(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def metrics_reply(
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


def probe_reply(
    path: str, environ: WSGIEnvironment, start_response: StartResponse, services: Services
) -> list[bytes] | None:
    """/healthz and /readyz (every listener), or None for any other path."""
    if path == "/healthz":
        return json_reply(start_response, "200 OK", {"status": "ok"})
    if path == "/readyz":
        ready, report = readiness(services)
        status = "200 OK" if ready else "503 Service Unavailable"
        return json_reply(
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
        probe = probe_reply(path, environ, start_response, services)
        if probe is not None:
            return probe
        if path == "/metrics" and settings.metrics_port is None:
            return metrics_reply(environ, start_response, services)
        feed = calendar_route(path, environ, start_response, services)
        if feed is not None:
            return feed
        if environ.get("REQUEST_METHOD") == "GET":
            return bolt(environ, start_response)  # /slack/install, /slack/oauth_redirect
        return refuse(start_response, Refused(404, "not found"))

    return wsgi


def make_ops_wsgi_app(services: Services) -> WsgiApp:
    """The operations listener (POLICYBOT_METRICS_PORT): /metrics and the probes."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics_reply(environ, start_response, services)
        probe = probe_reply(path, environ, start_response, services)
        if probe is not None:
            return probe
        return json_reply(start_response, "404 Not Found", {"status": "not found"})

    return wsgi


def tag_worker(wsgi: WsgiApp, worker: int) -> WsgiApp:
    """Every answer names the worker that gave it (its index: nothing a client could use)."""
    header = (WORKER_HEADER, str(worker))

    def tagged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, header], exc_info)

        return wsgi(environ, start)

    return tagged
