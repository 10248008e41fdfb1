"""The scheduler seat: which worker runs the scheduler, by an flock the kernel releases when
its holder exits however it exits."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable


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
