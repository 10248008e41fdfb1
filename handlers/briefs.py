"""Search, show, latest and deadlines: the read-only commands over the brief store."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..data import briefs as briefs_data
from ..data.briefs import (
    BriefFilter,
    Page,
    get_brief,
    get_brief_of_goal,
    newest_matching,
    parse_brief_ref,
    parse_goal_ref,
)
from ..data.deadlines import due_goals_page
from ..data.errors import UserError
from ..data.ingest.same_document import provenance_lines
from ..data.query.compiler import BodyNames, TextQueries
from ..data.query.language import Query, shortened
from ..data.query.meaning import compile_reading, read
from ..data.query.related import related_terms
from ..data.query.understanding import Intent, Reading
from ..data.views import BriefView, DeadlineView, brief_view, brief_views, goal_view
from .context import Context
from .notes import add_noted_section, add_notes_to_show, notes_matching
from .replies import Button, Reply
from .request import Request

PAGE_SIZE = 5
RELATED_BELOW = 3  # fewer results than this: offer related words from the store
MAX_LATEST = 50
_ALIAS_SPAN = 8  # longest body name, in words, looked for in free text
_WITHIN = re.compile(r"^(\d{1,3})\s*(d|days?|w|weeks?|m|months?|y|years?)$", re.I)
SEARCH_COMMAND = "search"  # the command word that makes any text a search (for buttons)
_LATER_YEARS = 100  # "the next ones, however far off"


def _ignored_note(text: TextQueries, where: BriefFilter) -> list[str]:
    """Say so when every word was left out and only the filters searched."""
    if text.unsearchable and not (where.has_text or where.exclude):
        return [
            "I left out "
            + ", ".join(f"`{w[:40]}`" for w in text.unsearchable[:5])
            + ": nothing there to search for, so only the filters apply."
        ]
    return []


def _more_text(text: str) -> str:
    """The query text to repeat for the next page: as much as the parser reads, so that a
    long query still fits in a button."""
    return shortened(text)


def _page_views(session: Session, ctx: Context, page: Page) -> list[BriefView]:
    """The page's briefs as shown, read in a few plain queries (`briefs_data.search(load=False)`
    names them), with the words the search found in each; `page.ids` keeps only those read."""
    views = brief_views(session, page.ids, ctx.today)
    page.ids = list(views)
    return [
        replace(view, matched_terms=page.matched_terms.get(brief_id, frozenset()))
        for brief_id, view in views.items()
    ]


def _paged_reply(
    page: Page, views: list[BriefView], headline: str, command: str, page_number: int
) -> Reply:
    reply = Reply(text=headline, briefs=views)
    if views and (page.total > len(views) or page_number > 1):
        first = page.offset + 1
        last = page.offset + len(views)
        reply.notes.append(f"Showing {first}\u2013{last} of {page.total}.")
    elif not views and page_number > 1:
        reply.notes.append(_past_the_end(page_number, page.total))
    if page.has_more:
        reply.buttons.append(Button("More", f"{command} page:{page_number + 1}"))
    return reply


def _past_the_end(page_number: int, total: int) -> str:
    verb = "is" if total == 1 else "are"
    return f"Page {page_number} is past the end: there {verb} {total} in all."


def _read(session: Session, ctx: Context, text: str, intent: Intent) -> tuple[Reading, BodyNames]:
    """The question in `text` as search, `latest` and `deadlines` all read it (as every
    consumer of query text reads it: data/query/meaning.py)."""
    return read(session, text, ctx.today, intent)


def _read_note(reading: Reading, command: str = "") -> list[str]:
    """ "I read this as `...`": what the question became, when it became something."""
    if not reading.changed:
        return []
    said = " ".join(p for p in (command, reading.query.describe()) if p)
    return [f"I read this as `{said}`."]


def search(request: Request) -> Reply:
    session, ctx, text, page_number = (
        request.session,
        request.context,
        request.argument,
        request.page,
    )
    reading, names = _read(session, ctx, text, Intent.SEARCH)
    if reading.intent is Intent.DEADLINES:
        return _routed_deadlines(session, ctx, reading, names, page_number)
    query = reading.query
    if query.company:
        raise UserError(
            "`kind:company` picks companies' own commitments in `/policy deadlines`, "
            "`/policy remind` and `/policy scorecard`; a search finds briefs of every kind "
            "(`kind:news` or `kind:policy` narrows it)."
        )
    if query.is_empty and not query.has_exclusions and reading.intent is Intent.SEARCH:
        raise UserError(
            "Tell me what to look for, for example `/policy storage` or `/policy body:MIIT`."
        )
    if reading.intent is Intent.LATEST:
        more = f"latest {reading.count or ''} {query.describe()}"
        return _newest(session, ctx, reading, names, page_number, " ".join(more.split()))
    meaning = compile_reading(session, reading, names, ctx.today)
    where, analysed = meaning.where, meaning.analysed
    offset = (page_number - 1) * PAGE_SIZE
    page = briefs_data.search(session, where, PAGE_SIZE, offset, load=False)
    described = query.describe()
    notes = [*_read_note(reading), *query.notes, *_ignored_note(analysed, where)]
    noted = notes_matching(session, ctx, [*query.words, *query.phrases]) if page_number == 1 else []
    if page.total == 0:
        if noted:
            # The workspace's own notes answer it: say that, not "no brief mentions".
            reply = Reply(text=f"No brief matches {described}; your team's notes do.", notes=notes)
            add_noted_section(reply, noted, ctx)
            return reply
        emptied = _emptied_by_exclusions(session, query, where, notes)
        if emptied is not None:
            return emptied
        reply = _no_results(
            session,
            f"No briefs match {described}.",
            text,
            analysed,
            notes,
            where=where,
            today=ctx.today,
        )
        reply.notes += _related_note(session, where)
        return reply
    noun = "brief" if page.total == 1 else "briefs"
    headline = f"{page.total} {noun} for {described}"
    if page.partial:
        missing = ", ".join(q.label or "?" for q in where.include) or described
        headline = f"No brief has all of: {missing}. Closest matches ({page.total}):"
        notes += _without_missing(session, text, where, page)
    views = _page_views(session, ctx, page)
    reply = _paged_reply(
        page,
        views,
        headline,
        f"{SEARCH_COMMAND} {_more_text(text)}",  # "search" keeps "latest ..." a search
        page_number,
    )
    if not views:
        reply.text = f"No more results for {described}."
    reply.notes[:0] = notes
    if reading.asks_who and page_number == 1 and not page.partial:
        reply.notes += _issuers(session, ctx, where)
    if page_number == 1 and (page.total < RELATED_BELOW or page.partial):
        reply.notes += _related_note(session, where)
    shown = set(page.ids)
    add_noted_section(reply, [n for n in noted if n.brief_id not in shown], ctx)
    return reply


def _related_note(session: Session, where: BriefFilter) -> list[str]:
    """Words the store holds beside the query's, when it found little (a suggestion: the
    answer above is unchanged)."""
    found = related_terms(session, where.include)
    if not found:
        return []
    return ["Related: " + ", ".join(f"`{word}`" for word in found) + "."]


def _issuers(session: Session, ctx: Context, where: BriefFilter) -> list[str]:
    """ "who issued ...": the issuing bodies of what matches (of the first 50)."""
    page = briefs_data.search(session, where, MAX_LATEST, load=False)
    counts: Counter[str] = Counter()
    for view in brief_views(session, page.ids, ctx.today).values():
        counts.update(view.bodies or ("no government body (company news)",))
    if not counts:
        return []
    of = f" (of the first {len(page.ids)})" if page.total > len(page.ids) else ""
    return [
        f"Issued by{of}: "
        + ", ".join(
            f"{body} ({n} brief{'s' if n != 1 else ''})" for body, n in counts.most_common()
        )
        + "."
    ]


def _emptied_by_exclusions(
    session: Session, query: Query, where: BriefFilter, notes: list[str]
) -> Reply | None:
    """An answer that only the exclusions emptied says so (not "no brief mentions ...")."""
    if not (where.exclude or where.exclude_body_ids) or not (where.has_text or query.has_filters):
        return None
    kept = replace(where, exclude=(), exclude_body_ids=frozenset())
    page = briefs_data.search(session, kept, 1, load=False)
    if page.total == 0 or page.partial:
        return None
    without = replace(query, excluded=(), excluded_phrases=(), excluded_bodies=())
    excluded = Query(
        excluded=query.excluded,
        excluded_phrases=query.excluded_phrases,
        excluded_bodies=query.excluded_bodies,
    ).describe()
    described = without.describe()
    noun = "brief matches" if page.total == 1 else "briefs match"
    reply = Reply(
        text=f"No briefs match {query.describe()}.",
        notes=[
            *notes,
            f"{page.total} {noun} `{described}`, but your exclusion (`{excluded}`) removed "
            f"{'it' if page.total == 1 else 'every one'}.",
        ],
    )
    reply.buttons.append(Button(f"Search {described}", f"{SEARCH_COMMAND} {described}"))
    return reply


def _without_missing(session: Session, text: str, where: BriefFilter, page: Page) -> list[str]:
    """Name the words no brief has at all."""
    clauses = where.plan().clauses
    missing = [clauses[i][0].label for i in page.unmatched if clauses[i] and clauses[i][0].label]
    if not missing:
        return []
    return ["No brief mentions " + ", ".join(f"`{m[:40]}`" for m in missing) + "."]


def _replace_word(text: str, word: str, replacement: str) -> str:
    return re.sub(rf"(?<!\S){re.escape(word)}(?!\S)", lambda _: replacement, text, count=1)


def _finds_something(
    session: Session, text: str, today: date | None, names: BodyNames | None = None
) -> bool:
    """Whether searching `text` would show a brief with all its words (a hint must never
    lead to nothing, nor to a page of partial matches): read exactly as `search` reads it."""
    try:
        # Without a day, the text is read as written (a stored query's words).
        reading, names = read(session, text, today, names=names, stored=today is None)
        if reading.query.is_empty and not reading.query.has_exclusions:
            return False  # nothing, or only an intent ("due", "latest"): nothing to find
        where = compile_reading(session, reading, names, today).where
    except UserError:
        return False
    page = briefs_data.search(session, where, 1, load=False)
    return page.total > 0 and not page.partial


def _no_results(
    session: Session,
    headline: str,
    text: str,
    analysed: TextQueries,
    notes: list[str],
    command: str = SEARCH_COMMAND,
    hint: str = "Try fewer words, or `/policy latest` to see what is stored.",
    where: BriefFilter | None = None,
    today: date | None = None,
    finds: Callable[[str], bool] | None = None,
) -> Reply:
    """Say so, and suggest words and bodies that do exist, each checked to find something
    (`finds`: whether the command finds something for a text; a search's by default); a
    button runs the corrected query."""
    reply = Reply(text=headline, notes=list(notes))
    check = command == SEARCH_COMMAND
    checked = check or finds is not None

    def finds_something(text: str) -> bool:
        if finds is not None:
            return finds(text)
        return _finds_something(session, text, today, names)

    suggestions = briefs_data.suggest(session, analysed.plain_words)
    names = BodyNames(session)

    def spelled(term: str) -> str:
        """A suggested term as a person writes it: a body by its name (`ndrc` -> NDRC)."""
        body = names.find(term)
        return body.abbreviation if body is not None else term

    offered: list[str] = []
    words: list[str] = []
    if suggestions.terms:
        fixes = suggestions.for_word
        first, candidates = next(iter(fixes.items()))
        for candidate in candidates[:3]:
            fixed = _more_text(text)
            for word, alternatives in fixes.items():
                replacement = candidate if word == first else alternatives[0]
                fixed = _replace_word(fixed, word, spelled(replacement))
            if fixed not in offered and (not checked or finds_something(fixed)):
                offered.append(fixed)
                # The corrected words, as the button searches them (not one word of them).
                words.append(
                    " ".join(
                        spelled(candidate if w == first else fixes[w][0]) if w in fixes else w
                        for w in analysed.plain_words
                    )
                )
                reply.buttons.append(Button(f"Search {fixed}", f"{command} {fixed}"))
    if words:
        reply.notes.append("Did you mean: " + ", ".join(f"`{t}`" for t in words) + "?")
    if checked and len(analysed.plain_words) > 1:
        # One word that nothing matches: offer the query without it.
        for word in analysed.plain_words:
            if _finds_something(session, word, today, names):
                continue  # a word briefs have matters to the query: never offer it away
            without = _replace_word(_more_text(text), word, "").strip()
            without = " ".join(without.split())
            if without and without not in offered and finds_something(without):
                reply.notes.append(f"Without `{word[:40]}`: `{without}`.")
                reply.buttons.append(Button(f"Search {without}", f"{command} {without}"))
                offered.append(without)
                break
    bodies = [b for b in suggestions.bodies if not checked or finds_something(f"body:{b}")]
    if bodies:
        reply.notes.append(
            "Issuing bodies with similar names: " + ", ".join(f"`body:{b}`" for b in bodies)
        )
    if not offered and not bodies:
        plain = analysed.plain_words
        if check and len(plain) == 1 and where is not None and not _has_filters(where):
            # One word: fewer words cannot help; say what can.
            reply.notes.append(
                f"No brief mentions `{plain[0][:40]}` yet. `/policy latest` lists what is "
                f"stored; `/policy subscribe {plain[0][:40]}` tells this channel when one arrives."
            )
        elif check and plain and where is not None and _has_filters(where):
            words_only = " ".join(plain)
            if _finds_something(session, words_only, today, names):
                reply.notes.append(f"Briefs match `{words_only}`, but none with your filters.")
                reply.buttons.append(Button(f"Search {words_only}", f"{command} {words_only}"))
            else:
                reply.notes.append(hint)
        elif check and not plain and where is not None and (where.since or where.until):
            undated = replace(where, since=None, until=None)
            page = briefs_data.search(session, undated, 1, load=False)
            # Only the newest's ref and date are said (no goal countdown needs `today`).
            shown = brief_views(session, page.ids, today or date.min) if page.total else {}
            if shown:
                newest = next(iter(shown.values()))
                when = f"{newest.published_on:%-d %b %Y}" if newest.published_on else "undated"
                reply.notes.append(
                    f"Nothing in those dates; without them {page.total} brief"
                    f"{'s' if page.total != 1 else ''} match, the newest {newest.ref} ({when})."
                )
                reply.buttons.append(Button(f"Show {newest.ref}", f"show {newest.ref}"))
            else:
                reply.notes.append(hint)
        else:
            reply.notes.append(hint)
    return reply


def _has_filters(where: BriefFilter) -> bool:
    return bool(
        where.body_ids
        or where.exclude_body_ids
        or where.since
        or where.until
        or where.due_year
        or where.kind
    )


def show(request: Request) -> Reply:
    session, ctx, argument = request.session, request.context, request.argument
    argument = unicodedata.normalize("NFKC", argument).strip()  # full-width "ｂ２" too
    if not argument:
        raise UserError("Which brief? For example `/policy show b3` (ids are in search results).")
    brief = None
    brief_id = parse_brief_ref(argument)
    goal_id = parse_goal_ref(argument)
    if brief_id is not None:
        brief = get_brief(session, brief_id)
    elif goal_id is not None:
        brief = get_brief_of_goal(session, goal_id)
    elif argument.lower().startswith("me ") and len(argument.split()) > 1:
        # "show me MIIT policies on batteries" is a question, not an id: search it.
        reply = search(Request(session, ctx, argument.split(maxsplit=1)[1]))
        reply.notes.insert(0, "`show` takes a brief id such as `b3`; I searched for your words.")
        return reply
    else:
        raise UserError(
            f"`{argument[:40]}` is not a brief id; ids look like `b3` "
            "(to search, `/policy <words>`)."
        )
    if brief is None:
        raise UserError(f"There is no brief `{argument[:40]}`. `/policy latest` lists recent ones.")
    view = brief_view(brief, ctx.today)
    reply = Reply(text=f"{view.ref}: {view.title}", detail=view)
    # Where it comes from: the primary text and a tracker's coverage; its draft or final.
    reply.notes += provenance_lines(session, brief)
    add_notes_to_show(session, ctx, brief.id, reply)
    return reply


def latest(request: Request) -> Reply:
    """`latest [n] [words and filters]`: the newest briefs, or the newest that match."""
    session, ctx, argument, page_number = (
        request.session,
        request.context,
        request.argument,
        request.page,
    )
    argument = argument.strip()
    words = argument.split()
    count: int | None = None
    year_first = len(words) > 1 and re.fullmatch(r"(19|20|21)\d\d", words[0])  # "latest 2027 ..."
    if words and _looks_like_number(words[0]) and not year_first:
        count = _latest_count(words[0])
        words = words[1:]
    elif len(words) > 1 and words[-1].isdecimal() and int(words[-1]) <= MAX_LATEST:
        count = _latest_count(words[-1])
        words = words[:-1]
    if not words:
        return _newest_of_all(session, ctx, count, page_number)
    text = " ".join(words)
    reading, names = _read(session, ctx, text, Intent.LATEST)
    if reading.count is not None and count is None:
        count = reading.count
    reading = replace(reading, count=count)
    if reading.query.company:
        raise UserError("`kind:company` is for `/policy deadlines`; `latest` lists briefs.")
    more = " ".join(f"latest {count or ''} {_more_text(text)}".split())
    return _newest(session, ctx, reading, names, page_number, more)


_NUMBER_WORDS = frozenset(
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty"]
)


def _looks_like_number(word: str) -> bool:
    """ "7", "ten", "1.5", "-1", "²": meant as how many (words that are not words)."""
    return (
        word.lower() in _NUMBER_WORDS
        or bool(re.fullmatch(r"[-+]?[\d.,]+", word))
        or (any(unicodedata.category(ch) == "No" for ch in word))
    )


def _latest_count(word: str) -> int:
    # isdecimal, not isdigit: int() refuses "²", which isdigit accepts.
    if not word.isdecimal() or not 1 <= int(word) <= MAX_LATEST:
        raise UserError(
            f"`latest` takes a number from 1 to {MAX_LATEST}, e.g. `/policy latest 10`, "
            "and words or filters, e.g. `/policy latest body:MIIT`."
        )
    return int(word)


def _newest_of_all(session: Session, ctx: Context, count: int | None, page_number: int) -> Reply:
    wanted = count or PAGE_SIZE
    offset = (page_number - 1) * PAGE_SIZE
    size = max(0, min(PAGE_SIZE, wanted - offset))
    page = briefs_data.latest(session, size, offset, load=False)
    if page.total == 0:
        return Reply(text="No briefs are stored yet; add tracker issues with `policybot ingest`.")
    page.total = min(page.total, wanted)
    page.limit = size
    command = f"latest {count or ''}".strip()
    noun = "brief" if page.total == 1 else "briefs"
    views = _page_views(session, ctx, page)
    return _paged_reply(page, views, f"The {page.total} newest {noun}", command, page_number)


def _newest(
    session: Session,
    ctx: Context,
    reading: Reading,
    names: BodyNames,
    page_number: int,
    more: str,
) -> Reply:
    """The newest briefs that match the reading (the same words and filters as search)."""
    query = reading.query
    if query.is_empty and not query.has_exclusions:
        reply = _newest_of_all(session, ctx, reading.count, page_number)
        reply.notes[:0] = [*_read_note(reading, "latest"), *query.notes]
        return reply
    meaning = compile_reading(session, reading, names, ctx.today)
    where, analysed = meaning.where, meaning.analysed
    wanted = reading.count or PAGE_SIZE
    offset = (page_number - 1) * PAGE_SIZE
    size = max(0, min(PAGE_SIZE, wanted - offset))
    page = newest_matching(session, where, size, offset)
    described = query.describe()
    notes = [*_read_note(reading, "latest"), *query.notes, *_ignored_note(analysed, where)]
    if page.total == 0:
        return _emptied_by_exclusions(session, query, where, notes) or _no_results(
            session,
            f"No briefs match {described}.",
            described,
            analysed,
            notes,
            command=" ".join(f"latest {reading.count or ''}".split()),
            where=where,
            today=ctx.today,
            # `latest` shows the briefs a search finds, newest first.
            finds=lambda text: _finds_something(session, text, ctx.today, names),
        )
    matching = page.total
    page.total = min(page.total, wanted)
    noun = "brief" if page.total == 1 else "briefs"
    of = f" of {matching}" if matching > page.total else ""
    views = _page_views(session, ctx, page)
    reply = _paged_reply(
        page, views, f"The {page.total} newest{of} {noun} for {described}", more, page_number
    )
    reply.notes[:0] = notes
    if reading.asks_who and page_number == 1:
        reply.notes += _issuers(session, ctx, where)
    return reply


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


def _explicit_due_window(
    query: Query | None, today: date, end: date, label: str
) -> tuple[date, date, str]:
    """`due:2035` lists the goals due in 2035 and `due:..2030` those due up to the end of
    2030, however far off: the year asked for replaces the default window."""
    year = query.due_year or query.due_by if query is not None else None
    if year is None or query is None:
        return today, end, label
    year_end = date(year, 12, 31)
    if year_end < today:
        return today, end, label  # nothing ahead can be due then; the filter says so
    start = max(today, date(year, 1, 1)) if query.due_year else today
    months = (year_end.year - today.year) * 12 + year_end.month - today.month
    return start, year_end, f"{months} months (to the end of {year})"


def deadlines(request: Request, *, suggest: bool = True) -> Reply:
    """`deadlines [within 18m] [words and filters]`. `suggest`: offer corrections (each
    checked by running it without suggestions)."""
    session, ctx, text, page_number = (
        request.session,
        request.context,
        request.argument,
        request.page,
    )
    words = text.split()
    window, rest, label = parse_window(words)
    rest_text = " ".join(rest)
    window_words = " ".join(words[: len(words) - len(rest)])
    if not rest_text:
        return _deadline_reply(
            session, ctx, None, (window, label, window_words), rest_text, page_number
        )
    reading, _names = _read(session, ctx, rest_text, Intent.DEADLINES)
    return _deadline_reply(
        session, ctx, reading, (window, label, window_words), rest_text, page_number, suggest
    )


def _routed_deadlines(
    session: Session, ctx: Context, reading: Reading, names: BodyNames, page_number: int
) -> Reply:
    """A question that asks for deadlines ("what are the deadlines for batteries") gets the
    deadline list, read as `deadlines` reads its words."""
    words = list(reading.query.words)
    window, rest, label = parse_window(words)
    said = list(words)
    for word in rest:
        said.remove(word)
    window_words = " ".join(said)  # "within 2 years", wherever the question said it
    reading = replace(reading, query=replace(reading.query, words=tuple(rest)))
    more = reading.query.describe()
    reply = _deadline_reply(session, ctx, reading, (window, label, window_words), more, page_number)
    return reply


_Window = tuple[timedelta | int, str, str]  # the window, its label, the words that said it


def _deadline_reply(
    session: Session,
    ctx: Context,
    reading: Reading | None,
    window_said: _Window,
    rest_text: str,
    page_number: int,
    suggest: bool = True,
) -> Reply:
    window, label, window_words = window_said
    today = ctx.today
    end = today + window if isinstance(window, timedelta) else add_months(today, window)
    query = reading.query if reading is not None else None
    where: BriefFilter | None = None
    analysed = TextQueries()
    if reading is not None:
        meaning = compile_reading(session, reading, BodyNames(session), today)
        where, analysed = meaning.where, meaning.analysed
    start, end, label = _explicit_due_window(query, today, end, label)
    offset = (page_number - 1) * PAGE_SIZE
    # Only the page shown is loaded; the count comes from the database (or the index).
    page = due_goals_page(session, start, end, where, limit=PAGE_SIZE, offset=offset)
    later = False
    if not page.total and not window_words and query is not None and query.describe():
        # Nothing in the default window: the next ones, however far off, rather than none.
        far = date(today.year + _LATER_YEARS, 12, 31)
        page = due_goals_page(session, start, far, where, limit=PAGE_SIZE, offset=offset)
        later = bool(page.total)
    shown, total = page.goals, page.total
    about = f" for {query.describe()}" if query and query.describe() else ""
    notes = [*_read_note(reading, "deadlines")] if reading is not None else []
    notes += list(query.notes) if query else []
    if where is not None:
        notes += _ignored_note(analysed, where)
    if not total:
        reply = _no_results(
            session,
            f"No deadlines in the next {label}{about}.",
            f"{window_words} {_more_text(rest_text)}".strip(),
            analysed,
            notes,
            command="deadlines",
            hint="Try a longer window, e.g. `/policy deadlines within 5y`.",
            finds=lambda text: (
                suggest and bool(deadlines(Request(session, ctx, text), suggest=False).deadlines)
            ),
        )
        return reply
    noun = "deadline" if total == 1 else "deadlines"
    headline = f"{total} {noun} in the next {label}{about}"
    if later:
        headline = f"{total} later {noun}{about} (none in the next {label})"
    reply = Reply(
        text=headline,
        deadlines=[
            DeadlineView(goal_view(d.goal, today), brief_view(d.brief, today)) for d in shown
        ],
        notes=notes,
    )
    if shown and total > PAGE_SIZE:
        reply.notes.append(f"Showing {offset + 1}\u2013{offset + len(shown)} of {total}.")
    elif not shown:
        reply.text = f"No more deadlines in the next {label}{about}."
        reply.notes.append(_past_the_end(page_number, total))
    if offset + len(shown) < total:
        more = " ".join(p for p in ("deadlines", window_words, _more_text(rest_text)) if p)
        reply.buttons.append(Button("More", f"{more} page:{page_number + 1}"))
    return reply
