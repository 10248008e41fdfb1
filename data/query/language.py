"""The query language shared by search, deadlines, subscriptions, reminders and exports.

    storage "smart factory" -battery body:MIIT since:2024-11 until:2024-12-31 due:2027 kind:news
    storage OR battery      NOT lithium      manuf*

`due:YEAR` means a goal whose deadline falls in that year; a window's deadline is when it
closes ("over the next five years" from 2024 is due in 2029, not in 2025-2028). `due:..YEAR`
means a goal due from today up to the end of that year ("by 2030").

Tolerant by design: an unbalanced quote closes at the end of the text, stray operators are
plain words, and anything that cannot mean what the user wants is a `UserError` with a
sentence that says how to write it.
"""

from __future__ import annotations

import calendar
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from ..errors import UserError
from ..models import BriefKind

MAX_QUERY_CHARS = 500
FILTERS = ("body", "since", "until", "due", "kind")
_FILTER = re.compile(r"^([A-Za-z_]{2,15}):(.*)$", re.S)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_LAST_BOUNDARY = re.compile(r"\s\S*$")


__all__ = [
    "FILTERS",
    "MAX_QUERY_CHARS",
    "Query",
    "UserError",
    "clean_text",
    "parse_query",
    "shortened",
]


@dataclass(frozen=True)
class Query:
    """A query's meaning, as parsed (and, by data/query/understanding.py, as understood).
    A value: reading a query makes a new one, nothing changes one in place."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    # Words joined by OR: each group matches a brief holding any one of its members (a
    # member in quotes is a phrase).
    any_of: tuple[tuple[str, ...], ...] = ()
    bodies: tuple[str, ...] = ()
    excluded_bodies: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    due_year: int | None = None
    due_by: int | None = None  # `due:..2030`: a deadline from today to the end of that year
    kind: BriefKind | None = None
    # `kind:company`: companies' own commitments instead of government targets (deadlines,
    # reminders, the scorecard and App Home list government targets otherwise).
    company: bool = False
    notes: tuple[str, ...] = ()  # what the parser adjusted, for the reply

    @property
    def is_empty(self) -> bool:
        """Nothing to look for (exclusions alone still narrow "everything")."""
        return not (self.words or self.phrases or self.any_of or self._narrows)

    @property
    def has_exclusions(self) -> bool:
        return bool(self.excluded or self.excluded_phrases or self.excluded_bodies)

    @property
    def has_filters(self) -> bool:
        return bool(self.excluded_bodies or self._narrows)

    @property
    def _narrows(self) -> bool:
        """A filter that picks briefs (bodies, dates, deadlines, kinds)."""
        return bool(
            self.bodies
            or self.since
            or self.until
            or self.due_year
            or self.due_by
            or self.kind
            or self.company
        )

    def describe(self) -> str:
        parts = [*self.words, *(f'"{p}"' for p in self.phrases)]
        parts += [" OR ".join(group) for group in self.any_of]
        parts += [f"-{w}" for w in self.excluded]
        parts += [f'-"{p}"' for p in self.excluded_phrases]
        parts += [f"body:{_quote_value(b)}" for b in self.bodies]
        parts += [f"-body:{_quote_value(b)}" for b in self.excluded_bodies]
        if self.since:
            parts.append(f"since:{self.since.isoformat()}")
        if self.until:
            parts.append(f"until:{self.until.isoformat()}")
        if self.due_year:
            parts.append(f"due:{self.due_year}")
        if self.due_by:
            parts.append(f"due:..{self.due_by}")
        if self.kind:
            parts.append(f"kind:{self.kind}")
        if self.company:
            parts.append("kind:company")
        return " ".join(parts)


@dataclass
class _Parts:
    """What parse_query collects while it reads the tokens (frozen into a Query at the end)."""

    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    excluded_phrases: list[str] = field(default_factory=list)
    any_of: list[list[str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    excluded_bodies: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    due_year: int | None = None
    due_by: int | None = None
    kind: BriefKind | None = None
    company: bool = False
    notes: list[str] = field(default_factory=list)

    def frozen(self) -> Query:
        return Query(
            words=tuple(self.words),
            phrases=tuple(self.phrases),
            excluded=tuple(self.excluded),
            excluded_phrases=tuple(self.excluded_phrases),
            any_of=tuple(tuple(group) for group in self.any_of),
            bodies=tuple(self.bodies),
            excluded_bodies=tuple(self.excluded_bodies),
            since=self.since,
            until=self.until,
            due_year=self.due_year,
            due_by=self.due_by,
            kind=self.kind,
            company=self.company,
            notes=tuple(self.notes),
        )


def _quote_value(value: str) -> str:
    return f'"{value}"' if any(ch.isspace() for ch in value) else value


def clean_text(text: str) -> str:
    """Drop control and format characters (keep the text's letters, emoji and RTL words).

    Line breaks and a zero-width space separate words, so they become spaces."""
    text = unicodedata.normalize("NFC", text)
    if text.isprintable():
        # Nothing to drop or replace: every character of those categories, and the
        # zero-width space, is unprintable (the scheduler compiles thousands of texts).
        return text
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch == "\u200b" else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co") or ch in "\u200b\u200d"
    )


def shortened(text: str) -> str:
    """At most MAX_QUERY_CHARS of cleaned text, cut at a word boundary (a word cut in two
    would be searched as another word)."""
    text = clean_text(text).strip()
    if len(text) <= MAX_QUERY_CHARS:
        return text
    # The character after the limit tells whether the limit falls between two words.
    boundary = _LAST_BOUNDARY.search(text[: MAX_QUERY_CHARS + 1])
    # One giant word has no boundary to cut at: keep its first characters.
    return text[: boundary.start()].rstrip() if boundary else text[:MAX_QUERY_CHARS]


class Token(NamedTuple):
    text: str
    quoted: bool = False  # a "quoted phrase"
    negated: bool = False  # -"quoted phrase"


# Opening quote -> the characters that may close it. Phones and Macs type curly quotes,
# Chinese keyboards 「」 or “”, and people mix them, so a straight quote closes them too.
_QUOTES = {
    '"': '"\u201d',
    "\u201c": '\u201d\u201c"',
    "\u201e": '\u201c\u201d"',
    "\u00ab": '\u00bb"',
    "\u300c": "\u300d",
    "\u300e": "\u300f",
    "'": "'",
}


def tokenize(text: str) -> tuple[list[Token], bool]:
    """Split into tokens: words, "quoted phrases", -"negated phrases"; `key:"two words"`
    stays one (unquoted) token. Returns whether a quote was left open (it is closed at
    the end of the text)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    unbalanced = False
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and _opens_quote(text, i + 1)
        if negated or _opens_quote(text, i):
            start = i + 1 if negated else i
            content, i, closed = _quoted(text, start)
            unbalanced = unbalanced or not closed
            tokens.append(Token(content, quoted=True, negated=negated))
            continue
        start = i
        while i < n and not text[i].isspace():
            if i > start and text[i - 1] == ":" and _opens_quote(text, i):
                key = text[start:i]
                content, i, closed = _quoted(text, i)
                unbalanced = unbalanced or not closed
                tokens.append(Token(key + content))
                break
            i += 1
        else:
            tokens.append(Token(text[start:i]))
    return tokens, unbalanced


def _opens_quote(text: str, i: int) -> bool:
    """Whether text[i] opens a quote. An apostrophe does so only with a closing one later
    (so "China's" stays a word)."""
    if i >= len(text) or text[i] not in _QUOTES:
        return False
    return text[i] != "'" or "'" in text[i + 1 :]


def _quoted(text: str, i: int) -> tuple[str, int, bool]:
    """The quote opening at i: (content, index after it, whether it was closed)."""
    closers = _QUOTES[text[i]]
    for end in range(i + 1, len(text)):
        if text[end] in closers:
            return text[i + 1 : end], end + 1, True
    return text[i + 1 :], len(text), False


def parse_date_bound(value: str, *, end: bool) -> date:
    """2024-11-01, 2024-11 or 2024; a month or year means its first (or last) day."""
    value = value.strip()
    try:
        if match := _ISO_DAY.match(value):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _ISO_MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day)
        if match := _YEAR.match(value):
            year = int(match[1])
            if year >= 1:
                return date(year, 12, 31) if end else date(year, 1, 1)
    except ValueError:
        pass
    raise UserError(f"`{value}` is not a date I can read; write it as 2024-11-01, 2024-11 or 2024.")


