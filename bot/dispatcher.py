"""Commands run on a pool of their own, never on the request threads, and the ack never
waits on a busy pool: a command that has been slow lately, or any command while every
worker is busy, is acked "Working on it..." at once and answered through its response_url
when done; others get their reply in the ack when it is ready within the budget."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from ..handlers.commands import ParsedCommand
from ..handlers.context import Context
from ..handlers.replies import Reply
from .blocks import render_blocks
from .services import DATABASE_DOWN, Services
from .uploads import upload_attachment

log = logging.getLogger(__name__)

# Slack shows `operation_timeout` after 3 s; answer in the ack when the reply is ready well
# before that, otherwise ack at once and send the reply to the response_url when done.
ACK_BUDGET_SECONDS = 2.0
SORRY = "Sorry, something went wrong on my side. Please try again; if it keeps happening, tell your admin."
WORKING = "Working on it\u2026"
BUSY = "I'm busy right now; try again in a minute."


class CommandTimes:
    """How long each command has been taking lately (an exponential moving average), so a
    command that is slow on this corpus goes to respond() at once instead of holding the
    ack first: `deadlines` and `scorecard` take 1-2 s at 10,000 briefs, milliseconds on the
    demo corpus."""

    def __init__(self, slow_after: float, weight: float = 0.3) -> None:
        self.slow_after = slow_after
        self.weight = weight
        self._average: dict[str, float] = {}
        self._lock = threading.Lock()

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            before = self._average.get(name, seconds)
            self._average[name] = before + self.weight * (seconds - before)

    def is_slow(self, name: str) -> bool:
        with self._lock:
            return self._average.get(name, 0.0) > self.slow_after


class CommandPool:
    """A thread pool that knows whether a new task would have to queue."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="policy-command")
        self._running = 0
        self._deferred = 0  # replies promised to a response_url and not yet sent
        # The tasks not yet done, and those of them whose reply is deferred: a deferred
        # reply still being worked on is one thing pending, not two.
        self._live: set[Future[Any]] = set()
        self._deferred_live: set[Future[Any]] = set()
        self._lock = threading.Lock()

    @property
    def saturated(self) -> bool:
        with self._lock:
            return self._running >= self.workers

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet done, and deferred replies not yet sent (what a
        shutdown waits for)."""
        with self._lock:
            return self._running + self._deferred - len(self._deferred_live)

    @property
    def deferred(self) -> int:
        with self._lock:
            return self._deferred

    def defer(self, future: Future[Any]) -> None:
        """The reply of `future`'s task will go to a response_url: counted until `delivered`."""
        with self._lock:
            self._deferred += 1
            if future in self._live:
                self._deferred_live.add(future)

    def delivered(self) -> None:
        with self._lock:
            self._deferred -= 1

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            self._running += 1
        # The worker thread carries this request's id into its log lines.
        future = self.executor.submit(contextvars.copy_context().run, work, *args)
        with self._lock:
            self._live.add(future)
        future.add_done_callback(self._done)  # runs at once if the task is already done
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._running -= 1
            self._live.discard(future)
            self._deferred_live.discard(future)


