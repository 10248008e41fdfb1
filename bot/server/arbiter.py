"""PolicybotServer: gunicorn's arbiter, started in-process with policybot's settings, and
gunicorn's own log lines routed through policybot's logging."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import tempfile
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from ...handlers.context import Clock
from ..settings import Mode, Settings
from .drain import KILL_GRACE_SECONDS
from .routes import WsgiApp, json_reply
from .worker import PolicybotWorker

log = logging.getLogger(__name__)


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
            return json_reply(start_response, "503 Service Unavailable", {"status": "starting"})

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