_EXAMPLES = {
    "body": "body:MIIT",
    "since": "since:2024-11-01",
    "until": "until:2024-12-31",
    "due": "due:2027 or due:..2030",
    "kind": "kind:news",
}


def _apply_filter(query: _Parts, key: str, value: str, *, negated: bool = False) -> None:
    value = value.strip()
    if not value:
        raise UserError(f"`{key}:` needs a value, for example `{_EXAMPLES[key]}`.")
    if negated and key != "body":
        raise UserError(
            f"`-{key}:` cannot be excluded; only words, phrases and bodies can "
            '(`-pilot`, `-"smart factory"`, `-body:MIIT`).'
        )
    if key == "body":
        (query.excluded_bodies if negated else query.bodies).append(value)
    elif key == "since":
        query.since = parse_date_bound(value, end=False)
    elif key == "until":
        query.until = parse_date_bound(value, end=True)
    elif key == "due":
        by = value.startswith("..")
        year = value[2:] if by else value
        if not _YEAR.match(year) or not 1900 <= int(year) <= 2200:
            raise UserError(
                "`due:` takes a year, for example `due:2027`, or `due:..2030` for anything due "
                f"by the end of 2030 (not `{value}`)."
            )
        if by:
            query.due_by = int(year)
        else:
            query.due_year = int(year)
    elif key == "kind":
        if value.lower() in ("company", "companies"):
            query.company = True
            return
        try:
            query.kind = BriefKind(value.lower())
        except ValueError:
            raise UserError(
                "`kind:` is `kind:policy` or `kind:news` (the kind of brief), or `kind:company` "
                "(companies' own commitments, in deadlines, reminders and the scorecard)."
            ) from None


