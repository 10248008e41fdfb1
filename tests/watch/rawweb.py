"""A hostile web server for the attack tests: raw sockets on 127.0.0.1 (port 0), so an
answer can break HTTP the ways a hostile or broken server does (a body that never ends, a
Content-Length that lies, headers dripped a byte at a time, endless 100 Continue).

Each connection runs `answer(connection, request_head)` in a thread of its own. Nothing
sleeps: a server that must wait waits on an Event the test sets when it is done
(`stop`), and a drip waits on it with a short timeout, so the test's end releases it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Answer = Callable[[socket.socket, bytes], None]


@dataclass
class RawSite:
    port: int
    stop: threading.Event
    requests: list[bytes] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # bytes written per connection
    gave_up: threading.Event = field(default_factory=threading.Event)  # a client hung up

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _read_head(connection: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


@contextmanager
def raw_serving(answer: Answer) -> Iterator[RawSite]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    site = RawSite(listener.getsockname()[1], stop)

    def serve_one(connection: socket.socket) -> None:
        with connection:
            head = _read_head(connection)
            site.requests.append(head)
            try:
                answer(connection, head)
            except OSError:
                site.gave_up.set()  # the client closed its end: it gave up

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve_one, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def send(connection: socket.socket, site: RawSite, data: bytes) -> None:
    connection.sendall(data)
    site.sent.append(len(data))


def drip(connection: socket.socket, site: RawSite, data: bytes, every: float) -> int:
    """Send `data` a byte at a time, `every` seconds apart (waiting on the stop Event),
    until the client hangs up or the test ends: the bytes it took."""
    for index in range(len(data)):
        try:
            connection.sendall(data[index : index + 1])
        except OSError:
            site.gave_up.set()
            return index
        if site.stop.wait(every):
            return index + 1
    return len(data)
