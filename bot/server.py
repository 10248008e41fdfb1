"""Runners for Slack: Socket Mode, or HTTP through Bolt's WSGI adapter on waitress.

HTTP serves `/slack/events` (checked by bot/edge.py before Bolt parses anything; and
`/slack/install`, `/slack/oauth_redirect` in OAuth mode), `/healthz` (the process is up),
`/readyz` (database reachable, migrations current, scheduler role) and `/metrics`
(Prometheus; optionally behind a token, or on a listener of its own). The search index is
built before the first request is taken. SIGTERM stops taking requests (new connections and
new requests on open ones), lets in-flight requests, deferred (response_url) replies and the
current scheduler tick finish within POLICYBOT_DRAIN_SECONDS, then exits.

With POLICYBOT_WEB_WORKERS > 1 (`serve --workers N`), HTTP is pre-forked: the parent binds the
port once and keeps N worker processes serving that one listening socket, each with its own
GIL and database engine; only worker 0 runs the scheduler. The parent builds the search
index once before forking (the workers share its arrays copy-on-write and each catches up
from the revision it inherited), then only supervises: it starts a new worker when one dies,
gives up (exit 1, one ERROR line) when workers keep dying before they are ready, and passes
SIGTERM on.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for_any
from multiprocessing.process import BaseProcess
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from waitress.channel import HTTPChannel

from policybot.bot.app import build_app
from policybot.bot.edge import EVENTS_PATH, GuardedSlackEndpoint, Refused, refuse
from policybot.bot.services import Services, build_services, build_ticker
from policybot.bot.settings import Mode, Settings
from policybot.data.db import pending_migrations
from policybot.data.search.live import warm as warm_search_index
from policybot.handlers.context import Clock
from policybot.scheduler.runner import start_background_ticker

log = logging.getLogger(__name__)

WsgiApp = WSGIApplication
WORKER_HEADER = "X-Policybot-Worker"  # which worker process answered (its index, not its pid)
# How long requests in flight and deferred replies may take after SIGTERM (the default of
# POLICYBOT_DRAIN_SECONDS); a worker still running KILL_GRACE_SECONDS later is killed.
DRAIN_SECONDS = 20.0
KILL_GRACE_SECONDS = 5.0
KILL_AFTER_SECONDS = DRAIN_SECONDS + KILL_GRACE_SECONDS
# Workers dying before they are ready this many times in a row: the parent gives up.
MAX_STARTUP_FAILURES = 5
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


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
    """waitress, stoppable from a signal handler: it stops accepting at once (the listening
    socket closes, and so does each kept-alive connection once it is idle, so no new request
    comes in), lets requests that are running or queued finish and their answers go out,
    then closes every connection and `run` returns."""

    def __init__(
        self,
        wsgi: WsgiApp,
        host: str = "",
        port: int = 0,
        *,
        sockets: list[socket.socket] | None = None,
        **limits: Any,
    ) -> None:
        """Binds host:port, or serves `sockets` already listening (a pre-forked worker)."""
        from waitress.server import create_server

        where: dict[str, Any] = {"sockets": sockets} if sockets else {"host": host, "port": port}
        self.server: Any = create_server(wsgi, **where, **limits)
        self.port: int = self.server.effective_port
        self._stopping = threading.Event()
        self.stopped_at: float | None = None  # time.monotonic() of the stop signal

    def run(self) -> None:
        self.server.run()
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)

    def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.stopped_at = time.monotonic()
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

        def close_idle() -> None:
            # A kept-alive connection between requests: closed before it brings a new one
            # (will_close also stops the loop reading from it).
            for channel in list(server._map.values()):
                if isinstance(channel, HTTPChannel) and not _busy(channel):
                    channel.will_close = True

        while True:
            self._in_loop(close_idle)
            if time.monotonic() >= deadline or not any(map(_busy, list(server._map.values()))):
                break
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
    if settings.web_workers > 1 and mode is Mode.SOCKET:
        log.warning("POLICYBOT_WEB_WORKERS is for HTTP: Socket Mode runs in one process")
    elif settings.web_workers > 1:
        # Built once here, single-threaded, before any fork: every worker inherits the
        # arrays (shared copy-on-write) and reads only the revisions written since.
        _warm(services, "the parent")
        # The parent's engine must not cross the fork: each worker builds its own.
        services.close()
        work = functools.partial(_worker_main, settings=settings, clock=services.clock, mode=mode)
        supervisor = Supervisor(
            settings.host,
            settings.port,
            settings.web_workers,
            work,
            drain_seconds=settings.drain_seconds,
        )
        try:
            supervisor.run()
        except WorkersFailed:
            raise SystemExit(1) from None  # the ERROR line said why
        return
    serve_process(settings, services, mode)


def _warm(services: Services, who: str) -> None:
    """The search index built (or caught up) now: a cold first search would take seconds
    at 100,000 briefs, and the dispatcher would then defer the next several searches."""
    started = time.perf_counter()
    before, now = warm_search_index(services.engine)
    log.info(
        "%s: search index at revision %s (%s) in %.0f ms",
        who,
        now,
        "built" if before < 0 else f"caught up from revision {before}",
        (time.perf_counter() - started) * 1000,
    )


def serve_process(
    settings: Settings,
    services: Services,
    mode: Mode,
    listener: socket.socket | None = None,
    worker: int | None = None,
    on_ready: Callable[[], object] | None = None,
) -> None:
    """One process serving: alone, or as pre-forked `worker` on the parent's `listener`.
    `on_ready` is called once everything is built, just before requests are taken."""
    _warm(services, "this process" if worker is None else f"worker {worker}")
    app = build_app(services)  # checks the bot token (auth.test)
    scheduler = None
    ticker = build_ticker(services)
    if settings.scheduler_enabled and not worker:  # alone, or worker 0
        scheduler = start_background_ticker(
            ticker, services.clock, settings.tick_seconds, services.scheduler
        )
    elif settings.scheduler_enabled:
        services.scheduler.role = "in worker 0"  # what this worker's /readyz says
    stopped_at = None
    try:
        stopped_at = _run(app, settings, services, mode, listener, worker, on_ready)
    finally:
        if scheduler is not None:
            # The running tick finishes the posts in flight and hands the rest back.
            log.info("stopping the scheduler (finishing the posts in flight)")
            ticker.stop()
            scheduler.shutdown(wait=True)
    abandoned = 0
    if stopped_at is not None and services.pending_replies is not None:
        abandoned = finish_deferred_replies(
            services.pending_replies, stopped_at + settings.drain_seconds
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


def _run(
    app: App,
    settings: Settings,
    services: Services,
    mode: Mode,
    listener: socket.socket | None = None,
    worker: int | None = None,
    on_ready: Callable[[], object] | None = None,
) -> float | None:
    """Serve until a stop signal; returns when it came (time.monotonic()), if it did."""
    stop = threading.Event()
    stopped_at: list[float] = []
    if mode is Mode.SOCKET:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, settings.app_token)

        def stop_socket_mode() -> None:
            stopped_at.append(time.monotonic())
            stop.set()
            handler.close()  # type: ignore[no-untyped-call]

        _on_sigterm(stop_socket_mode)
        log.info("starting in Socket Mode")
        handler.connect()  # type: ignore[no-untyped-call]
        stop.wait()
        return stopped_at[0]
    limits = waitress_limits(settings)
    wsgi = make_wsgi_app(app, services)
    if worker is not None:
        wsgi = tag_worker(wsgi, worker)
    if listener is not None:
        server = GracefulServer(wsgi, sockets=[listener], **limits)
    else:
        server = GracefulServer(wsgi, settings.host, settings.port, **limits)
    ops = None
    if settings.metrics_port is not None:
        # One metrics listener per worker (metrics are per process): metrics_port + index.
        ops_port = settings.metrics_port + (worker or 0)
        ops = GracefulServer(
            make_ops_wsgi_app(services), settings.metrics_host, ops_port, threads=2
        )
        threading.Thread(target=ops.run, name="policybot-ops", daemon=True).start()
        log.info("serving /metrics on %s:%s", settings.metrics_host, ops.port)

    def stop_all() -> None:
        server.stop(settings.drain_seconds)
        if ops is not None:
            ops.stop(settings.drain_seconds)

    _on_sigterm(stop_all)
    who = "" if worker is None else f"worker {worker} (pid {os.getpid()}) "
    log.info("%sserving HTTP on %s:%s (%s mode)", who, settings.host, server.port, mode)
    if on_ready is not None:
        on_ready()
    server.run()
    return server.stopped_at


def tag_worker(wsgi: WsgiApp, worker: int) -> WsgiApp:
    """Every answer names the worker that gave it (its index: nothing a client could use)."""
    header = (WORKER_HEADER, str(worker))

    def tagged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, header], exc_info)

        return wsgi(environ, start)

    return tagged


# ---------------------------------------------------------------- pre-forked workers


def bind_listener(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The listening socket every worker inherits (waitress's own backlog)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(backlog)
    except OSError:
        listener.close()
        raise
    return listener


def _worker_main(
    index: int, listener: socket.socket, *, settings: Settings, clock: Clock, mode: Mode
) -> None:
    """A policybot worker process: its own engine and services, serving the inherited socket
    once its search index has caught up (it reports ready then)."""
    services = build_services(settings, clock, prepare=False)  # the parent prepared it
    try:
        serve_process(settings, services, mode, listener, index, on_ready=report_ready)
    finally:
        services.close()


# In a worker: its end of the line to the parent, and whether it has said it is ready.
_to_parent: Connection | None = None
_reported_ready = False


def report_ready() -> None:
    """Tell the supervisor this worker is serving (a worker that never says so and dies
    counts as one that could not start)."""
    global _reported_ready
    if _to_parent is not None and not _reported_ready:
        _to_parent.send(("ready", ""))
    _reported_ready = True


def startup_failure(error: BaseException) -> str:
    """Why a worker could not start, in one line (the log's filter masks any secret in it)."""
    if isinstance(error, DBAPIError):
        reason = str(error.orig or error).strip().splitlines()
        return f"the database is unreachable: {reason[0] if reason else type(error).__name__}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}"[:500] if lines else type(error).__name__


def _in_worker(
    work: Callable[[int, socket.socket], None],
    index: int,
    sock: socket.socket,
    to_parent: Connection,
) -> None:
    global _to_parent
    _to_parent = to_parent
    # The parent's handlers are not ours; its fork left the stop signals blocked.
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        work(index, sock)
    except Exception as error:
        if _reported_ready:
            log.exception("worker %s (pid %s) failed", index, os.getpid())
        else:
            # One line, sent to the parent, which logs it: not a traceback per restart.
            log.debug("worker %s (pid %s) could not start", index, os.getpid(), exc_info=True)
            with contextlib.suppress(OSError):
                to_parent.send(("failed", startup_failure(error)))
        raise SystemExit(1) from None
    # On return, multiprocessing joins this process's threads (threading._shutdown) before
    # it exits: replies still being posted to a response_url are sent, not cut off.


class WorkersFailed(RuntimeError):
    """Workers kept dying before they were ready: the supervisor stopped."""


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    started: float
    status: Connection  # what the worker reports: ready, or why it could not start
    failures: int = 0  # deaths in a row soon after starting: the restart waits longer
    ready: bool = False
    failure: str | None = None
    status_open: bool = True


class Supervisor:
    """The parent of the pre-forked workers.

    Why one inherited socket rather than SO_REUSEPORT: with SO_REUSEPORT every worker has an
    accept queue of its own, and connections waiting in a worker's queue are reset when that
    worker closes it (SIGTERM, a crash); with one shared socket a worker that stops accepting
    leaves the queue to the others, the parent keeps the socket open for a replacement worker,
    and no other program can bind the port beside us.

    Why the scheduler runs in worker 0, not here: the parent stays single-threaded, so that
    forking a replacement worker never copies a lock some other thread was holding.
    """

    def __init__(
        self,
        host: str,
        port: int,
        workers: int,
        work: Callable[[int, socket.socket], None],
        *,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        """`work(index, listener)` is one worker's life: it serves `listener` until SIGTERM
        (calling `report_ready()` when it starts serving), within `drain_seconds` of it."""
        self.host, self.port, self.count, self.work = host, port, workers, work
        self.kill_after = drain_seconds + KILL_GRACE_SECONDS
        self.context = multiprocessing.get_context("fork")
        self.workers: dict[int, _Worker] = {}
        self.restarts: dict[int, tuple[float, int]] = {}  # index -> (when, failures so far)
        self.stopping_since: float | None = None
        self.listener: socket.socket | None = None
        self.startup_failures = 0  # workers dead before they were ready, in a row
        self.gave_up: str | None = None  # why, once the supervisor has given up
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)

    def run(self) -> None:
        """Serve until a stop signal; WorkersFailed if the workers keep failing to start."""
        listener = self.listener = bind_listener(self.host, self.port)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        try:
            log.info(
                "serving HTTP on %s:%s with %s worker processes (pid %s supervises)",
                self.host,
                listener.getsockname()[1],
                self.count,
                os.getpid(),
            )
            for index in range(self.count):
                self._start(index)
            self._supervise()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._close_listener()
            for worker in self.workers.values():
                worker.status.close()
            os.close(self._wake_read)
            os.close(self._wake_write)
        if self.gave_up is not None:
            raise WorkersFailed(self.gave_up)
        log.info("stopped")

    def _on_signal(self, signum: int, _frame: object) -> None:
        # Only wake the loop: it does the rest outside the signal handler.
        with contextlib.suppress(BlockingIOError):  # full: the loop is awake already
            os.write(self._wake_write, bytes([signum]))

    def _start(self, index: int, failures: int = 0) -> None:
        assert self.listener is not None
        status, to_parent = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_in_worker,
            args=(self.work, index, self.listener, to_parent),
            name=f"policybot-worker-{index}",
        )
        # A stop signal arriving during the fork waits until the worker has its own handlers
        # (otherwise the parent's handler would run in the child, waking the parent).
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            to_parent.close()  # the worker's end: ours closed, its death reads as EOF
        self.workers[index] = _Worker(index, process, time.monotonic(), status, failures)

    def _supervise(self) -> None:
        while self.workers or (self.restarts and self.stopping_since is None):
            statuses = {w.status: w for w in self.workers.values() if w.status_open}
            ready = wait_for_any(
                [
                    self._wake_read,
                    *(w.process.sentinel for w in self.workers.values()),
                    *statuses,
                ],
                self._timeout(),
            )
            if self._wake_read in ready:
                signals = os.read(self._wake_read, 64)
                if self.stopping_since is None:
                    name = signal.Signals(signals[0]).name
                    log.info("received %s: stopping %s workers", name, len(self.workers))
                    self._begin_stop()
            for status in [s for s in statuses if s in ready]:
                self._read_status(statuses[status])
            for worker in [w for w in self.workers.values() if w.process.exitcode is not None]:
                self._reap(worker)
            now = time.monotonic()
            for index, (when, failures) in list(self.restarts.items()):
                if when <= now and self.stopping_since is None:
                    del self.restarts[index]
                    self._start(index, failures)
            if self.stopping_since is not None and now - self.stopping_since > self.kill_after:
                for worker in self.workers.values():
                    log.warning(
                        "worker %s (pid %s) still running %.0f s after the stop signal: killing it",
                        worker.index,
                        worker.process.pid,
                        self.kill_after,
                    )
                    worker.process.kill()
                self.stopping_since = now  # the kills are reaped on the next round

    def _timeout(self) -> float | None:
        now = time.monotonic()
        if self.stopping_since is not None:
            return max(0.0, self.stopping_since + self.kill_after - now) + 0.01
        if self.restarts:
            return max(0.0, min(when for when, _ in self.restarts.values()) - now)
        return None

    def _read_status(self, worker: _Worker) -> None:
        """What the worker said: ready, or why it could not start (EOF: it has gone)."""
        try:
            while worker.status.poll():
                kind, detail = worker.status.recv()
                if kind == "ready":
                    worker.ready = True
                    self.startup_failures = 0  # one worker starts: the others can too
                elif kind == "failed":
                    worker.failure = str(detail)
        except (EOFError, OSError):
            worker.status_open = False

    def _begin_stop(self) -> None:
        self.stopping_since = time.monotonic()
        self.restarts.clear()
        # Our copy of the socket only; it stays open in workers still draining.
        self._close_listener()
        for worker in self.workers.values():
            if worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)

    def _reap(self, worker: _Worker) -> None:
        process = worker.process
        process.join()
        self._read_status(worker)  # a failure reported just before it exited
        worker.status.close()
        del self.workers[worker.index]
        code = process.exitcode or 0
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
        if self.stopping_since is not None:
            log.info("worker %s (pid %s) exited with %s", worker.index, process.pid, how)
            return
        if not worker.ready:
            self.startup_failures += 1
            why = worker.failure or f"it exited with {how}"
            if self.startup_failures >= MAX_STARTUP_FAILURES:
                # Restarting would not help (Slack refuses the token, the database is down):
                # stop, and say why once, as the worker reported it.
                self.gave_up = why
                log.error(
                    "workers cannot start (%s in a row died before they were ready): %s; stopping",
                    self.startup_failures,
                    why,
                )
                self._begin_stop()
                return
        # A worker that dies at once is not restarted in a loop: each restart waits longer.
        lived = time.monotonic() - worker.started
        failures = worker.failures + 1 if not worker.ready or lived < 5 else 0
        delay = min(30.0, 0.5 * 2**failures) if failures else 0.0
        log.warning(
            "worker %s (pid %s) exited unexpectedly with %s%s: starting another%s",
            worker.index,
            process.pid,
            how,
            "" if worker.ready else f" before it was ready ({worker.failure or 'no reason given'})",
            f" in {delay:.1f} s" if delay else "",
        )
        self.restarts[worker.index] = (time.monotonic() + delay, failures)

    def _close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None


def _on_sigterm(action: Callable[[], object]) -> None:
    def handle(signum: int, _frame: object) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        action()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)
