"""Which of a few candidate briefs each of many standing queries matches, for the planners.

A tick asks thousands of subscriptions or reminder rules about the same handful of
candidates (the briefs that arrived, the goals that fall due). Each distinct search term is
tested once against the candidates, each distinct set of structured filters once, and each
query is then set arithmetic over those answers; each distinct query text is compiled once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace

from sqlalchemy.orm import Session

from ..data.briefs import BriefFilter, matching_ids
from ..data.errors import UserError
from ..data.query.compiler import BodyNames
from ..data.query.meaning import meaning_of
from ..data.search.analysis import TermQuery
from ..data.search.live import candidate_searcher
from ..data.search.ranking import Plan, Searcher


class _CompiledFilters:
    """Filters kept across ticks: a scheduler asks the same thousands of standing queries
    every minute. A filter depends on the query text and on the body-name table (aliases
    can be added or removed): the filters are kept for one table and dropped when another
    is read. Errors are not kept (their suggestions depend on the briefs stored)."""

    limit = 50_000

    def __init__(self) -> None:
        self.table: frozenset[object] | None = None
        self.filters: dict[str, BriefFilter] = {}

    def for_table(self, table: frozenset[object]) -> dict[str, BriefFilter]:
        if table != self.table or len(self.filters) >= self.limit:
            self.table, self.filters = table, {}
        return self.filters


_KEPT = _CompiledFilters()


def forget_kept_filters() -> None:
    """Start from nothing, as a freshly started scheduler does (benchmarks time both)."""
    _KEPT.table, _KEPT.filters = None, {}


class QueryFilters:
    """Query text -> its store filter, compiled once per text and body-name table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._names: BodyNames | None = None
        self._kept: dict[str, BriefFilter] = {}
        self._filters: dict[str, BriefFilter | UserError] = {}

    def get(self, text: str) -> BriefFilter | UserError:
        """The filter, or the error saying why the query stopped making sense (a body alias
        it named was removed, say)."""
        found = self._filters.get(text)
        if found is None:
            found = self._filters[text] = self._compile(text)
        return found

    def _compile(self, text: str) -> BriefFilter | UserError:
        if self._names is None:
            self._names = BodyNames(self.session)
            # Learned aliases widen what a word finds: a new one recompiles the filters too.
            learned = ("learned aliases", self._names.synonyms_mark(self.session))
            self._kept = _KEPT.for_table(frozenset([*self._names.by_name.items(), learned]))
        compiled = self._kept.get(text)
        if compiled is not None:
            return compiled
        try:
            # A stored meaning: read as written, as its preview was (data/query/meaning.py).
            compiled = meaning_of(self.session, text, None, names=self._names, stored=True).where
        except UserError as error:
            return error
        self._kept[text] = compiled
        return compiled


_TEXT_FIELDS = ("include", "exclude", "any_of")
_STRUCTURED_DEFAULTS = tuple(
    (item.name, getattr(BriefFilter(), item.name))
    for item in fields(BriefFilter)
    if item.name not in _TEXT_FIELDS
)
_STRUCTURED_VALUES = tuple(default for _, default in _STRUCTURED_DEFAULTS)  # none set


class CandidateMatcher:
    """Matches filters against one fixed set of candidate brief ids, sharing the work."""

    def __init__(self, session: Session, candidates: Collection[int]) -> None:
        self.session = session
        self.ids = sorted(set(candidates))
        self._searcher: Searcher | None = None  # the candidates' own index, built on first use
        self._terms: dict[TermQuery, frozenset[int]] = {}
        self._structured: dict[tuple[object, ...], frozenset[int]] = {}
        self._queries: dict[BriefFilter, frozenset[int]] = {}

    def matching(self, where: BriefFilter) -> frozenset[int]:
        """The candidates `where` matches."""
        found = self._queries.get(where)
        if found is None:
            found = self._queries[where] = self._evaluate(where)
        return found

    def _evaluate(self, where: BriefFilter) -> frozenset[int]:
        # From the first term's answer rather than a copy of every candidate: a tick tests
        # thousands of queries against thousands of candidates.
        found = set(self._term(where.include[0])) if where.include else set(self.ids)
        for query in where.include[1:]:
            found &= self._term(query)
        for query in where.exclude:
            found -= self._term(query)
        for group in where.any_of:
            found &= set().union(*(self._term(query) for query in group))
        # The structured part (bodies, dates, kinds), when there is one: tested once per
        # distinct part, found by its values. A copy of the filter is made only to test a
        # new part: a copy per filter cost more than the test.
        structured = tuple(getattr(where, name) for name, _ in _STRUCTURED_DEFAULTS)
        if structured != _STRUCTURED_VALUES:
            ids = self._structured.get(structured)
            if ids is None:
                rest = replace(where, include=(), exclude=(), any_of=())
                ids = self._structured[structured] = frozenset(
                    matching_ids(self.session, rest, only_ids=self.ids)
                )
            found &= ids
        return frozenset(found)

    def _term(self, query: TermQuery) -> frozenset[int]:
        found = self._terms.get(query)  # one hash of the query when kept (most are)
        if found is None:
            if not self.ids:
                return frozenset()
            if self._searcher is None:
                # Held here: asking the engine per term would re-read the revision each time.
                self._searcher = candidate_searcher(self.session, self.ids)
            found = frozenset(self._searcher.matching(Plan(((query,),), ())))
            self._terms[query] = found
        return found
