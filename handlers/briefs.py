"""Search, show, latest and deadlines: the read-only commands over the brief store."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from policybot.data import store
from policybot.data.bodies import normalize_name
from policybot.data.models import IssuingBody
from policybot.data.search.analysis import (
    STOPWORDS,
    TermQuery,
    any_phrase_query,
    phrase_query,
    word_query,
)
from policybot.data.store import BriefFilter, Page
from policybot.data.views import DeadlineView, brief_view, goal_view
from policybot.handlers.context import Context
from policybot.handlers.grammar import MAX_QUERY_CHARS, Query, UserError, clean_text, parse_query
from policybot.handlers.replies import Button, Reply

PAGE_SIZE = 5
MAX_LATEST = 50
_ALIAS_SPAN = 8  # longest body name, in words, looked for in free text
_WITHIN = re.compile(r"^(\d{1,3})\s*(d|days?|w|weeks?|m|months?|y|years?)$", re.I)
SEARCH_COMMAND = "search"  # the command word that makes any text a search (for buttons)


@dataclass
class TextQueries:
    """The analysed text of a query: what to include and exclude, and what was left out."""

    include: list[TermQuery] = field(default_factory=list)
    exclude: list[TermQuery] = field(default_factory=list)
    plain_words: list[str] = field(default_factory=list)  # searched as words (for suggestions)
    unsearchable: list[str] = field(default_factory=list)  # stopwords, emoji, punctuation


class BodyNames:
    """Issuing-body names in free text: "MIIT", "工信部" or "Ministry of Industry and
    Information Technology" all search for any of the body's names."""

    def __init__(self, session: Session) -> None:
        self.by_name = store.bodies_by_name(session)

    def find(self, text: str) -> IssuingBody | None:
        return self.by_name.get(normalize_name(text)) if text.strip() else None

    def query(self, body: IssuingBody) -> TermQuery | None:
        return any_phrase_query(store.body_names(body))


def _text_queries(session: Session, query: Query, names: BodyNames | None = None) -> TextQueries:
    out = TextQueries()
    names = names or BodyNames(session)
    words = list(query.words)
    i = 0
    while i < len(words):
        for span in range(min(_ALIAS_SPAN, len(words) - i), 0, -1):
            body = names.find(" ".join(words[i : i + span]))
            if body is not None and (span > 1 or not words[i].isdigit()):
                found = names.query(body)
                if found:
                    out.include.append(found)
                i += span
                break
        else:
            term = word_query(words[i])
            if term is not None:
                out.include.append(term)
                out.plain_words.append(words[i])
            else:
                out.unsearchable.append(words[i])
            i += 1
    for phrase in query.phrases:
        body = names.find(phrase)
        found = names.query(body) if body else phrase_query(phrase)
        if found:
            out.include.append(found)
        else:
            out.unsearchable.append(f'"{phrase}"')
    for word in query.excluded:
        body = names.find(word) if not word.isdigit() else None
        found = names.query(body) if body else word_query(word)
        if found:
            out.exclude.append(found)
        else:
            out.unsearchable.append(f"-{word}")
    for phrase in query.excluded_phrases:
        body = names.find(phrase)
        found = names.query(body) if body else phrase_query(phrase)
        if found:
            out.exclude.append(found)
        else:
            out.unsearchable.append(f'-"{phrase}"')
    return out


def _resolve_bodies(session: Session, names: list[str]) -> frozenset[int]:
    ids: set[int] = set()
    for name in names:
        body = store.resolve_body(session, name)
        if body is None:
            suggestions = store.suggest(session, [name]).bodies
            known = suggestions or store.used_bodies(session)[:12]
            raise UserError(
                f"I don't know an issuing body called `{name[:80]}`. "
                + ("Did you mean " if suggestions else "Bodies with briefs: ")
                + ", ".join(f"`body:{b}`" for b in known)
                + ("?" if suggestions else ".")
            )
        ids.add(body.id)
    return frozenset(ids)


def build_filter(
    session: Session, query: Query, names: BodyNames | None = None
) -> tuple[BriefFilter, TextQueries]:
    """The store filter for a query. Raises UserError when nothing in it can be searched
    (only stopwords, emoji or punctuation, and no filter). `names`: a body-name table to
    reuse when building many filters at once (the scheduler)."""
    text = _text_queries(session, query, names)
    where = BriefFilter(
        include=tuple(dict.fromkeys(text.include)),  # "storage storage" searches once
        exclude=tuple(dict.fromkeys(text.exclude)),
        body_ids=tuple(frozenset({i}) for i in _resolve_bodies(session, query.bodies)),
        exclude_body_ids=_resolve_bodies(session, query.excluded_bodies),
        since=query.since,
        until=query.until,
        due_year=query.due_year,
        kind=query.kind,
    )
    if text.unsearchable and not (where.include or where.exclude or query.has_filters):
        raise UserError(_unsearchable_message(text.unsearchable))
    return where, text


