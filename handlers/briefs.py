"""Search, show, latest and deadlines: the read-only commands over the brief store."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from sqlalchemy.orm import Session

from data import store
from data.search.analysis import TermQuery, phrase_query, word_query
from data.store import BriefFilter, Page
from handlers.context import Context
from handlers.grammar import Query, UserError, parse_query
from handlers.replies import (
    Button,
    DeadlineView,
    Reply,
    brief_view,
    goal_view,
)

PAGE_SIZE = 5
MAX_LATEST = 50
_ALIAS_SPAN = 8  # longest body name, in words, looked for in free text
_WITHIN = re.compile(r"^(\d{1,3})\s*(d|days?|w|weeks?|m|months?|y|years?)$", re.I)


def _term_queries(session: Session, query: Query) -> tuple[list[TermQuery], list[str]]:
    """Analysed text queries; a body's name anywhere in the text ("工信部", "Ministry of
    Industry and Information Technology") becomes a search for that body's abbreviation."""
    queries: list[TermQuery] = []
    words = list(query.words)
    i = 0
    plain_words: list[str] = []
    while i < len(words):
        for span in range(min(_ALIAS_SPAN, len(words) - i), 0, -1):
            body = store.resolve_body(session, " ".join(words[i : i + span]))
            if body is not None and (span > 1 or not words[i].isdigit()):
                found = phrase_query(body.abbreviation)
                if found:
                    queries.append(found)
                i += span
                break
        else:
            term = word_query(words[i])
            if term is not None:
                queries.append(term)
                plain_words.append(words[i])
            i += 1
    for phrase in query.phrases:
        body = store.resolve_body(session, phrase)
        found = phrase_query(body.abbreviation if body else phrase)
        if found:
            queries.append(found)
    return queries, plain_words


def build_filter(session: Session, query: Query) -> tuple[BriefFilter, list[str]]:
    include, plain_words = _term_queries(session, query)
    exclude = [q for q in (word_query(w) for w in query.excluded) if q is not None]
    body_ids: list[frozenset[int]] = []
    for name in query.bodies:
        body = store.resolve_body(session, name)
        if body is None:
            suggestions = store.suggest(session, [name]).bodies
            known = suggestions or store.used_bodies(session)[:12]
            raise UserError(
                f"I don't know an issuing body called `{name}`. "
                + ("Did you mean " if suggestions else "Bodies with briefs: ")
                + ", ".join(f"`body:{b}`" for b in known)
                + ("?" if suggestions else ".")
            )
        body_ids.append(frozenset({body.id}))
    where = BriefFilter(
        include=tuple(include),
        exclude=tuple(exclude),
        body_ids=tuple(body_ids),
        since=query.since,
        until=query.until,
        due_year=query.due_year,
        kind=query.kind,
    )
    return where, plain_words


def _paged_reply(
    ctx: Context, page: Page, headline: str, command: str, page_number: int
) -> Reply:
    today = ctx.today
    reply = Reply(text=headline, briefs=[brief_view(b, today) for b in page.briefs])
    if page.total > len(page.briefs) or page_number > 1:
        first = page.offset + 1
        last = page.offset + len(page.briefs)
        reply.notes.append(f"Showing {first}\u2013{last} of {page.total}.")
    if page.has_more:
        reply.buttons.append(Button("More", f"{command} page:{page_number + 1}"))
    return reply


def search(session: Session, ctx: Context, text: str, page_number: int) -> Reply:
    query = parse_query(text)
    if query.is_empty and not query.excluded:
        raise UserError("Tell me what to look for, for example `/policy storage` or `/policy body:MIIT`.")
    where, plain_words = build_filter(session, query)
    if not where.include and not where.exclude and (query.words or query.phrases):
        raise UserError(
            "Those words are too common to search for; try a more specific word such as `storage`."
        )
    offset = (page_number - 1) * PAGE_SIZE
    page = store.search(session, where, PAGE_SIZE, offset)
    described = query.describe()
    if page.total == 0:
        return _no_results(session, described, [*plain_words, *query.phrases], query.notes)
    noun = "brief" if page.total == 1 else "briefs"
    reply = _paged_reply(ctx, page, f"{page.total} {noun} for {described}", text, page_number)
    if not page.briefs:
        reply.text = f"No more results for {described}."
    reply.notes[:0] = query.notes
    return reply


def _no_results(session: Session, described: str, words: list[str], notes: list[str]) -> Reply:
    reply = Reply(text=f"No briefs match {described}.", notes=list(notes))
    suggestions = store.suggest(session, [w for w in words if " " not in w])
    if suggestions.terms:
        reply.notes.append("Did you mean: " + ", ".join(f"`{t}`" for t in suggestions.terms) + "?")
        reply.buttons.extend(Button(f"Search {t}", t) for t in suggestions.terms[:3])
    if suggestions.bodies:
        reply.notes.append(
            "Issuing bodies with similar names: "
            + ", ".join(f"`body:{b}`" for b in suggestions.bodies)
        )
    if not suggestions.terms and not suggestions.bodies:
        reply.notes.append("Try fewer words, or `/policy latest` to see what is stored.")
    return reply