def _filter_token(token: str) -> tuple[str, str, bool] | None:
    """(key, value, negated) when the token is meant as a filter: `body:MIIT`, `-body:MIIT`,
    or an unknown `key:value` (an error that names the filters). A word that merely ends in
    a colon ("China:") and links are words."""
    negated = token.startswith("-")
    # Full-width letters (ｂｏｄｙ:) are the same key.
    match = _FILTER.match(unicodedata.normalize("NFKC", token[1:] if negated else token))
    if match is None or token.lower().startswith(("http:", "https:")):
        return None
    key, value = match[1].lower(), match[2].strip()
    if key not in FILTERS and not value:
        return None
    return key, value, negated


def _add_term(query: _Parts, term: str, joins_or: bool, last: str | None) -> str:
    """Add a word or a "phrase" (in quotes); after OR it joins the previous term's group."""
    if joins_or and last is not None:
        for group in query.any_of:
            if group[-1] == last:
                group.append(term)
                return term
        _remove_term(query, last)
        query.any_of.append([last, term])
        return term
    if term.startswith('"'):
        query.phrases.append(term[1:-1])
    else:
        query.words.append(term)
    return term


def _remove_term(query: _Parts, term: str) -> None:
    if term.startswith('"'):
        query.phrases.reverse()
        query.phrases.remove(term[1:-1])
        query.phrases.reverse()
    else:
        query.words.reverse()
        query.words.remove(term)
        query.words.reverse()


def parse_query(text: str) -> Query:
    """Parse search text into a Query, or raise UserError with a helpful sentence."""
    query = _Parts()
    full = clean_text(text).strip()
    text = shortened(full)
    if len(text) < len(full):
        query.notes.append(
            f"Your query was long; I used its first {MAX_QUERY_CHARS} characters, "
            "up to the last whole word."
        )
    tokens, unbalanced = tokenize(text)
    if unbalanced:
        query.notes.append("A quote was not closed; I closed it at the end of your text.")
    pending_or = False  # the previous token was OR: the next term joins the last group
    negate_next = False  # the previous token was NOT
    last_term: str | None = None  # the last positive word or phrase, as OR may join it
    for token in tokens:
        if token.quoted:
            phrase = token.text.strip()
            if not phrase:
                continue
            if token.negated or negate_next:
                query.excluded_phrases.append(phrase)
                negate_next = False
                continue
            last_term = _add_term(query, f'"{phrase}"', pending_or, last_term)
            pending_or = False
            continue
        word = token.text
        if word == "OR" and last_term is not None:
            pending_or = True
            continue
        if word == "NOT":
            negate_next = True
            continue
        if word == "AND":
            continue  # every word is required anyway
        if (found := _filter_token(word)) is not None:
            key, value, negated = found
            if key not in FILTERS:
                close = difflib.get_close_matches(
                    key, FILTERS, n=1, cutoff=0.7
                )  # "title" is not "until"
                hint = f" Did you mean `{close[0]}:`?" if close else ""
                raise UserError(
                    f"I don't know the filter `{key}:`.{hint} Filters: "
                    + ", ".join(f"`{f}:`" for f in FILTERS)
                    + "."
                )
            _apply_filter(query, key, value.strip('"'), negated=negated or negate_next)
            negate_next = False
            continue
        if negate_next and word.strip("-"):
            query.excluded.append(word)
            negate_next = False
        elif word.startswith("-") and len(word) > 1 and word[1] != "-":
            query.excluded.append(word[1:])
        elif word.strip("-"):
            last_term = _add_term(query, word, pending_or, last_term)
            pending_or = False
    if negate_next:
        query.words.append("NOT")  # a trailing NOT is a word, as any stray operator
    if pending_or:
        query.words.append("OR")
    if query.since and query.until and query.since > query.until:
        raise UserError(
            f"`since:{query.since}` is after `until:{query.until}`, so nothing can match."
        )
    return query.frozen()
