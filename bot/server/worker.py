"""PolicybotWorker: gunicorn's threaded worker, reading requests in its event loop, building
its own services when it starts and draining on SIGTERM."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from functools import partial
from typing import Any, Protocol

from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import TConn, ThreadWorker

from ...handlers.context import Clock
from ...scheduler.runner import start_background_ticker
from ..app import build_app
from ..services import Services, build_services, build_ticker
from ..settings import Mode, Settings
from .drain import finish_deferred_replies
from .ops_listener import OpsListener
from .request_head import MAX_HEAD_BYTES, request_complete
from .routes import make_ops_wsgi_app, make_wsgi_app, tag_worker
from .seat import SchedulerSeat
from .startup import startup_failure, warm_index

log = logging.getLogger(__name__)

# How long a stopping worker waits for a request a client is already sending.
STOP_LINGER_SECONDS = 2.0


class WorkerHost(Protocol):
    """What a worker reads from the gunicorn application that forked it (PolicybotServer)."""

    settings: Settings
    clock: Clock
    mode: Mode
    seat_path: str


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
    app: WorkerHost
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
            warm_index(services, f"worker {self.index}")
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
        if not request_complete(conn.head, self.app.settings.max_body_bytes):
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
