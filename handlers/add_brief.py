"""One brief typed or pasted in (the add-brief form): the form's fields, the deadlines read
from each goal as it is typed, checks that name the field at fault, and the write, through
the same parser (data/ingest/single.py), preview and writer as tracker files.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ..data.bodies import bodies_with_aliases, normalize_name
from ..data.briefs import brief_by_identity
from ..data.db import SessionFactory, unit_of_work
from ..data.errors import UserError
from ..data.ingest.deadlines import Deadline, Precision, extract_deadline
from ..data.ingest.parser import sentence_goals
from ..data.ingest.preview import preview_issue
from ..data.ingest.records import BriefRecord, GoalRecord
from ..data.ingest.same_document import find_brief
from ..data.ingest.single import UNLABELLED, parse_single_brief, single_issue
from ..data.ingest.text import ParseError
from ..data.ingest.writer import IssueWriter, brief_identity
from ..data.models import BriefKind
from .context import Context
from .message_brief import split_message
from .permissions import require_admin
from .replies import Button, Reply, Section
from .request import Request

MAX_GOALS = 20  # a modal holds 100 blocks; each goal takes one for its deadline
MAX_TITLE = 300
MAX_TEXT = 3000  # Slack's limit for one text input
DEADLINE_HINT = "Write a deadline as 2027, 2026-06, 2026-06-30 or 2026 to 2030 (empty: none)."
_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa\uf0a1*\-\u2013]|\d{1,2}[.)])\s*")
_URL = re.compile(r"^https?://[^\s<>]+$")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RANGE = re.compile(r"^(\S+)\s*(?:to|until|\u2013|\u2014|-)\s*(\S+)$")
CORPUS_ACTION = "add briefs to the shared corpus"


class FormErrors(UserError):
    """What is wrong, by field (the form shows each message under its field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class BriefForm:
    title: str = ""
    title_original: str = ""
    bodies: list[str] = field(default_factory=list)  # abbreviations (or names) of bodies
    published_on: str = ""  # ISO date, as the date picker gives it
    summary: str = ""
    goals: str = ""  # one goal per line
    # Deadline text per goal line, as shown (and maybe edited); None: read it from the goal.
    deadlines: list[str | None] = field(default_factory=list)
    link: str = ""
    note: str = ""
    warnings: list[str] = field(default_factory=list)  # what the text parser guessed


def goal_lines(text: str) -> list[str]:
    lines = (_BULLET.sub("", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def published(form: BriefForm) -> date | None:
    try:
        return date.fromisoformat(form.published_on) if form.published_on else None
    except ValueError:
        return None


def read_deadline(goal: str, on: date | None) -> Deadline | None:
    return extract_deadline(goal, published_on=on)


def deadline_text(deadline: Deadline | None) -> str:
    """A deadline as the form shows it, in the forms `parse_deadline` reads back."""
    if deadline is None:
        return ""
    due = deadline.due_on
    if deadline.precision is Precision.WINDOW and deadline.window_start:
        start = deadline.window_start
        whole_years = (start.month, start.day, due.month, due.day) == (1, 1, 12, 31)
        if whole_years:
            return f"{start.year} to {due.year}"
        return f"{start:%Y-%m} to {due:%Y-%m}"
    if deadline.precision is Precision.YEAR:
        return str(due.year)
    if deadline.precision is Precision.MONTH:
        return f"{due:%Y-%m}"
    return due.isoformat()


def _period(text: str) -> tuple[date, date, Precision] | None:
    """First and last day of "2027", "2026-06" or "2026-06-30"."""
    if m := _YEAR.match(text):
        year = int(m[1])
        return date(year, 1, 1), date(year, 12, 31), Precision.YEAR
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        return (
            date(year, month, 1),
            date(year, month, calendar.monthrange(year, month)[1]),
            Precision.MONTH,
        )
    if m := _DAY.match(text):
        day = date(int(m[1]), int(m[2]), int(m[3]))
        return day, day, Precision.DAY
    return None


def parse_deadline(text: str, on: date | None) -> Deadline | None:
    """The deadline a person wrote in the form; ValueError names the accepted forms."""
    text = " ".join(text.split())
    if not text:
        return None
    try:
        if (period := _period(text)) is not None:
            return Deadline(period[1], period[2], phrase=text)
        if (m := _RANGE.match(text)) and (a := _period(m[1])) and (b := _period(m[2])):
            if b[1] < a[0]:
                raise ValueError("The window ends before it starts.")
            return Deadline(b[1], Precision.WINDOW, a[0], phrase=text)
    except ValueError as error:
        if "window" in str(error):
            raise
        raise ValueError(f"{text} is not a date. {DEADLINE_HINT}") from error
    found = extract_deadline(text, published_on=on)  # "by March 2026", "到2027年"
    if found is None:
        raise ValueError(f"I cannot read a deadline in {text!r}. {DEADLINE_HINT}")
    return found


def form_from_record(record: BriefRecord) -> BriefForm:
    return BriefForm(
        title=record.title,
        title_original=record.title_original or "",
        bodies=list(record.bodies),
        published_on=record.published_on.isoformat() if record.published_on else "",
        summary=record.summary,
        goals="\n".join(g.text for g in record.goals),
        deadlines=[deadline_text(g.deadline) for g in record.goals],
        link=record.links[0] if record.links else "",
        note=record.comment,
        warnings=list(record.warnings),
    )


def form_from_text(text: str) -> BriefForm:
    """The form pre-filled from a message's text (the pasted-text parser guesses)."""
    if not text.strip():
        return BriefForm(warnings=["the message has no text: fill in the form"])
    try:
        record = parse_single_brief(text, "the message")
    except ParseError as error:
        raise UserError(f"I can't make one brief of this message: {error.message}.") from error
    form = form_from_record(record)
    if record.labelled:
        return form
    # No labels: a message written for people. Split it as a person would.
    message = split_message(text)
    if not message.title:
        return form
    goals = [g for line in message.goal_lines for g in sentence_goals(line, record.published_on)]
    said = "the title is the first line or sentence" + (", cut" if message.title_cut else "")
    warnings = [
        f"no labels: {said}; the rest is the summary"
        if w.startswith(UNLABELLED)
        else w.replace(record.title, message.title)
        for w in record.warnings
    ]
    if message.title_original and message.title == message.title_original:
        warnings.append("the title is the Chinese headline: write the English title")
    return replace(
        form,
        title=message.title,
        title_original=message.title_original or form.title_original,
        summary="\n".join(
            [message.summary] * bool(message.summary)
            + [f"More links: {' '.join(message.links[1:])}"] * (len(message.links) > 1)
        ),
        goals="\n".join(g.text for g in goals),
        deadlines=[deadline_text(g.deadline) for g in goals],
        link=message.links[0] if message.links else form.link,
        note="\n".join(message.links[1:])
        if len(message.links) > 1 and not form.note
        else form.note,
        warnings=warnings,
    )


def record_from_form(form: BriefForm, today: date) -> BriefRecord:
    """The brief the form describes, or FormErrors naming each field at fault."""
    errors: dict[str, str] = {}
    title = " ".join(form.title.split())
    if not title:
        errors["title"] = "Give the brief a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"A title is at most {MAX_TITLE} characters."
    on = None
    if form.published_on:
        on = published(form)
        if on is None:
            errors["date"] = f"{form.published_on} is not a date."
        elif on > today + timedelta(days=1):
            errors["date"] = "The date is when the policy was issued; this one is ahead."
    link = form.link.strip()
    if link and not _URL.match(link):
        errors["link"] = "A link starts with https:// (or http://) and has no spaces."
    lines = goal_lines(form.goals)
    if len(lines) > MAX_GOALS:
        errors["goals"] = f"At most {MAX_GOALS} goals here; add a longer list as a tracker file."
    goals: list[GoalRecord] = []
    for index, line in enumerate(lines[:MAX_GOALS]):
        written = form.deadlines[index] if index < len(form.deadlines) else None
        try:
            deadline = read_deadline(line, on) if written is None else parse_deadline(written, on)
        except ValueError as error:
            errors[f"deadline:{index}"] = str(error)
            continue
        goals.append(GoalRecord(line, deadline))
    if errors:
        raise FormErrors(errors)
    note = form.note.strip()
    return BriefRecord(
        kind=BriefKind.POLICY,
        title=title,
        line=1,
        title_original=" ".join(form.title_original.split()) or None,
        bodies=list(dict.fromkeys(b for b in form.bodies if b)),
        published_on=on,
        summary=form.summary.strip(),
        comment=note,
        links=[link] if link else [],
        goals=goals,
    )


def what_saving_does(session: Session, record: BriefRecord, now: datetime | None = None) -> str:
    """The preview's verdict for this one brief: added (as news or archive, by its date at
    `now`), updated or unchanged, and stored facts it would keep."""
    preview = preview_issue(session, single_issue(record), _content_hash(record), now)
    brief = preview.briefs[0]
    kept = (
        f" It keeps what the form leaves out: {'; '.join(brief.removals)}."
        if brief.removals
        else ""
    )
    if brief.action == "add" and not brief.new:
        return "Saving adds a new brief as archive (dated over 90 days ago): searchable, not posted as new."
    if brief.action == "add":
        return "Saving adds a new brief."
    if brief.action == "update":
        return f"Saving updates {brief.existing_ref} (the same title and date).{kept}"
    return f"{brief.existing_ref} says exactly this already.{kept}"


def _content_hash(record: BriefRecord) -> str:
    """The document's hash: the same submission twice is one document, written once."""
    fields = {
        "title": record.title,
        "title_original": record.title_original,
        "bodies": record.bodies,
        "published_on": str(record.published_on),
        "summary": record.summary,
        "comment": record.comment,
        "author": record.comment_author,
        "links": record.links,
        "goals": [[g.text, deadline_text(g.deadline), str(g.deadline)] for g in record.goals],
    }
    return hashlib.sha256(json.dumps(["single", fields], sort_keys=True).encode()).hexdigest()


def save_brief(factory: SessionFactory, ctx: Context, record: BriefRecord) -> Reply:
    """Store the brief (admins only), as a document of one brief."""
    require_admin(ctx, CORPUS_ACTION)
    if record.comment:
        record.comment_author = ctx.user_label  # who wrote the note (provenance)
    issue = single_issue(record, f"added in Slack by {ctx.user_label}")
    with unit_of_work(factory) as session:
        summary = IssueWriter(session, ctx.now).write(issue, _content_hash(record))
        brief = brief_by_identity(session, brief_identity(record)) or find_brief(
            session, record
        )  # joined another source's brief of the document
        if brief is None:  # the writer stores every brief it is given
            raise UserError("The brief could not be stored; nothing was written.")
        ref, title = brief.ref, brief.title
    verb = "Added" if summary.added else "Updated" if summary.updated else "Unchanged:"
    goals = [g for g in record.goals if g.deadline]
    deadlines = ", ".join(deadline_text(g.deadline) for g in goals)
    return Reply(
        text=f"{verb} {ref} ({title})"
        + (f", with {len(goals)} deadline(s): {deadlines}." if goals else ".")
        + (f" Kept from before: {'; '.join(summary.kept)}." if summary.kept else ""),
        buttons=[Button(f"Show {ref}", f"show {ref}", primary=True)],
    )


def body_choices(session: Session, typed: str, limit: int = 100) -> list[tuple[str, str]]:
    """(abbreviation, label) of the bodies whose abbreviation, full name or an alias
    contains what was typed; abbreviations that start with it first."""
    wanted = normalize_name(typed)
    if not wanted:
        return []
    bodies = bodies_with_aliases(session)
    found: list[tuple[int, str, str]] = []
    for body in bodies:
        names = [body.abbreviation, body.full_name, *(a.alias for a in body.aliases)]
        keys = [normalize_name(n) for n in names if n]
        if not any(wanted in key for key in keys):
            continue
        rank = 0 if keys[0].startswith(wanted) else 1
        extra = next((a.alias for a in body.aliases if wanted in a.normalized), "")
        label = " \u2014 ".join(p for p in (body.abbreviation, body.full_name) if p)
        label += f" ({extra})" if extra and extra not in label else ""
        found.append((rank, body.abbreviation, label[:75]))
    return [(abbr, label) for _, abbr, label in sorted(found)[:limit]]


def add_preview(request: Request) -> Reply:
    """`add <pasted text>` where there is no form (the console): what the text gives as one
    brief and what saving it would do; nothing is written. In Slack, `add` opens the form."""
    session, ctx, text = request.session, request.context, request.argument
    if not text.strip():
        raise UserError(
            "Paste the brief after `add` (a title line, its bodies, date, summary and goals); "
            "in Slack, `/policy add` opens a form. Tracker files go in with `policybot ingest`."
        )
    record = record_from_form(form_from_text(text), ctx.today)
    lines = [f"Title: {record.title}"]
    if record.bodies:
        lines.append("Issuing bodies: " + ", ".join(record.bodies))
    if record.published_on:
        lines.append(f"Date: {record.published_on.isoformat()}")
    lines += [
        f"Goal: {g.text} ({deadline_text(g.deadline) or 'no deadline'})" for g in record.goals
    ]
    return Reply(
        text="This is the brief I read; nothing was saved. "
        "In Slack, `/policy add` opens a form to check and save it.",
        sections=[Section("What the text gives", tuple(lines))],
        notes=[what_saving_does(session, record, ctx.now)],
    )