class CommandDispatcher:
    def __init__(
        self, services: Services, budget: float = ACK_BUDGET_SECONDS, workers: int | None = None
    ) -> None:
        self.services = services
        self.budget = budget
        self.pool = CommandPool(workers or services.settings.command_workers)
        self.max_deferred = services.settings.max_deferred_replies
        self.times = CommandTimes(slow_after=budget / 4)
        self._shedding = False

    def overloaded(self, command: ParsedCommand) -> bool:
        """True (and counted) when the deferred replies are at their bound: the command is
        shed with BUSY at once rather than queued behind them."""
        if self.pool.deferred < self.max_deferred:
            self._shedding = False
            return False
        self.services.metrics.commands.labels(command.spec.name, "shed").inc()
        if not self._shedding:  # one line when shedding starts, not one per command
            self._shedding = True
            log.warning("shedding commands: %d replies are waiting to be sent", self.max_deferred)
        return True

    def answer(
        self,
        command: ParsedCommand,
        ctx: Context,
        ack: Ack,
        respond: Respond,
        client: WebClient | None = None,
    ) -> None:
        """A slash command: the reply in the ack when it is ready within the budget."""
        if self.overloaded(command):
            ack(text=BUSY, response_type="ephemeral")
            return
        defer = self.pool.saturated or self.times.is_slow(command.spec.name)
        future = self.pool.submit(self.run_measured, command, ctx)
        if not defer:
            try:
                reply = future.result(timeout=self.budget)
            except FutureTimeout:
                pass
            except DBAPIError as error:
                self.services.outage.record(error)
                ack(text=DATABASE_DOWN, response_type="ephemeral")
                return
            else:
                ack(**render_blocks(reply, command.text))
                self.upload(reply, ctx, client, respond)
                return
        ack(text=WORKING, response_type="ephemeral")
        self._answer_when_done(future, command.text, respond, ctx, client, replace=True, move=True)

    def answer_later(
        self,
        command: ParsedCommand,
        ctx: Context,
        respond: Respond,
        client: WebClient | None,
        replace: bool,
    ) -> None:
        """A button (already acked): the whole command runs on the pool, then respond()."""
        if self.overloaded(command):
            self._send(respond, text=BUSY, response_type="ephemeral", replace_original=False)
            return
        future = self.pool.submit(self.run_measured, command, ctx)
        self._answer_when_done(
            future, command.text, respond, ctx, client, replace=replace, move=False
        )

    @staticmethod
    def _send(respond: Respond, **message: Any) -> bool:
        try:
            respond(**message)
        except Exception as error:  # the response_url expired or Slack is unreachable
            log.warning("could not send a reply to the response_url: %s", error)
            return False
        return True

    def _answer_when_done(
        self,
        future: Future[Reply],
        text: str,
        respond: Respond,
        ctx: Context,
        client: WebClient | None,
        *,
        replace: bool,
        move: bool,
    ) -> None:
        """Answer through the response_url once `future` is done; it counts as deferred
        until that answer is sent. `move`: the reply may change where it shows (a shared
        answer replacing the private "Working on it"); otherwise an update keeps it in place."""

        def deliver(done: Future[Reply]) -> None:
            try:
                self._deliver(done, text, respond, ctx, client, replace, move)
            finally:
                self.pool.delivered()

        self.pool.defer(future)
        future.add_done_callback(deliver)

    def _deliver(
        self,
        done: Future[Reply],
        text: str,
        respond: Respond,
        ctx: Context,
        client: WebClient | None,
        replace: bool,
        move: bool,
    ) -> None:
        try:
            reply = done.result()
            payload = render_blocks(reply, text)
        except DBAPIError as error:
            self.services.outage.record(error)
            respond(text=DATABASE_DOWN, response_type="ephemeral", replace_original=replace)
            return
        except Exception:
            log.exception("a command failed")
            respond(text=SORRY, response_type="ephemeral", replace_original=replace)
            return
        if replace and not move:
            payload.pop("response_type", None)
        if self._send(respond, **payload, replace_original=replace):
            self.upload(reply, ctx, client, respond)

    def upload(
        self, reply: Reply, ctx: Context, client: WebClient | None, respond: Respond
    ) -> None:
        """A reply's file (a calendar export) goes to the channel off the request thread."""
        if reply.attachment is not None and client is not None:
            self.pool.submit(upload_attachment, client, reply, ctx.channel_id, respond)

    def run_measured(self, command: ParsedCommand, ctx: Context) -> Reply:
        """Run a command, counting it and timing it for /metrics and the log."""
        name = command.spec.name
        started = time.perf_counter()
        outcome = "error"
        try:
            reply = self.services.runner.execute(command, ctx)
            outcome = "refused" if reply.is_error else "ok"
            return reply
        finally:
            elapsed = time.perf_counter() - started
            self.times.record(name, elapsed)
            metrics = self.services.metrics
            metrics.commands.labels(name, outcome).inc()
            metrics.latency.labels(name).observe(elapsed)
            log.info(
                "command %s %s in %.0f ms",
                name,
                outcome,
                elapsed * 1000,
                extra={
                    "command": name,
                    "team": ctx.team_id,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
