"""Matching and ranking a search plan with tantivy Query objects (no query parser: user text
only ever becomes terms of our analysis).

A search is clauses that must all match (a word, a phrase, or words joined by OR), clauses
that must not, and filters. A word is the best of its forms (a disjunction-max: a literal
form scores in full, a synonym at its thesaurus weight), each form scored with BM25 over
the brief's fields together, the title counting double (see index.py); OR members add up,
and so do clauses. On top, every clause found in a title adds TITLE_TIER, so every word
in a title beats any number of mentions in the text. Filters match inside the engine and
score nothing.

Briefs that match every clause come first; when none does, the best partial matches are
returned instead (`Ranked.partial`), provided the clauses they match carry at least half of
the query's information (idf), so one common word out of a question about something absent
does not answer it.

tantivy's top-k is exact over the whole index (no pre-cut); ties are broken here, not by
where a document happens to sit: a page is read until the score after it differs, then
ordered by score (rounded, so float sums in another order never decide), newest, and the
highest brief id.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import tantivy

from .analysis import STOPWORDS, TermQuery
from .index import SCHEMA, STATE_ID, Document, pairs

PARTIAL_COVERAGE = 0.5
TITLE_TIER = 1000.0
MAX_PREFIX_TERMS = 500  # a prefix reads at most this many terms (the first in order)
_DIGITS = 4  # scores are compared rounded to this many decimals
_Occur = tantivy.Occur


@dataclass(frozen=True)
class Filters:
    kind_news: bool | None = None
    since: date | None = None
    until: date | None = None
    body_ids: tuple[frozenset[int], ...] = ()
    exclude_body_ids: frozenset[int] = frozenset()
    due_year: int | None = None
    # Only these briefs (None: any), for filters the database decides (a due-by bound).
    brief_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Plan:
    clauses: tuple[tuple[TermQuery, ...], ...]  # each: matches when any member does
    exclude: tuple[TermQuery, ...] = ()
    filters: Filters = Filters()


@dataclass
class Ranked:
    brief_ids: list[int]
    total: int
    partial: bool = False  # no brief matched every clause: these match some
    unmatched: list[int] = field(default_factory=list)  # clauses no brief matches at all
    # Per brief on the page: the index terms its matching clauses found in it (what a
    # renderer highlights).
    matched_terms: dict[int, frozenset[str]] = field(default_factory=dict)


# Reads the documents of the briefs on a page (to tell which terms each one matched).
DocumentLoader = Callable[[Sequence[int]], dict[int, Document]]


def _const(query: tantivy.Query, score: float = 0.0) -> tantivy.Query:
    return tantivy.Query.const_score_query(query, score)


def _boolean(pairs: list[tuple[tantivy.Occur, tantivy.Query]]) -> tantivy.Query:
    return tantivy.Query.boolean_query(pairs)


def _integer_range(name: str, low: int | None, high: int | None) -> tantivy.Query:
    return tantivy.Query.range_query(
        SCHEMA, name, tantivy.FieldType.Integer, lower_bound=low, upper_bound=high
    )


def _anchored(terms: Sequence[str]) -> list[tuple[int, str]]:
    """The terms a phrase looks for, at their offsets (a stopword: any word at its place)."""
    return [(offset, t) for offset, t in enumerate(terms) if t not in STOPWORDS]


def _pair_terms(terms: Sequence[str]) -> list[tuple[int, str]]:
    """A phrase as pair terms at their offsets (see index.pairs): stopwords at its ends
    dropped, two stopwords in a row skipped (their offset kept)."""
    inner = list(terms)
    while inner and inner[0] in STOPWORDS:
        inner.pop(0)
    while inner and inner[-1] in STOPWORDS:
        inner.pop()
    if len(inner) < 2:
        return []
    return [(offset, p) for offset, p in enumerate(pairs(inner).split()) if p != "a"]


def _sequence(field_name: str, anchored: list[tuple[int, str]]) -> tantivy.Query:
    """One field holding the anchored terms at their offsets."""
    if len(anchored) == 1:
        return tantivy.Query.term_query(SCHEMA, field_name, anchored[0][1])
    first = anchored[0][0]
    words: list[str | tuple[int, str]] = [(offset - first, t) for offset, t in anchored]
    return tantivy.Query.phrase_query(SCHEMA, field_name, words)


@dataclass
class _Statistics:
    """What depends only on one commit of an index: the terms' idf, the phrases' document
    counts, the terms of a prefix. Kept per tantivy searcher, across searches."""

    idfs: dict[tuple[str, str], float] = field(default_factory=dict)
    phrase_counts: dict[tuple[tuple[int, str], ...], int] = field(default_factory=dict)
    prefixes: dict[str, list[str]] = field(default_factory=dict)


_KEPT_STATISTICS = 8
# By the searcher's id; the searcher is held with its statistics, so its id stays its own.
_STATISTICS: dict[int, tuple[tantivy.Searcher, _Statistics]] = {}
_STATISTICS_LOCK = threading.Lock()


def _statistics(searcher: tantivy.Searcher) -> _Statistics:
    with _STATISTICS_LOCK:
        found = _STATISTICS.get(id(searcher))
        if found is None or found[0] is not searcher:
            while len(_STATISTICS) >= _KEPT_STATISTICS:
                del _STATISTICS[next(iter(_STATISTICS))]  # the oldest
            found = _STATISTICS[id(searcher)] = (searcher, _Statistics())
        return found[1]


class Searcher:
    """Evaluates plans over one tantivy searcher (one commit of one index)."""

    def __init__(self, searcher: tantivy.Searcher, load: DocumentLoader | None = None) -> None:
        self.searcher = searcher
        self.load = load
        self._total = int(searcher.num_docs)
        statistics = _statistics(searcher)
        self._prefixes = statistics.prefixes
        self._idfs = statistics.idfs
        self._phrase_counts = statistics.phrase_counts

    @property
    def documents(self) -> int:
        """Briefs in the index (the state document is none)."""
        state = self._count(tantivy.Query.term_query(SCHEMA, "brief_id", STATE_ID))
        return self._total - state

    # --- queries ---------------------------------------------------------------------------

    def _idf(self, field_name: str, term: str) -> float:
        """The idf tantivy gives a term in a field (0: no brief has it there)."""
        key = (field_name, term)
        found = self._idfs.get(key)
        if found is None:
            frequency = int(self.searcher.doc_freq(field_name, term))
            found = self._idfs[key] = _idf(self._total, frequency) if frequency else 0.0
        return found

    def _prefix_terms(self, prefix: str) -> list[str]:
        found = self._prefixes.get(prefix)
        if found is None:
            listed = self.searcher.terms_with_prefix("all", prefix, limit=MAX_PREFIX_TERMS)
            found = self._prefixes[prefix] = sorted(t for t, _ in listed)
        return found

    def _alternative(
        self, terms: Sequence[str], prefix: bool, field_name: str = "all"
    ) -> tantivy.Query | None:
        """One form of a word (a term, a phrase, a prefix) in a field; None where no brief
        has it there."""
        if prefix and len(terms) == 1:
            expanded = [
                q
                for term in self._prefix_terms(terms[0])
                if (q := self._alternative((term,), False, field_name)) is not None
            ]
            if len(expanded) <= 1:
                return expanded[0] if expanded else None
            return tantivy.Query.disjunction_max_query(expanded)
        anchored = _anchored(terms)
        if len(anchored) > 1 and field_name == "all" and (paired := _pair_terms(terms)):
            # A phrase is read from the pair terms: two words are one term, so a phrase of
            # common words costs a term lookup, not a walk over both words' positions.
            field_name, anchored = "pairs", paired
        idfs = [self._idf(field_name, t) for _, t in anchored]
        if not anchored or not all(idfs):
            return None
        found = _sequence(field_name, anchored)
        if len(anchored) > 1 and field_name == "pairs":
            # tantivy weighs a phrase by the sum of its terms' idf; rescaled to the idf of
            # the phrase itself (how many briefs hold it), a thesaurus name or a Chinese word
            # of four bigrams counts as the one rare thing it is, not as three.
            frequency = self._phrase_frequency(anchored, found)
            found = tantivy.Query.boost_query(found, _idf(self._total, frequency) / sum(idfs))
        return found

    def _phrase_frequency(self, anchored: list[tuple[int, str]], query: tantivy.Query) -> int:
        key = tuple(anchored)
        if key not in self._phrase_counts:
            self._phrase_counts[key] = self._count(query)
        return int(self._phrase_counts[key])

    def _member(self, query: TermQuery) -> tantivy.Query | None:
        """A word (or phrase, or body): the best of its forms, synonyms at their weight."""
        weights = query.weights or (1.0,) * len(query.alternatives)
        forms = []
        for terms, weight in zip(query.alternatives, weights, strict=True):
            found = self._alternative(terms, query.prefix)
            if found is not None:
                forms.append(found if weight == 1.0 else tantivy.Query.boost_query(found, weight))
        if not forms:
            return None
        return forms[0] if len(forms) == 1 else tantivy.Query.disjunction_max_query(forms, 0.0)

    def _in_title(self, query: TermQuery) -> list[tantivy.Query]:
        return [
            q
            for terms in query.alternatives
            if (q := self._alternative(terms, query.prefix, "title")) is not None
        ]

    def _clause(self, clause: Sequence[TermQuery]) -> tantivy.Query:
        """Matches when a member does; scores the members' sum, plus the title tier."""
        members = [(_Occur.Should, q) for query in clause if (q := self._member(query))]
        if not members:
            return tantivy.Query.empty_query()
        titles = [(_Occur.Should, q) for query in clause for q in self._in_title(query)]
        if titles:
            members.append((_Occur.Should, _const(_boolean(titles), TITLE_TIER)))
        return _boolean(members)

    def _filters(self, filters: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        out: list[tuple[tantivy.Occur, tantivy.Query]] = []

        def must(query: tantivy.Query) -> None:
            out.append((_Occur.Must, _const(query)))

        if filters.kind_news is not None:
            must(tantivy.Query.term_query(SCHEMA, "news", 1 if filters.kind_news else 0))
        if filters.since is not None:
            must(_integer_range("published", filters.since.toordinal(), None))
        if filters.until is not None:
            must(_integer_range("published", 0, filters.until.toordinal()))
        for ids in filters.body_ids:
            must(tantivy.Query.term_set_query(SCHEMA, "body_ids", sorted(ids)))
        if filters.exclude_body_ids:
            excluded = sorted(filters.exclude_body_ids)
            out.append((_Occur.MustNot, tantivy.Query.term_set_query(SCHEMA, "body_ids", excluded)))
        if filters.due_year is not None:
            must(tantivy.Query.term_query(SCHEMA, "due_years", filters.due_year))
        if filters.brief_ids is not None:
            must(tantivy.Query.term_set_query(SCHEMA, "brief_id", sorted(filters.brief_ids)))
        return out

    def _base(self, plan: Plan) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Filters and exclusions; every brief (never the state document) when no clause."""
        base = self._filters(plan.filters)
        for query in plan.exclude:
            found = self._member(query)
            if found is not None:
                base.append((_Occur.MustNot, found))
        if not plan.clauses:
            base.append((_Occur.Must, _const(_integer_range("brief_id", 1, None))))
        return base

    def _count(self, query: tantivy.Query) -> int:
        result: Any = self.searcher.search(query, 1, count=True)  # the stub omits `count`
        return int(result.count)

    # --- ranking ---------------------------------------------------------------------------

    def _search(self, query: tantivy.Query, limit: int) -> tuple[int, list[tuple[float, Any]]]:
        """How many briefs match, and the best `limit` (score, address) of them: one pass."""
        result: Any = self.searcher.search(query, max(limit, 1), count=True)
        return int(result.count), [(float(score), address) for score, address in result.hits]

    def _page(self, query: tantivy.Query, offset: int, limit: int) -> tuple[int, list[int]]:
        """How many briefs match, and the brief ids of a page: read until the score after
        the page differs, ties ordered by date and brief id."""
        wanted = offset + limit
        fetch = wanted + 8
        total, hits = self._search(query, fetch)
        while len(hits) < total and wanted > 0:
            last = round(hits[min(wanted, len(hits)) - 1][0], _DIGITS)
            if round(hits[-1][0], _DIGITS) < last:
                break
            fetch *= 4
            total, hits = self._search(query, fetch)
        if wanted <= 0 or not hits:
            return total, []
        addresses = [address for _, address in hits]
        brief_ids = self.searcher.fast_field_values("brief_id", addresses)
        published = self.searcher.fast_field_values("published", addresses)
        ordered = sorted(
            zip(hits, brief_ids, published, strict=True),
            key=lambda h: (-round(h[0][0], _DIGITS), -int(h[2] or -1), -int(h[1] or 0)),
        )
        return total, [int(b or 0) for _, b, _p in ordered[offset:wanted]]

    def _literal_frequency(self, query: TermQuery) -> int:
        found = self._alternative(query.alternatives[0], query.prefix)
        return self._count(found) if found is not None else 0

    def rank(
        self,
        plan: Plan,
        limit: int,
        offset: int = 0,
        *,
        allow_partial: bool = True,
        with_terms: bool = True,
    ) -> Ranked:
        base = self._base(plan)
        clauses = [self._clause(c) for c in plan.clauses]
        query = _boolean([*((_Occur.Must, c) for c in clauses), *base])
        limit = max(limit, 0)
        total, page = self._page(query, offset, limit)
        partial = False
        unmatched: list[int] = []
        if not total and plan.clauses:
            unmatched = [i for i, c in enumerate(clauses) if not self._count(c)]
            if allow_partial and len(clauses) > 1:
                query, total = self._partial(plan, clauses, base)
                partial = total > 0
                if partial:
                    page = self._page(query, offset, limit)[1]
        terms = self._matched_terms(plan, page) if with_terms and page else {}
        return Ranked(page, total, partial, unmatched, terms)

    def _partial(
        self,
        plan: Plan,
        clauses: list[tantivy.Query],
        base: list[tuple[tantivy.Occur, tantivy.Query]],
    ) -> tuple[tantivy.Query, int]:
        """Briefs whose matching clauses carry at least half of the query's information,
        ranked by what they match; and how many there are."""
        documents = max(self.documents, 0)
        weights = []
        for clause in plan.clauses:
            frequencies = [self._literal_frequency(q) for q in clause]
            weights.append(max(_idf(documents, f) for f in frequencies))
        information = sum(weights)
        need = PARTIAL_COVERAGE * information * (1 - 1e-6)  # float32 sums of the weights
        # Each clause found adds its information: the score of this query is a coverage. A
        # clause without which the rest cannot reach half is required outright, so a query
        # whose rare word no brief has is answered without reading the common ones.
        scored = [_const(c, w) for c, w in zip(clauses, weights, strict=True)]
        required = [i for i, w in enumerate(weights) if information - w < need]
        pairs = [(_Occur.Must, scored[i]) for i in required]
        optional = [(_Occur.Should, q) for i, q in enumerate(scored) if i not in required]
        if optional:
            pairs.append((_Occur.Should if required else _Occur.Must, _boolean(optional)))
        coverage = _boolean([*pairs, *base])
        any_clause = self._count(coverage)
        if not any_clause:
            return tantivy.Query.empty_query(), 0
        hits = self.searcher.search(coverage, any_clause, count=False).hits
        addresses = [address for score, address in hits if score >= need and score > 0]
        if not addresses:
            return tantivy.Query.empty_query(), 0
        ids = sorted(int(b or 0) for b in self.searcher.fast_field_values("brief_id", addresses))
        allowed = _const(tantivy.Query.term_set_query(SCHEMA, "brief_id", ids))
        ranked = _boolean([(_Occur.Must, allowed), *((_Occur.Should, c) for c in clauses)])
        return ranked, len(ids)

    def _matched_terms(self, plan: Plan, page: list[int]) -> dict[int, frozenset[str]]:
        """Per brief on the page, the terms of the clauses' forms found in it."""
        if self.load is None:
            return {}
        documents = self.load(page)
        out: dict[int, frozenset[str]] = {}
        for brief_id in page:
            document = documents.get(brief_id)
            if document is None:
                continue
            fields = [f.split() for f in document.fields]
            terms: set[str] = set()
            for clause in plan.clauses:
                for query in clause:
                    for sequence in query.alternatives:
                        if _occurs(sequence, query.prefix, fields):
                            terms.update(sequence)
            out[brief_id] = frozenset(terms)
        return out

    def matching_query(self, plan: Plan) -> tantivy.Query:
        """The briefs that match every clause and the filters (no partial matches): what
        `matching` lists, for a caller that counts or pages them otherwise."""
        base = self._base(plan)
        return _boolean([*((_Occur.Must, self._clause(c)) for c in plan.clauses), *base])

    def matching(self, plan: Plan, brief_ids: Sequence[int] | None = None) -> set[int]:
        """Ids of the briefs that match every clause (no partial matches)."""
        query = self.matching_query(plan)
        total = self._count(query)
        if not total:
            return set()
        hits = self.searcher.search(query, total, count=False).hits
        values = self.searcher.fast_field_values("brief_id", [a for _, a in hits])
        found = {int(v) for v in values if v is not None}
        return found if brief_ids is None else found & set(brief_ids)


def _occurs(sequence: Sequence[str], prefix: bool, fields: list[list[str]]) -> bool:
    if prefix and len(sequence) == 1:
        return any(t.startswith(sequence[0]) for tokens in fields for t in tokens)
    if len(sequence) == 1:
        return any(sequence[0] in tokens for tokens in fields)
    width = len(sequence)
    for tokens in fields:
        for start in range(len(tokens) - width + 1):
            if all(s in STOPWORDS or tokens[start + k] == s for k, s in enumerate(sequence)):
                return True
    return False


def _idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))
