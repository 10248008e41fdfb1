"""A worker's operations listener (POLICYBOT_METRICS_PORT + its index): /metrics and the
probes on a stdlib server of its own, a thread per connection."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .routes import WsgiApp


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
