"""Runners for Slack: Socket Mode, or HTTP on gunicorn through Bolt's WSGI adapter.

HTTP serves `/slack/events` (checked by bot/edge.py before Bolt parses anything; and
`/slack/install`, `/slack/oauth_redirect` in OAuth mode), `/healthz` (the process is up; it
never touches the database), `/readyz` (database reachable within a short timeout,
migrations current, scheduler role), `/metrics` (Prometheus; optionally behind a token, or
on a listener of its own per worker) and `/calendar/<token>.ics` (bot/calendar_feed.py).

`policybot serve` is gunicorn's arbiter, started in-process (see PolicybotServer). Before it
forks anything it checks the database and Slack's auth.test once (a bad token or an
unreachable API is one clear line, exit 1) and builds or catches up the search index on disk,
which every worker then opens memory-mapped in milliseconds. No engine, thread, pool or open connection crosses a fork: each worker
builds its own services, Bolt app and metrics listener when it starts (PolicybotWorker).
gunicorn replaces workers that die and drains on SIGTERM: each worker stops accepting, answers
the requests in flight and sends the deferred (response_url) replies within
POLICYBOT_DRAIN_SECONDS, then exits; the arbiter kills what is left a few seconds later.

The scheduler runs in exactly one worker: the one holding an exclusive lock on a file the
arbiter made (SchedulerSeat). The kernel lets go of that lock when its holder exits however it
exits, and a waiting worker takes the seat, so the scheduler survives any worker replacement
without the arbiter knowing about it. Across servers, the database's leader lock still lets
one ticker act at a time.

The package, one concept a module: startup (the checks before the fork, index warming),
arbiter (PolicybotServer), worker (PolicybotWorker), request_head (a request arrived whole),
seat (SchedulerSeat), routes (the WSGI applications), probes (/readyz), ops_listener
(/metrics on a port per worker), drain (the SIGTERM budget, deferred replies) and
socket_mode. `serve` below is the entry point.
"""

from __future__ import annotations

import logging

from ..services import Services
from ..settings import Mode, Settings
from .arbiter import PolicybotServer
from .socket_mode import serve_socket_mode
from .startup import check_listen, check_slack, warm_index

log = logging.getLogger(__name__)


def serve(settings: Settings, services: Services, mode: Mode) -> None:
    """Serve until SIGTERM (ServeError: cannot start). `services` is this process's; HTTP
    workers build their own, so it is closed before the first fork."""
    check_slack(settings)
    if mode is Mode.SOCKET:
        if settings.web_workers > 1:
            log.warning("POLICYBOT_WEB_WORKERS is for HTTP: Socket Mode runs in one process")
        serve_socket_mode(settings, services)
        return
    check_listen(settings.host, settings.port)
    # Built or caught up once here, before any fork: each worker then opens the index on disk
    # (memory-mapped, shared by every process) and applies only revisions written since.
    warm_index(services, "the server")
    services.close()
    PolicybotServer(settings, services.clock, mode).serve()
