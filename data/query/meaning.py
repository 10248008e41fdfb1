"""Text -> what it means: the one path every consumer compiles query text through.

Search, `latest`, `deadlines`, subscriptions, reminder rules, their previews, exports, the
scorecard, App Home and the scheduler all call `meaning_of`, so the same words mean the
same thing wherever they are typed: `subscribe targets for 2027` follows what `/policy
targets for 2027` finds, and `remind` over the words of `deadlines` reminds of the goals it
lists.

Two kinds of text come in:

- what a person typed: parsed, then understood (data/query/understanding.py: "targets for
  2027" is `due:2027`, "last month" the dates of last month, "MIIT's" `body:MIIT`);
- a stored meaning (`stored=True`): what a subscription or reminder rule saved, which is the
  understood query written out (`Meaning.stored_text`, the query language of
  data/query/language.py). It is read as written and never understood again, so what a
  stored query matched yesterday it matches today: a relative phrase ("last month", "next
  year") was fixed to dates when it was saved, and a change to how questions are read
  never changes what an existing subscription delivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ..briefs import BriefFilter
from .compiler import BodyNames, TextQueries, build_filter
from .language import Query, parse_query
from .understanding import Intent, Reading, understand

# Command words: a search that starts with one was asked for as words (`search latest`
# searches for "latest"; the `latest` command would have taken it otherwise).
COMMAND_WORDS = frozenset(["latest", "deadlines", "deadline"])


@dataclass(frozen=True)
class Meaning:
    """A text as understood, and the store filter it compiles to."""

    reading: Reading
    where: BriefFilter
    analysed: TextQueries
    names: BodyNames

    @property
    def query(self) -> Query:
        return self.reading.query

    @property
    def stored_text(self) -> str:
        """What a subscription or rule keeps: the understood query, written out in the
        query language (read back with `stored=True`, it compiles to the same filter)."""
        return self.reading.query.describe()


def read(
    session: Session,
    text: str,
    today: date | None,
    intent: Intent = Intent.SEARCH,
    *,
    names: BodyNames | None = None,
    stored: bool = False,
    literal_first: bool | None = None,
) -> tuple[Reading, BodyNames]:
    """The reading of `text` (see the module's docstring for `stored`), without compiling
    it: for a command that decides what to answer before it searches. `literal_first`: the
    first word is a search word whatever it says; by default when a search starts with a
    command word (`/policy search latest` searches for "latest": the `latest` command would
    have taken it otherwise)."""
    names = names or BodyNames(session)
    query = parse_query(text)
    if stored:
        return Reading(query, intent=intent), names
    if today is None:
        raise ValueError("a typed question is read on a day (`today`); only stored text has none")
    if literal_first is None:
        first = text.split()[0].lower() if text.split() else ""
        literal_first = intent is Intent.SEARCH and first in COMMAND_WORDS
    return understand(query, today, names, intent, literal_first=literal_first), names


def compile_reading(
    session: Session, reading: Reading, names: BodyNames, today: date | None
) -> Meaning:
    """A reading (maybe narrowed by its command, as `deadlines` takes its window out) and
    its filter."""
    where, analysed = build_filter(session, reading.query, names, today=today)
    return Meaning(reading, where, analysed, names)


def meaning_of(
    session: Session,
    text: str,
    today: date | None,
    intent: Intent = Intent.SEARCH,
    *,
    names: BodyNames | None = None,
    stored: bool = False,
    literal_first: bool | None = None,
) -> Meaning:
    """What `text` means and the filter it compiles to; raises UserError for text that
    cannot mean anything (an unknown body, a bad date, only stopwords).

    `today`: the day a typed question is read on, and the start of a `due:..YEAR` bound;
    None for a stored meaning read by the scheduler (its bound then counts deadlines
    already passed too, as it always has: a stored meaning does not move with the clock).
    `intent`: what the command asks for (`deadlines` and reminder rules: Intent.DEADLINES,
    where a lone year ahead is a deadline year). `names`: a body-name table to reuse when
    compiling many texts (the scheduler). `literal_first`: as `read` says (a subscription
    passes False: `subscribe latest from MIIT` follows MIIT, as `/policy latest from MIIT`
    lists it, not briefs that say "latest")."""
    reading, names = read(
        session, text, today, intent, names=names, stored=stored, literal_first=literal_first
    )
    return compile_reading(session, reading, names, today)