def show(session: Session, ctx: Context, argument: str) -> Reply:
    argument = argument.strip()
    if not argument:
        raise UserError("Which brief? For example `/policy show b3` (ids are in search results).")
    brief = None
    brief_id = store.parse_brief_ref(argument)
    goal_id = store.parse_goal_ref(argument)
    if brief_id is not None:
        brief = store.get_brief(session, brief_id)
    elif goal_id is not None:
        brief = store.get_brief_of_goal(session, goal_id)
    else:
        raise UserError(f"`{argument[:40]}` is not a brief id; ids look like `b3`.")
    if brief is None:
        raise UserError(f"There is no brief `{argument[:40]}`. `/policy latest` lists recent ones.")
    view = brief_view(brief, ctx.today)
    return Reply(text=f"{view.ref}: {view.title}", detail=view)


def latest(session: Session, ctx: Context, argument: str, page_number: int) -> Reply:
    argument = argument.strip()
    wanted = PAGE_SIZE
    if argument:
        if not argument.isdigit() or not 1 <= int(argument) <= MAX_LATEST:
            raise UserError(f"`latest` takes a number from 1 to {MAX_LATEST}, e.g. `/policy latest 10`.")
        wanted = int(argument)
    offset = (page_number - 1) * PAGE_SIZE
    size = max(0, min(PAGE_SIZE, wanted - offset))
    page = store.latest(session, size, offset)
    page.total = min(page.total, wanted)
    page.limit = size
    command = f"latest {argument}".strip()
    return _paged_reply(ctx, page, f"The {page.total} newest briefs", command, page_number)


def parse_window(words: list[str]) -> tuple[timedelta | int, list[str], str]:
    """`within 18m` (also 90d, 2y, "within 24 months") -> (months or days, rest, label)."""
    default = (24, words, "24 months")
    if not words or words[0].lower() != "within":
        return default
    if len(words) < 2:
        raise UserError("`within` needs a period, for example `within 18m`, `within 90d` or `within 2y`.")
    spec, rest = words[1], words[2:]
    if len(words) >= 3 and words[1].isdigit():
        spec, rest = words[1] + words[2], words[3:]
    match = _WITHIN.match(spec)
    if not match:
        raise UserError(f"`within {spec}` is not a period I know; write `within 18m`, `90d` or `2y`.")
    amount, unit = int(match[1]), match[2][0].lower()
    if amount == 0:
        raise UserError("The period must be at least one day.")
    if unit == "d":
        return timedelta(days=amount), rest, f"{amount} days"
    if unit == "w":
        return timedelta(weeks=amount), rest, f"{amount} weeks"
    months = amount * 12 if unit == "y" else amount
    return months, rest, f"{amount} {'years' if unit == 'y' else 'months'}"


def add_months(start: date, months: int) -> date:
    years, month_index = divmod(start.month - 1 + months, 12)
    year = start.year + years
    day = min(start.day, calendar.monthrange(year, month_index + 1)[1])
    return date(year, month_index + 1, day)


def deadlines(session: Session, ctx: Context, text: str, page_number: int) -> Reply:
    words = text.split()
    window, rest, label = parse_window(words)
    today = ctx.today
    end = today + window if isinstance(window, timedelta) else add_months(today, window)
    rest_text = " ".join(rest)
    query = parse_query(rest_text) if rest_text else None
    where = build_filter(session, query)[0] if query else None
    due = store.due_goals(session, today, end, where)
    offset = (page_number - 1) * PAGE_SIZE
    shown = due[offset : offset + PAGE_SIZE]
    about = f" for {query.describe()}" if query and query.describe() else ""
    if not due:
        return Reply(
            text=f"No deadlines in the next {label}{about}.",
            notes=["Try a longer window, e.g. `/policy deadlines within 5y`."],
        )
    noun = "deadline" if len(due) == 1 else "deadlines"
    reply = Reply(
        text=f"{len(due)} {noun} in the next {label}{about}",
        deadlines=[DeadlineView(goal_view(d.goal, today), brief_view(d.brief, today)) for d in shown],
        notes=list(query.notes) if query else [],
    )
    if len(due) > PAGE_SIZE:
        reply.notes.append(f"Showing {offset + 1}\u2013{offset + len(shown)} of {len(due)}.")
    if offset + len(shown) < len(due):
        reply.buttons.append(Button("More", f"deadlines {text} page:{page_number + 1}".replace("  ", " ")))
    return reply

