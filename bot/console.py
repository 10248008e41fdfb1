"""The console: the same commands as Slack, typed at a prompt, answered as text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from ..handlers.commands import CommandRunner
from ..handlers.context import Clock, Context
from ..handlers.render_text import render_text
from ..handlers.replies import Reply

log = logging.getLogger(__name__)
PROMPT = "policy> "
BANNER = (
    "policybot console: type `/policy storage`, `/policy help`, `more` for the next page, "
    "or `quit`."
)


class ConsoleSession:
    """Runs typed lines; remembers the last reply's "More" command for `more`."""

    def __init__(
        self,
        runner: CommandRunner,
        clock: Clock,
        directory: Path | None = None,
        public_url: str = "",
    ) -> None:
        self.runner = runner
        self.clock = clock
        self.directory = directory  # where files from replies go (None: the current directory)
        # POLICYBOT_PUBLIC_URL: an admin on the production database can make calendar URLs.
        self.public_url = public_url
        self._more: str | None = None

    def handle(self, line: str) -> str:
        line = line.strip()
        if line.lower() in ("more", "/policy more"):
            if self._more is None:
                return "Nothing more to show.\n"
            line = self._more
        try:
            reply = self.runner.run(line, Context(now=self.clock(), public_url=self.public_url))
        except Exception:
            log.exception("command failed: %r", line[:200])
            return "Sorry, something went wrong on my side; the details are in the log.\n"
        self._more = _more_command(reply)
        return render_text(reply) + self._save_attachment(reply)

    def _save_attachment(self, reply: Reply) -> str:
        """Write a reply's file (a calendar export) and say where it went."""
        if reply.attachment is None:
            return ""
        path = (self.directory or Path.cwd()) / Path(reply.attachment.filename).name
        try:
            path.write_bytes(reply.attachment.content)
        except OSError as error:
            return f"  Could not save {path}: {error.strerror or error}\n"
        return f"  Saved to {path.resolve()}\n"


def _more_command(reply: Reply) -> str | None:
    return next((b.command for b in reply.buttons if b.label == "More"), None)


def run_console(
    session: ConsoleSession,
    lines: Iterable[str] | None = None,
    write: Callable[[str], object] = print,
    interactive: bool = True,
) -> None:
    if interactive:
        write(BANNER)
    source = lines if lines is not None else _prompt_lines()
    for line in source:
        if line.strip().lower() in ("quit", "exit", "/quit", ":q"):
            break
        if not line.strip():
            continue
        write(session.handle(line).rstrip("\n"))


def _prompt_lines() -> Iterable[str]:
    while True:
        try:
            yield input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return