def _unsearchable_message(unsearchable: list[str]) -> str:
    shown = ", ".join(f"`{w[:40]}`" for w in unsearchable[:5])
    if all(w.lower().strip('-"') in STOPWORDS for w in unsearchable):
        return (
            f"{shown} {'is' if len(unsearchable) == 1 else 'are'} too common to search for; "
            "try a more specific word such as `storage`."
        )
    return (
        f"There is nothing I can search for in {shown}: I look for words (English or Chinese), "
        "for example `/policy storage` or `/policy 储能`."
    )


def _ignored_note(text: TextQueries, where: BriefFilter) -> list[str]:
    """Say so when every word was left out and only the filters searched."""
    if text.unsearchable and not (where.include or where.exclude):
        return [
            "I left out "
            + ", ".join(f"`{w[:40]}`" for w in text.unsearchable[:5])
            + ": nothing there to search for, so only the filters apply."
        ]
    return []


def _more_text(text: str) -> str:
    """The query text to repeat for the next page: as much as the parser reads, so that a
    long query still fits in a button."""
    return clean_text(text).strip()[:MAX_QUERY_CHARS]


def _paged_reply(ctx: Context, page: Page, headline: str, command: str, page_number: int) -> Reply:
    today = ctx.today
    reply = Reply(text=headline, briefs=[brief_view(b, today) for b in page.briefs])
    if page.briefs and (page.total > len(page.briefs) or page_number > 1):
        first = page.offset + 1
        last = page.offset + len(page.briefs)
        reply.notes.append(f"Showing {first}\u2013{last} of {page.total}.")
    elif not page.briefs and page_number > 1:
        reply.notes.append(_past_the_end(page_number, page.total))
    if page.has_more:
        reply.buttons.append(Button("More", f"{command} page:{page_number + 1}"))
    return reply


def _past_the_end(page_number: int, total: int) -> str:
    verb = "is" if total == 1 else "are"
    return f"Page {page_number} is past the end: there {verb} {total} in all."


def search(session: Session, ctx: Context, text: str, page_number: int) -> Reply:
    query = parse_query(text)
    if query.is_empty and not query.has_exclusions:
        raise UserError(
            "Tell me what to look for, for example `/policy storage` or `/policy body:MIIT`."
        )
    where, analysed = build_filter(session, query)
    offset = (page_number - 1) * PAGE_SIZE
    page = store.search(session, where, PAGE_SIZE, offset)
    described = query.describe()
    notes = [*query.notes, *_ignored_note(analysed, where)]
    if page.total == 0:
        return _no_results(session, f"No briefs match {described}.", text, analysed, notes)
    noun = "brief" if page.total == 1 else "briefs"
    reply = _paged_reply(
        ctx,
        page,
        f"{page.total} {noun} for {described}",
        f"{SEARCH_COMMAND} {_more_text(text)}",  # "search" keeps "latest ..." a search
        page_number,
    )
    if not page.briefs:
        reply.text = f"No more results for {described}."
    reply.notes[:0] = notes
    return reply


def _replace_word(text: str, word: str, replacement: str) -> str:
    return re.sub(rf"(?<!\S){re.escape(word)}(?!\S)", lambda _: replacement, text, count=1)


def _no_results(
    session: Session,
    headline: str,
    text: str,
    analysed: TextQueries,
    notes: list[str],
    command: str = SEARCH_COMMAND,
    hint: str = "Try fewer words, or `/policy latest` to see what is stored.",
) -> Reply:
    """Say so, and suggest words and bodies that do exist; a button runs the corrected query."""
    reply = Reply(text=headline, notes=list(notes))
    suggestions = store.suggest(session, analysed.plain_words)
    if suggestions.terms:
        reply.notes.append("Did you mean: " + ", ".join(f"`{t}`" for t in suggestions.terms) + "?")
        fixes = suggestions.for_word
        first, candidates = next(iter(fixes.items()))
        for candidate in candidates[:3]:
            fixed = _more_text(text)
            for word, alternatives in fixes.items():
                fixed = _replace_word(fixed, word, candidate if word == first else alternatives[0])
            reply.buttons.append(Button(f"Search {fixed}", f"{command} {fixed}"))
    if suggestions.bodies:
        reply.notes.append(
            "Issuing bodies with similar names: "
            + ", ".join(f"`body:{b}`" for b in suggestions.bodies)
        )
    if not suggestions.terms and not suggestions.bodies:
        reply.notes.append(hint)
    return reply


