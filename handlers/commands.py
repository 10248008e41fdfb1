"""The one table of `/policy` commands, the help generated from it, and the runner.

A command is a row of `COMMANDS`: its name (one word, or two for a sub-command such as
`deadlines ics`), usage, summary, examples and handler, and the Slack form it opens, if any.
A handler gets one `Request` (session, context, argument, page) and returns a Reply;
`CommandRunner` owns the transaction (commit after a reply, roll back after an error), so a
handler never commits and bad input changes nothing. Text is read once (`parse_command`)
and the ParsedCommand is handed on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from ..data.db import SessionFactory, unit_of_work
from ..data.errors import UserError
from ..data.query.language import FILTERS, clean_text
from . import (
    add_brief,
    admin,
    briefs,
    calendar,
    charts,
    export,
    listing,
    notes,
    previews,
    reminders,
    scorecard,
    sources,
    subscriptions,
)
from .context import Context
from .replies import HelpEntry, Reply, Visibility
from .request import Request

Handler = Callable[[Request], Reply]
_PAGE = re.compile(r"page:(\d{1,4})", re.I)
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
    # What must follow an alias for it to mean this command: "new 10" lists the latest
    # briefs, "new energy" searches. None: an alias always means the command.
    alias_argument: re.Pattern[str] | None = None
    # Reads only: runs beside other people's writes instead of queueing behind them on
    # SQLite. Enforced: a write in a read-only command fails (see data.db.reading).
    read_only: bool = False
    # The Slack form this command opens instead of running (bot/listeners/commands.py maps
    # the name to its opener; the console and `ask` always run the handler): "" for none.
    form: str = ""
    # False: only the name alone opens the form (`/policy subscribe`; `/policy subscribe
    # storage` runs). True: whatever follows the name opens it too, pre-filled from it.
    form_takes_argument: bool = False


def _help(request: Request) -> Reply:
    return help_reply(request.argument)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        briefs.SEARCH_COMMAND,
        "/policy [search] <words> [filters] [share]",
        "Search briefs: titles (English and Chinese), summaries, goals and comments, best match "
        "first. Quote phrases, `-word` or `NOT word` excludes, `OR` between words, `prefix*`; "
        "plain questions work (`what did NDRC publish last month`, `targets for 2027`). "
        "Filters: "
        + ", ".join(f"`{f}:`" for f in FILTERS)
        + " (`kind:company` for companies' own commitments in deadlines, reminders and the "
        "scorecard). Add `share` to post the answer to the channel; `more` in the console "
        "shows the next page.",
        (
            "/policy storage",
            "/policy 储能",
            '/policy "smart factory"',
            "/policy smart -factory",
            "/policy body:MIIT since:2024-11-01 kind:policy",
            "/policy due:2027 share",
        ),
        briefs.search,
        read_only=True,
    ),
    CommandSpec(
        "show",
        "/policy show <id>",
        "One brief in full: titles, bodies, date, summary, goals with countdowns, comment, links.",
        ("/policy show b2",),
        briefs.show,
        read_only=True,
    ),
    CommandSpec(
        "list",
        "/policy list <ids>",
        "Named briefs, five a page (a goal id names its brief): what a capped digest lists.",
        ("/policy list b3 b7 g5",),
        listing.list_briefs,
        read_only=True,
    ),
    CommandSpec(
        "note",
        "/policy note <brief-id> [text]",
        "Your workspace's note on a brief (who, when): shown with it, in digests and in your "
        "searches, never to another workspace. Without text: the brief's notes.",
        ("/policy note b2 Final version expected in spring.", "/policy note b2"),
        notes.note,
    ),
    CommandSpec(
        "latest",
        "/policy latest [n]",
        "The newest briefs (5 unless you ask for up to 50).",
        ("/policy latest", "/policy latest 10"),
        briefs.latest,
        read_only=True,
        aliases=("new", "recent"),
        alias_argument=re.compile(r"\d*"),
    ),
    CommandSpec(
        "deadlines",
        "/policy deadlines [within 18m] [words and filters]",
        "Targets falling due in a window (default 24 months), soonest first, with countdowns.",
        (
            "/policy deadlines",
            "/policy deadlines within 18m storage",
            "/policy deadlines within 5y body:MIIT",
        ),
        briefs.deadlines,
        read_only=True,
        aliases=("deadline",),
    ),
    CommandSpec(
        "deadlines ics",
        "/policy deadlines ics [within 18m] [words and filters]",
        "The same deadlines as a calendar file (.ics) posted to the channel: every future "
        "deadline unless you say `within`; importing a newer file updates the events.",
        ("/policy deadlines ics", "/policy deadlines ics within 24m storage"),
        lambda request: export.export_reply(request, "ics"),
        read_only=True,
        aliases=("deadline ics",),
    ),
    CommandSpec(
        "deadlines csv",
        "/policy deadlines csv [within 18m] [words and filters]",
        "The deadlines as a spreadsheet (.csv) posted to the channel: every future deadline "
        "unless you say `within`, with your workspace's answers.",
        ("/policy deadlines csv within 24m body:MIIT",),
        lambda request: export.export_reply(request, "csv"),
        read_only=True,
        aliases=("deadline csv",),
    ),
    CommandSpec(
        "subscribe",
        "/policy subscribe [words and filters] [instant|daily|weekdays|weekly <day>|every <day>|"
        "monthly [on the 15th]] [at HH:MM] [tz ZONE]",
        "This channel gets new matching briefs as a digest (default: daily at 09:00 in your "
        "time zone), each brief once. Same words and filters as search. The reply shows what it "
        "would have delivered over the last 30 days. Alone, it opens a form in Slack.",
        (
            "/policy subscribe storage",
            "/policy subscribe body:MIIT weekly monday at 08:30",
            "/policy subscribe semiconductors weekdays at 8am tz Asia/Shanghai",
            "/policy subscribe kind:policy monthly on the 1st",
            "/policy subscribe kind:news instant tz Europe/Berlin",
        ),
        subscriptions.subscribe,
        form="subscribe",
    ),
    CommandSpec(
        "sample",
        "/policy sample <subscription-id>",
        "Post to this channel what a subscription would have delivered in the last 30 days.",
        ("/policy sample s3",),
        previews.sample,
        read_only=True,
    ),
    CommandSpec(
        "subscriptions",
        "/policy subscriptions",
        "This channel's subscriptions and reminder rules, with ids, schedules, next delivery and "
        "any pause.",
        ("/policy subscriptions",),
        subscriptions.subscriptions,
        read_only=True,
        aliases=("subs", "reminders", "settings"),
    ),
    CommandSpec(
        "unsubscribe",
        "/policy unsubscribe <id>",
        "Stop a subscription of this channel.",
        ("/policy unsubscribe s3",),
        subscriptions.unsubscribe,
    ),
    CommandSpec(
        "unsubscribe all",
        "/policy unsubscribe all",
        "Stop every subscription of this channel.",
        ("/policy unsubscribe all",),
        subscriptions.unsubscribe_all,
    ),
    CommandSpec(
        "quiet",
        "/policy quiet HH:MM-HH:MM [tz ZONE]",
        "Quiet hours for this channel: instant alerts wait until they end.",
        ("/policy quiet 20:00-08:00", "/policy quiet 22:00-07:00 tz Europe/Berlin"),
        subscriptions.quiet,
    ),
    CommandSpec(
        "quiet off",
        "/policy quiet off",
        "No quiet hours: instant alerts post as they arrive.",
        ("/policy quiet off",),
        subscriptions.quiet_off,
        aliases=("quiet none",),
    ),
    CommandSpec(
        "remind",
        "/policy remind [words and filters] [leads 365,180,90,30,7] [at HH:MM] [tz ZONE]",
        "Alerts in this channel before matching goals fall due (default: 365, 180, 90, 30 and 7 "
        "days before, at 09:00 your time), and a follow-up when a deadline passes.",
        ("/policy remind", "/policy remind storage leads 90,30,7"),
        reminders.remind,
        form="remind",
    ),
    CommandSpec(
        "remind off",
        "/policy remind off [id]",
        "Turn off one reminder rule of this channel, or all of them.",
        ("/policy remind off r2", "/policy remind off"),
        reminders.remind_off,
    ),
    CommandSpec(
        "status",
        "/policy status <goal-id> met|missed|unclear [note]",
        "Record whether a target was met (for your workspace).",
        ("/policy status g5 met", "/policy status g1 missed only 12 of 30 data nodes built"),
        scorecard.status,
    ),
    CommandSpec(
        "scorecard",
        "/policy scorecard [words and filters]",
        "Targets whose deadline passed or that were answered: met, missed, unclear, awaiting an "
        "answer; per brief and per issuing body.",
        ("/policy scorecard", "/policy scorecard body:MIIT"),
        scorecard.scorecard,
        read_only=True,
    ),
    CommandSpec(
        "add",
        "/policy add [pasted text]",
        "Add one brief to the shared corpus (admins): in Slack a form, pre-filled from pasted "
        "text, with deadlines read from the goals as you type. The console shows what the "
        "text gives.",
        ("/policy add", "/policy add Article: ... Issuing body: MIIT Date: 2024-11-07 ..."),
        add_brief.add_preview,
        form="add",
        form_takes_argument=True,
    ),
    CommandSpec(
        "forget",
        "/policy forget <brief-id>",
        "Admins only: remove a brief from the shared corpus, with its goals.",
        ("/policy forget b12",),
        admin.forget,
    ),
    # Watched sources (handlers/sources.py).
    CommandSpec(
        "source add",
        "/policy source add <URL> [every 6h] [label]",
        "Admins: watch an RSS or Atom feed, a page listing documents (a ministry's notices) or "
        "a PDF; each new document becomes a brief, and digests post those new by their date. "
        "Polled every 6 hours unless you say (15 minutes at the least).",
        (
            "/policy source add https://www.miit.gov.cn/zwgk/zcwj/index.html every 6h MIIT notices",
            "/policy source add https://example.org/policy/feed.xml every 1d",
        ),
        sources.add,
    ),
    CommandSpec(
        "sources",
        "/policy sources",
        "The sources this workspace watches: last success, last error, items found, next poll.",
        ("/policy sources",),
        sources.sources,
        read_only=True,
        aliases=("source", "source list"),
        alias_argument=re.compile(""),
    ),
    CommandSpec(
        "source pause",
        "/policy source pause <id>",
        "Admins: stop polling a source for now (`source resume` starts it again).",
        ("/policy source pause w2",),
        sources.pause,
    ),
    CommandSpec(
        "source resume",
        "/policy source resume <id>",
        "Admins: poll a paused source again.",
        ("/policy source resume w2",),
        sources.resume,
    ),
    CommandSpec(
        "source remove",
        "/policy source remove <id>",
        "Admins: stop watching a source (the briefs it brought stay).",
        ("/policy source remove w2",),
        sources.remove,
    ),
    CommandSpec(
        "deadlines chart",
        "/policy deadlines chart [within 18m] [words and filters]",
        "Upcoming targets as a picture: a timeline with a row per issuing body (the biggest "
        "few, then others), posted to the channel with a description in words.",
        ("/policy deadlines chart", "/policy deadlines chart within 5y storage"),
        charts.deadlines_chart,
        read_only=True,
        aliases=("deadline chart",),
    ),
    CommandSpec(
        "scorecard chart",
        "/policy scorecard chart [words and filters]",
        "The scorecard as a picture: met, missed, unclear and awaiting answer per issuing "
        "body, posted to the channel with a description in words.",
        ("/policy scorecard chart", "/policy scorecard chart kind:policy"),
        charts.scorecard_chart,
        read_only=True,
    ),
    CommandSpec(
        "deadlines calendar",
        "/policy deadlines calendar [words and filters] | off | revoke <id> | list",
        "A private calendar subscription URL for this channel: Google Calendar or Outlook "
        "polls it and follows new and changed deadlines. `off` revokes the channel's "
        "calendars, `revoke cal2` one of them, `list` shows them.",
        (
            "/policy deadlines calendar",
            "/policy deadlines calendar storage body:MIIT",
            "/policy deadlines calendar list",
            "/policy deadlines calendar revoke cal2",
        ),
        calendar.calendar_command,
        aliases=("deadline calendar",),
    ),
    CommandSpec(
        "help",
        "/policy help [command]",
        "This list; with a command's name, that command's help alone.",
        ("/policy help", "/policy help subscribe", "/policy help deadlines ics"),
        _help,
        read_only=True,
        aliases=("?", "-h", "--help"),
    ),
)
_BY_NAME = {name: spec for spec in COMMANDS for name in (spec.name, *spec.aliases)}


def help_reply(command: str = "") -> Reply:
    """Every command's help, or one command's (`help subscribe`, `help /policy remind off`)."""
    if not command.strip():
        return Reply(
            text="policybot: search Chinese industrial-policy briefs and track their deadlines.",
            help=[HelpEntry(spec.usage, spec.summary, spec.examples) for spec in COMMANDS],
        )
    name = " ".join(_PREFIX.sub("", clean_text(command), count=1).lower().split())
    spec = _BY_NAME.get(name)
    if spec is None:
        names = ", ".join(f"`{s.name}`" for s in COMMANDS)
        return Reply(
            text=f"There is no command `{name[:40]}`. The commands are: {names}.",
            notes=["`/policy help <command>` shows one of them; `/policy help` shows all."],
            is_error=True,
        )
    entry = HelpEntry(spec.usage, spec.summary, spec.examples)
    aliases = [a for a in spec.aliases if len(a) > 2]
    notes = [f"Also written: {', '.join(f'`{a}`' for a in aliases)}."] if aliases else []
    return Reply(text=f"`/policy {spec.name}`", help=[entry], notes=notes)


@dataclass(frozen=True)
class ParsedCommand:
    """Command text read once (parse_command), then handed on: the Slack edge picks a form
    or the dispatcher by it, the dispatcher names and times it, the runner runs it."""

    spec: CommandSpec
    argument: str
    page: int
    share: bool
    text: str = ""  # as typed (a reply's Share button repeats it)
    alone: bool = False  # the command's name and nothing else (`subscribe`)

    @property
    def form(self) -> str:
        """The Slack form this command opens instead of running, or "" (see CommandSpec)."""
        if self.spec.form and (self.alone or self.spec.form_takes_argument):
            return self.spec.form
        return ""


def parse_command(text: str) -> ParsedCommand:
    command = _parse(text)
    return replace(command, text=text)


def _parse(text: str) -> ParsedCommand:
    """Command text -> which command, its argument, the page and whether to share.

    `share` and `page:N` may come first or last; `search` forces a search ("search latest").
    An alias whose argument does not fit (`new energy`) is a search, not the command.
    `add` keeps the line breaks of its pasted text (they separate a brief's fields)."""
    lines = _PREFIX.sub("", text, count=1).strip().splitlines()
    if lines and lines[0].split()[:1] and lines[0].split()[0].lower() == "add":
        pasted = "\n".join(clean_text(line).strip() for line in lines)[:MAX_COMMAND_CHARS]
        return ParsedCommand(_BY_NAME["add"], pasted[3:].strip(), 1, False)
    text = clean_text(_PREFIX.sub("", text, count=1)).strip()
    if len(text) > MAX_COMMAND_CHARS:
        text = text[:MAX_COMMAND_CHARS]
    words = text.split()
    alone = len(words) == 1
    page, share = 1, False
    while words:
        if words[-1].lower() == "share":
            share = True
        elif match := _PAGE.fullmatch(words[-1]):
            page = max(1, int(match.group(1)))
        else:
            break
        words.pop()
    if words and words[0].lower() == "share":
        share = True
        words.pop(0)
    search = _BY_NAME[briefs.SEARCH_COMMAND]
    if not words:
        return ParsedCommand(_BY_NAME["help"], "", 1, share)
    first = words[0].lower()
    rest = " ".join(words[1:])
    spec = _BY_NAME.get(first)
    if len(words) > 1 and (sub := _BY_NAME.get(f"{first} {words[1].lower()}")) is not None:
        # A sub-command (`deadlines ics`, `remind off`) takes the rest of the words.
        return ParsedCommand(sub, " ".join(words[2:]), page, share)
    if spec is None:
        return ParsedCommand(search, " ".join(words), page, share)
    if spec is search:
        if not rest:
            return ParsedCommand(_BY_NAME["help"], "", 1, share)
        return ParsedCommand(search, rest, page, share)
    if first != spec.name and spec.alias_argument and not spec.alias_argument.fullmatch(rest):
        return ParsedCommand(search, " ".join(words), page, share)
    return ParsedCommand(spec, rest, page, share, alone=alone and first == spec.name)


class CommandRunner:
    """Runs command text against the store; the same for Slack, the console and `ask`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def run(self, text: str, ctx: Context) -> Reply:
        return self.execute(parse_command(text), ctx)

    def execute(self, command: ParsedCommand, ctx: Context) -> Reply:
        """Run a command already read (the Slack edge parsed it to choose how to answer)."""
        reply = self.apply(
            lambda session: command.spec.handler(
                Request(session, ctx, command.argument, command.page)
            ),
            read_only=command.spec.read_only,
        )
        if command.share and not reply.is_error:
            reply.visibility = Visibility.IN_CHANNEL
        return reply

    def apply(self, work: Callable[[Session], Reply], *, read_only: bool = False) -> Reply:
        """Run `work` in one transaction, as a command runs (a form's edit uses it);
        `read_only` work runs beside writers on SQLite (see data.db.reading)."""
        try:
            # The runner owns the transaction: what a handler wrote is committed with its
            # reply, and rolled back (nothing changed) when it raises.
            with unit_of_work(self.sessions, read_only=read_only) as session:
                return work(session)
        except UserError as error:
            return Reply(text=str(error), is_error=True, error_field=getattr(error, "field", None))
