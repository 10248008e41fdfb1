"""Runners for Slack: Socket Mode, or HTTP on gunicorn through Bolt's WSGI adapter.

HTTP serves `/slack/events` (checked by bot/edge.py before Bolt parses anything; and
`/slack/install`, `/slack/oauth_redirect` in OAuth mode), `/healthz` (the process is up; it
never touches the database), `/readyz` (database reachable within a short timeout,
migrations current, scheduler role) and `/metrics` (Prometheus; optionally behind a token, or
on a listener of its own per worker).

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
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hmac
import json
import logging
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.workers.gthread import TConn, ThreadWorker
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..data.db import pending_migrations
from ..data.search.live import warm as warm_search_index
from ..handlers.context import Clock
from ..scheduler.runner import start_background_ticker
from .app import build_app
from .edge import EVENTS_PATH, GuardedSlackEndpoint, Refused, refuse
from .services import Services, build_services, build_ticker
from .settings import Mode, Settings

log = logging.getLogger(__name__)

WsgiApp = WSGIApplication
WORKER_HEADER = "X-Policybot-Worker"  # which worker process answered (its index, not its pid)
# How long requests in flight and deferred replies may take after SIGTERM (the default of
# POLICYBOT_DRAIN_SECONDS); gunicorn kills a worker still running KILL_GRACE_SECONDS later.
DRAIN_SECONDS = 20.0
KILL_GRACE_SECONDS = 5.0
KILL_AFTER_SECONDS = DRAIN_SECONDS + KILL_GRACE_SECONDS
# A request's head may be this large (gunicorn refuses longer lines and fields itself).
MAX_HEAD_BYTES = 64 * 1024
# How long a stopping worker waits for a request a client is already sending.
STOP_LINGER_SECONDS = 2.0
# A /readyz probe waiting this long on the database makes the others say "not ready".
PROBE_STALE_SECONDS = 1.0


class ServeError(RuntimeError):
    """`serve` cannot start; the message says why in one line (no secret in it)."""


# ---------------------------------------------------------------- the WSGI applications


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def readiness(services: Services) -> tuple[bool, dict[str, str]]:
    """Whether this process can serve: the database answers (on the probe engine, with its
    connect and statement timeouts) and its schema is current. One probe at a time: while
    one is waiting on a slow database, others answer with its last result instead of taking
    a request thread each."""
    report = {"scheduler": services.scheduler.role}
    probe = services.probe
    if not probe.lock.acquire(blocking=False):
        waited = time.monotonic() - probe.started
        if waited > PROBE_STALE_SECONDS:
            # The database is slow to answer the probe in flight: not ready, whatever it
            # said before.
            return False, {
                "database": f"not answering (a probe has waited {waited:.0f} s)",
                **report,
            }
        ready, last = probe.last
        return ready, {**last, **report}
    probe.started = time.monotonic()
    try:
        try:
            with probe.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            report["database"] = "ok"
            pending = pending_migrations(probe.engine)
            report["migrations"] = "pending: run `policybot db upgrade`" if pending else "current"
        except Exception as error:
            services.outage.record(error)
            report["database"] = "unreachable"
            probe.last = (False, dict(report))
            return False, report
        ready = report["migrations"] == "current"
        probe.last = (ready, dict(report))
        return ready, report
    finally:
        probe.lock.release()


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


def tag_worker(wsgi: WsgiApp, worker: int) -> WsgiApp:
    """Every answer names the worker that gave it (its index: nothing a client could use)."""
    header = (WORKER_HEADER, str(worker))

    def tagged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, header], exc_info)

        return wsgi(environ, start)

    return tagged


# ---------------------------------------------------------------- start-up checks


def check_slack(settings: Settings) -> None:
    """The bot token checked once with auth.test, before any worker starts: a refused
    token or an unreachable API is one clear ServeError, not a worker dying in a loop."""
    if not settings.bot_token:
        return  # OAuth: each workspace's token comes from its installation
    from slack_sdk.errors import SlackApiError

    from .slack_client import make_web_client

    client = make_web_client(settings, settings.bot_token)
    try:
        client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        raise ServeError(
            f"Slack refused the bot token (auth.test answered {code or 'an error'}): "
            "check SLACK_BOT_TOKEN"
        ) from None
    except Exception as error:  # the API unreachable: DNS, refused, TLS, timeout
        reason = getattr(error, "reason", None) or error
        raise ServeError(
            f"Slack's API at {settings.api_url} did not answer auth.test: {reason}"
        ) from None


def check_listen(host: str, port: int) -> None:
    """The port can be bound (else one clear line, not gunicorn's five retries)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _warm(services: Services, who: str) -> None:
    """The search index built (or caught up) now: a cold first search would take seconds
    at 100,000 briefs, and the dispatcher would then defer the next several searches. A
    database that does not answer is logged once; the first search catches up instead."""
    started = time.perf_counter()
    try:
        before, now = warm_search_index(services.engine)
    except DBAPIError as error:
        services.outage.record(error)
        return
    log.info(
        "%s: search index at revision %s (%s) in %.0f ms",
        who,
        now,
        "built" if before < 0 else f"caught up from revision {before}",
        (time.perf_counter() - started) * 1000,
    )


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
    _warm(services, "the server")
    services.close()
    PolicybotServer(settings, services.clock, mode).serve()


# ---------------------------------------------------------------- Socket Mode


def serve_socket_mode(settings: Settings, services: Services) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    _warm(services, "this process")
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


def finish_deferred_replies(pending: Callable[[], int], deadline: float) -> int:
    """Wait until no deferred (response_url) reply is queued or running, or the deadline;
    one WARNING line if any were left at the end of the requests. Returns how many are
    abandoned (0: all sent)."""
    queued = pending()
    if not queued:
        return 0
    while pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = pending()
    if left:
        log.warning(
            "shutdown: %s of the %s deferred replies still queued when requests stopped are "
            "abandoned (not sent within POLICYBOT_DRAIN_SECONDS)",
            left,
            queued,
        )
    else:
        log.warning(
            "shutdown: %s deferred replies were still queued when requests stopped: all sent",
            queued,
        )
    return left


# ---------------------------------------------------------------- gunicorn


class GunicornLog(GunicornLogger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's own lines through policybot's logging (its format, its secret masking)
    instead of handlers of gunicorn's; no access log (one line per request)."""

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        self._access_log_enabled = False
        self.loglevel = logging.NOTSET
        self.error_log.handlers[:] = []
        self.error_log.setLevel(logging.NOTSET)
        self.error_log.propagate = True
        self.access_log.handlers[:] = []

    @property
    def access_log_enabled(self) -> bool:
        return False

    def reopen_files(self) -> None:
        return

    def close_on_exec(self) -> None:
        return


class PolicybotServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's arbiter with policybot's settings: `serve()` runs it until SIGTERM."""

    def __init__(self, settings: Settings, clock: Clock, mode: Mode) -> None:
        self.settings = settings
        self.clock = clock
        self.mode = mode
        # The scheduler seat's lock file, in a folder only this user can enter.
        self.seat_folder = tempfile.mkdtemp(prefix="policybot-serve-")
        self.seat_path = os.path.join(self.seat_folder, "scheduler.lock")
        with open(self.seat_path, "w"):
            pass
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        options: dict[str, Any] = {
            "bind": [f"{host}:{settings.port}"],
            "workers": settings.web_workers,
            "worker_class": PolicybotWorker,
            "threads": settings.http_threads,
            # Connections waiting for a request cost a poller slot, not a thread.
            "worker_connections": settings.connection_limit,
            "keepalive": settings.idle_timeout,
            "graceful_timeout": int(settings.drain_seconds + KILL_GRACE_SECONDS),
            "timeout": int(max(30, settings.drain_seconds + KILL_GRACE_SECONDS)),
            "backlog": 1024,
            "preload_app": True,
            "proc_name": "policybot",
            "logger_class": GunicornLog,
            "control_socket_disable": True,  # a thread in the arbiter, and nothing uses it
            "pre_fork": self.assign_index,
            "on_exit": self._on_exit,
        }
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self) -> WsgiApp:
        # Runs in the arbiter (preload): modules are imported and the index is built by
        # then; everything a request needs is built per worker (PolicybotWorker.load_wsgi).
        def not_started(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
            return _json(start_response, "503 Service Unavailable", {"status": "starting"})

        return not_started

    @staticmethod
    def assign_index(arbiter: Any, worker: Any) -> None:
        """Each worker gets the smallest index no live worker has: a replacement takes the
        index (and the metrics port) of the worker it replaces."""
        taken = {getattr(w, "index", None) for w in arbiter.WORKERS.values()}
        worker.index = next(i for i in range(len(taken) + 1) if i not in taken)

    def _on_exit(self, _arbiter: Any) -> None:
        shutil.rmtree(self.seat_folder, ignore_errors=True)
        log.info("stopped")

    def serve(self) -> None:
        _raise_open_files_limit()
        arbiter = os.getpid()
        try:
            self.run()
        except SystemExit as done:
            if os.getpid() != arbiter:
                raise  # a worker leaving: its exit unwinds the stack it inherited
            if done.code not in (0, None):
                # gunicorn said why (a worker could not boot, the port); one exit status.
                raise SystemExit(1) from None
        finally:
            if os.getpid() == arbiter:
                shutil.rmtree(self.seat_folder, ignore_errors=True)


def _raise_open_files_limit() -> None:
    """Every connection is a file: the soft limit (often 1,024) up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class OpsListener:
    """A worker's operations listener (metrics_port + its index): a thread per connection,
    on an interface of its own (POLICYBOT_METRICS_HOST)."""

    def __init__(self, wsgi: WsgiApp, host: str, port: int) -> None:
        self.server = make_server(
            host, port, wsgi, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SchedulerSeat:
    """At most one worker runs the scheduler: the one holding an exclusive flock on a file
    the arbiter made. Each worker waits for it on a thread of its own; the kernel releases it
    when its holder exits (SIGTERM, a crash, SIGKILL), and one waiting worker takes over."""

    def __init__(self, path: str, take: Callable[[], bool]) -> None:
        """`take()` starts the scheduler in this worker, or returns False (stopping)."""
        self.path = path
        self.take = take
        self.fd: int | None = None
        threading.Thread(target=self._wait, name="policybot-scheduler-seat", daemon=True).start()

    def _wait(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return  # the server is gone (the arbiter removed the file as it exited)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            return
        self.fd = fd  # held until this process exits
        if not self.take():
            self.fd = None
            os.close(fd)  # stopping: the seat goes to a worker that is not


class _KeptPipeQueue:
    """gthread's queue of callbacks for its loop, minus closing its pipe when the loop ends:
    a request thread still running after the drain would write its wake-up byte into
    whatever file took the pipe's number (a socket opened since, as waitress once did)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        return  # the process exits soon after; the pipe goes with it


class PolicybotWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's threaded worker, with requests read in its event loop: a connection takes
    a thread only once its request head (and a body of declared length) has arrived whole.
    A client trickling its request holds no thread, and is closed when it has not finished
    within POLICYBOT_IDLE_TIMEOUT; health probes and Slack's requests are answered meanwhile.

    Each worker builds its own services, Bolt app, metrics listener and scheduler seat when
    it starts (nothing of the kind crosses the fork)."""

    index: int
    app: PolicybotServer
    method_queue: Any

    def init_process(self) -> None:
        self.gathering: deque[TConn] = deque()
        self.stopping_at: float | None = None
        self.services: Services | None = None
        self.ops: OpsListener | None = None
        self.scheduler: Any = None
        self.ticker: Any = None
        self._state_lock = threading.Lock()
        super().init_process()
        self.method_queue = _KeptPipeQueue(self.method_queue)

    # -- start and stop ----------------------------------------------------------------

    def load_wsgi(self) -> None:
        settings = self.app.settings
        # This worker drains within POLICYBOT_DRAIN_SECONDS; the arbiter waits a little longer
        # before it kills (its own copy of the setting).
        self.cfg.set("graceful_timeout", settings.drain_seconds)
        try:
            services = self.services = build_services(settings, self.app.clock, prepare=False)
            _warm(services, f"worker {self.index}")
            app = build_app(services, token_verification=False)  # the arbiter checked it
            self.wsgi = tag_worker(make_wsgi_app(app, services), self.index)
            self.ticker = build_ticker(services)
            if settings.metrics_port is not None:
                # Metrics are per process: each worker on a port of its own.
                self.ops = OpsListener(
                    make_ops_wsgi_app(services),
                    settings.metrics_host,
                    settings.metrics_port + self.index,
                )
                log.info("worker %s serving /metrics on port %s", self.index, self.ops.port)
        except Exception as error:
            # One line with the reason, then gunicorn stops the server (a worker that
            # cannot start would not start on a retry either).
            log.error("worker %s could not start: %s", self.index, startup_failure(error))
            log.debug("worker start-up failure", exc_info=True)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
        if settings.scheduler_enabled:
            services.scheduler.role = "in another worker"
            SchedulerSeat(self.app.seat_path, self._take_scheduler)
        log.info(
            "worker %s (pid %s) serving HTTP on %s:%s (%s mode)",
            self.index,
            self.pid,
            settings.host,
            settings.port,
            self.app.mode,
        )

    def _take_scheduler(self) -> bool:
        with self._state_lock:
            if not self.alive or self.stopping_at is not None or self.services is None:
                return False
            services = self.services
            self.scheduler = start_background_ticker(
                self.ticker, services.clock, self.app.settings.tick_seconds, services.scheduler
            )
        log.info("worker %s runs the scheduler", self.index)
        return True

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.stopping_at is None:
            self.stopping_at = time.monotonic()
            log.info("worker %s received %s: draining", self.index, signal.Signals(sig).name)
            if self.ticker is not None:
                self.ticker.stop()  # the running tick finishes its posts in flight
        super().handle_exit(sig, frame)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._finish()

    def _finish(self) -> None:
        """After the requests: the scheduler's last tick, deferred replies, the listeners."""
        settings = self.app.settings
        stopped_at = self.stopping_at if self.stopping_at is not None else time.monotonic()
        with self._state_lock:
            scheduler, self.stopping_at = self.scheduler, stopped_at
        if scheduler is not None:
            log.info("stopping the scheduler (finishing the posts in flight)")
            scheduler.shutdown(wait=True)
        abandoned = 0
        services = self.services
        if services is not None and services.pending_replies is not None:
            abandoned = finish_deferred_replies(
                services.pending_replies, stopped_at + settings.drain_seconds
            )
        if self.ops is not None:
            self.ops.close()
        if services is not None:
            services.close()
        log.info("worker %s (pid %s) stopped", self.index, self.pid)
        if abandoned:
            # The interpreter would wait for the pool's threads at exit (and be killed).
            logging.shutdown()
            os._exit(0)

    # -- reading requests in the loop --------------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._gather(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        # A kept-alive connection's next request is read in the loop too.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gather(conn)

    def _gather(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.head = bytearray()
        conn.deadline = time.monotonic() + self.app.settings.idle_timeout
        if self.stopping_at is not None:
            conn.deadline = min(conn.deadline, time.monotonic() + STOP_LINGER_SECONDS)
        self.gathering.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))

    def _on_bytes(self, conn: TConn, _sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)  # the client went away
            return
        conn.head += data
        if not _request_complete(conn.head, self.app.settings.max_body_bytes):
            if len(conn.head) > MAX_HEAD_BYTES + self.app.settings.max_body_bytes:
                self._drop(conn)
            return
        self.poller.unregister(conn.sock)
        self.gathering.remove(conn)
        conn.sock.setblocking(True)
        # The thread's own reads and writes (a chunked body, a client that does not read
        # its answer) give up after the idle timeout too, instead of holding the thread.
        limit = struct.pack("ll", self.app.settings.idle_timeout, 0)
        for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
            conn.sock.setsockopt(socket.SOL_SOCKET, option, limit)
        conn.init()
        conn.parser.unreader.unread(bytes(conn.head))
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: TConn) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        with contextlib.suppress(ValueError):
            self.gathering.remove(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if self.stopping_at is not None:
            linger = self.stopping_at + STOP_LINGER_SECONDS
            for conn in self.gathering:
                conn.deadline = min(conn.deadline, linger)
        for conn in [c for c in self.gathering if c.deadline <= now]:
            self._drop(conn)  # too slow: its request did not arrive within the idle timeout

    def murder_keepalived(self, force: bool = False) -> None:
        super().murder_keepalived(force)
        if force:
            for conn in list(self.gathering):
                self._drop(conn)


_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)


def _request_complete(received: bytearray, max_body: int) -> bool:
    """A whole request head has arrived, and the body it declares (up to `max_body`: a
    larger one is refused from its length, unread). A chunked body is read by its thread,
    up to the limit, under the socket's timeout."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        end = received.find(b"\n\n")
        if end < 0:
            return False
        head, body_at = received[:end], end + 2
    else:
        head, body_at = received[:end], end + 4
    if _CHUNKED.search(head):
        return True
    declared = _CONTENT_LENGTH.search(head)
    if declared is None:
        return True
    length = int(declared.group(1))
    return length > max_body or len(received) - body_at >= length


def startup_failure(error: BaseException) -> str:
    """Why a worker could not start, in one line (the log's filter masks any secret in it)."""
    if isinstance(error, DBAPIError):
        reason = str(error.orig or error).strip().splitlines()
        return f"the database is unreachable: {reason[0] if reason else type(error).__name__}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}"[:500] if lines else type(error).__name__