def show(session: Session, ctx: Context, argument: str) -> Reply:
    argument = unicodedata.normalize("NFKC", argument).strip()  # full-width "ｂ２" too
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
        # isdecimal, not isdigit: int() refuses "²", which isdigit accepts.
        if not argument.isdecimal() or not 1 <= int(argument) <= MAX_LATEST:
            raise UserError(
                f"`latest` takes a number from 1 to {MAX_LATEST}, e.g. `/policy latest 10`."
            )
        wanted = int(argument)
    offset = (page_number - 1) * PAGE_SIZE
    size = max(0, min(PAGE_SIZE, wanted - offset))
    page = store.latest(session, size, offset)
    if page.total == 0:
        return Reply(text="No briefs are stored yet; add tracker issues with `policybot ingest`.")
    page.total = min(page.total, wanted)
    page.limit = size
    command = f"latest {int(argument) if argument else ''}".strip()
    noun = "brief" if page.total == 1 else "briefs"
    return _paged_reply(ctx, page, f"The {page.total} newest {noun}", command, page_number)


def parse_window(words: list[str]) -> tuple[timedelta | int, list[str], str]:
    """`within 18m` (also 90d, 2y, "within 24 months") -> (months or days, rest, label)."""
    default = (24, words, "24 months")
    # `within` may come anywhere: "deadlines within 18m storage" or "deadlines storage within 18m".
    at = next((i for i, w in enumerate(words) if w.lower() == "within"), None)
    if at is None:
        return default
    before, words = words[:at], words[at:]
    if len(words) < 2:
        raise UserError(
            "`within` needs a period, for example `within 18m`, `within 90d` or `within 2y`."
        )
    spec, rest = words[1], words[2:]
    if len(words) >= 3 and words[1].isdecimal():
        spec, rest = words[1] + words[2], words[3:]
    rest = before + rest
    match = _WITHIN.match(spec)
    if not match:
        raise UserError(
            f"`within {spec[:40]}` is not a period I know; write `within 18m`, `90d` or `2y`."
        )
    amount, unit = int(match[1]), match[2][0].lower()
    if amount == 0:
        raise UserError("The period must be at least one day.")
    if unit == "d":
        return timedelta(days=amount), rest, f"{amount} day{'s' if amount > 1 else ''}"
    if unit == "w":
        return timedelta(weeks=amount), rest, f"{amount} week{'s' if amount > 1 else ''}"
    months = amount * 12 if unit == "y" else amount
    noun = "year" if unit == "y" else "month"
    return months, rest, f"{amount} {noun}{'s' if amount > 1 else ''}"


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
    where, analysed = build_filter(session, query) if query else (None, TextQueries())
    due = store.due_goals(session, today, end, where)
    offset = (page_number - 1) * PAGE_SIZE
    shown = due[offset : offset + PAGE_SIZE]
    about = f" for {query.describe()}" if query and query.describe() else ""
    notes = list(query.notes) if query else []
    if where is not None:
        notes += _ignored_note(analysed, where)
    window_words = " ".join(words[: len(words) - len(rest)])
    if not due:
        reply = _no_results(
            session,
            f"No deadlines in the next {label}{about}.",
            f"{window_words} {_more_text(rest_text)}".strip(),
            analysed,
            notes,
            command="deadlines",
            hint="Try a longer window, e.g. `/policy deadlines within 5y`.",
        )
        return reply
    noun = "deadline" if len(due) == 1 else "deadlines"
    reply = Reply(
        text=f"{len(due)} {noun} in the next {label}{about}",
        deadlines=[
            DeadlineView(goal_view(d.goal, today), brief_view(d.brief, today)) for d in shown
        ],
        notes=notes,
    )
    if shown and len(due) > PAGE_SIZE:
        reply.notes.append(f"Showing {offset + 1}\u2013{offset + len(shown)} of {len(due)}.")
    elif not shown:
        reply.text = f"No more deadlines in the next {label}{about}."
        reply.notes.append(_past_the_end(page_number, len(due)))
    if offset + len(shown) < len(due):
        more = " ".join(p for p in ("deadlines", window_words, _more_text(rest_text)) if p)
        reply.buttons.append(Button("More", f"{more} page:{page_number + 1}"))
    return reply
