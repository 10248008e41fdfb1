"""The query grammar shared by search, deadlines (and later subscribe and remind).

    storage "smart factory" -battery body:MIIT since:2024-11 until:2024-12-31 due:2027 kind:news

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

from data.models import BriefKind

MAX_QUERY_CHARS = 500
FILTERS = ("body", "since", "until", "due", "kind")
_FILTER = re.compile(r"^([A-Za-z_]{2,15}):(.*)$", re.S)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


class UserError(ValueError):
    """Input the bot cannot use; the message is shown to the user as is."""


@dataclass
class Query:
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    due_year: int | None = None
    kind: BriefKind | None = None
    notes: list[str] = field(default_factory=list)  # what the parser adjusted, for the reply

    @property
    def is_empty(self) -> bool:
        return not (
            self.words or self.phrases or self.bodies or self.since or self.until
            or self.due_year or self.kind
        )

    def describe(self) -> str:
        parts = [*self.words, *(f'"{p}"' for p in self.phrases), *(f"-{w}" for w in self.excluded)]
        parts += [f"body:{b}" for b in self.bodies]
        if self.since:
            parts.append(f"since:{self.since.isoformat()}")
        if self.until:
            parts.append(f"until:{self.until.isoformat()}")
        if self.due_year:
            parts.append(f"due:{self.due_year}")
        if self.kind:
            parts.append(f"kind:{self.kind}")
        return " ".join(parts)


def clean_text(text: str) -> str:
    """Drop control and format characters (keep the text's letters, emoji and RTL words)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cf", "Cs", "Co") or ch == "\u200d"
    )


def tokenize(text: str) -> tuple[list[tuple[str, bool]], bool]:
    """Split into (token, quoted) pairs. `key:"two words"` stays one token. Returns whether
    a quote was left open (it is closed at the end)."""
    tokens: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    unbalanced = False
    quotes = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c", "\u00ab": "\u00bb", "'": "'"}
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        prefix = ""
        if text[i] in quotes and (text[i] != "'" or _opens_quote(text, i)):
            closing = quotes[text[i]]
            end = text.find(closing, i + 1)
            if end < 0 and closing == "\u201d":
                end = text.find('"', i + 1)
            if end < 0:
                unbalanced = True
                end = n
            tokens.append((text[i + 1 : end], True))
            i = end + 1
            continue
        while i < n and not text[i].isspace():
            if text[i] == '"' and text[start:i].endswith(":"):
                prefix = text[start:i]
                end = text.find('"', i + 1)
                if end < 0:
                    unbalanced = True
                    end = n
                tokens.append((prefix + text[i + 1 : end], False))
                i = end + 1
                break
            i += 1
        else:
            tokens.append((text[start:i], False))
    return tokens, unbalanced


def _opens_quote(text: str, i: int) -> bool:
    # An apostrophe opens a quote only at a word start with a closing one later.
    return (i == 0 or text[i - 1].isspace()) and "'" in text[i + 1 :]


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


def _apply_filter(query: Query, key: str, value: str) -> None:
    value = value.strip()
    if not value:
        example = {"body": "body:MIIT", "since": "since:2024-11-01", "until": "until:2024-12-31",
                   "due": "due:2027", "kind": "kind:news"}[key]
        raise UserError(f"`{key}:` needs a value, for example `{example}`.")
    if key == "body":
        query.bodies.append(value)
    elif key == "since":
        query.since = parse_date_bound(value, end=False)
    elif key == "until":
        query.until = parse_date_bound(value, end=True)
    elif key == "due":
        if not _YEAR.match(value) or not 1900 <= int(value) <= 2200:
            raise UserError(f"`due:` takes a year, for example `due:2027` (not `{value}`).")
        query.due_year = int(value)
    elif key == "kind":
        try:
            query.kind = BriefKind(value.lower())
        except ValueError:
            raise UserError("`kind:` is `kind:policy` or `kind:news`.") from None


def parse_query(text: str) -> Query:
    """Parse search text into a Query, or raise UserError with a helpful sentence."""
    query = Query()
    text = clean_text(text).strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        query.notes.append(f"Your query was long; I used its first {MAX_QUERY_CHARS} characters.")
    tokens, unbalanced = tokenize(text)
    if unbalanced:
        query.notes.append("A quote was not closed; I closed it at the end of your text.")
    for token, quoted in tokens:
        if quoted:
            if token.strip():
                query.phrases.append(token.strip())
            continue
        match = _FILTER.match(token)
        if match and not token.lower().startswith(("http:", "https:")):
            key = match[1].lower()
            if key in FILTERS:
                _apply_filter(query, key, match[2].strip('"'))
                continue
            close = difflib.get_close_matches(key, FILTERS, n=1, cutoff=0.6)
            hint = f" Did you mean `{close[0]}:`?" if close else ""
            raise UserError(
                f"I don't know the filter `{key}:`.{hint} Filters: "
                + ", ".join(f"`{f}:`" for f in FILTERS)
                + "."
            )
        if token.startswith("-") and len(token) > 1 and token[1] != "-":
            query.excluded.append(token[1:])
        elif token.strip("-"):
            query.words.append(token)
    if query.since and query.until and query.since > query.until:
        raise UserError(
            f"`since:{query.since}` is after `until:{query.until}`, so nothing can match."
        )
    return query
