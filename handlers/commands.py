"""The one table of `/policy` commands, the help generated from it, and the runner."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.db import SessionFactory
from handlers import briefs
from handlers.context import Context
from handlers.grammar import FILTERS, UserError, clean_text
from handlers.replies import HelpEntry, Reply, Visibility

Handler = Callable[[Session, Context, str, int], Reply]
_PAGE = re.compile(r"(?:^|\s)page:(\d{1,4})\s*$", re.I)
_PREFIX = re.compile(r"^\s*/policy\b", re.I)
MAX_COMMAND_CHARS = 4000


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    examples: tuple[str, ...]
    handler: Handler
    aliases: tuple[str, ...] = ()


def _help(_session: Session, _ctx: Context, _text: str, _page: int) -> Reply:
    return help_reply()


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "search",
        "/policy <words> [filters] [share]",
        "Search briefs: titles (English and Chinese), summaries, goals and comments. "
        "Quote phrases, `-word` excludes; filters: "
        + ", ".join(f"`{f}:`" for f in FILTERS)
        + ". Add `share` to post the answer to the channel.",
        (
            "/policy storage",
            "/policy 储能",
            '/policy "smart factory" -pilot',
            "/policy body:MIIT since:2024-11-01 kind:policy",
            "/policy due:2027 share",
        ),
        lambda s, c, t, p: briefs.search(s, c, t, p),
    ),
    CommandSpec(
        "show",
        "/policy show <id>",
        "One brief in full: titles, bodies, date, summary, goals with countdowns, comment, links.",
        ("/policy show b2",),
        lambda s, c, t, p: briefs.show(s, c, t),
    ),
    CommandSpec(
        "latest",
        "/policy latest [n]",
        "The newest briefs (5 unless you ask for up to 50).",
        ("/policy latest", "/policy latest 10"),
        lambda s, c, t, p: briefs.latest(s, c, t, p),
        aliases=("new", "recent"),
    ),
    CommandSpec(
        "deadlines",
        "/policy deadlines [within 18m] [words and filters]",
        "Targets falling due in a window (default 24 months), soonest first, with countdowns.",
        ("/policy deadlines", "/policy deadlines within 18m storage", "/policy deadlines within 5y body:MIIT"),
        lambda s, c, t, p: briefs.deadlines(s, c, t, p),
        aliases=("deadline", "due"),
    ),
    CommandSpec(
        "help",
        "/policy help",
        "This list.",
        ("/policy help",),
        _help,
        aliases=("?", "-h", "--help"),
    ),
)
_BY_NAME = {name: spec for spec in COMMANDS for name in (spec.name, *spec.aliases)}


def help_reply() -> Reply:
    return Reply(
        text="policybot: search Chinese industrial-policy briefs and track their deadlines.",
        help=[HelpEntry(spec.usage, spec.summary, spec.examples) for spec in COMMANDS],
    )


@dataclass(frozen=True)
class ParsedCommand:
    spec: CommandSpec
    argument: str
    page: int
    share: bool


def parse_command(text: str) -> ParsedCommand:
    text = clean_text(_PREFIX.sub("", text, count=1)).strip()
    if len(text) > MAX_COMMAND_CHARS:
        text = text[:MAX_COMMAND_CHARS]
    page = 1
    if match := _PAGE.search(text):
        page = max(1, int(match.group(1)))
        text = text[: match.start()].strip()
    words = text.split()
    share = bool(words) and (words[-1].lower() == "share" or words[0].lower() == "share")
    if share:
        words = words[:-1] if words[-1].lower() == "share" else words[1:]
        text = " ".join(words)
    if not words:
        return ParsedCommand(_BY_NAME["help"], "", 1, share)
    spec = _BY_NAME.get(words[0].lower())
    if spec is None or spec.name == "search":
        return ParsedCommand(_BY_NAME["search"], text, page, share)
    return ParsedCommand(spec, text[len(words[0]) :].strip(), page, share)


class CommandRunner:
    """Runs command text against the store; the same for Slack, the console and `ask`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def run(self, text: str, ctx: Context) -> Reply:
        command = parse_command(text)
        try:
            with self.sessions() as session:
                reply = command.spec.handler(session, ctx, command.argument, command.page)
        except UserError as error:
            return Reply(text=str(error), is_error=True)
        if command.share and not reply.is_error:
            reply.visibility = Visibility.IN_CHANNEL
        return reply
