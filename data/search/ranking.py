"""Matching and exact BM25F ranking of a search plan over index segments.

A search is clauses that must all match (a word, a phrase, or words joined by OR), clauses
that must not, and filters. Each clause's score is the best of its word's forms (a literal
form scores in full, a synonym at its thesaurus weight), summed over OR members; a brief's
score is the sum over clauses. Briefs that match every clause come first; when none does,
the best partial matches are returned instead (`Ranked.partial`), provided the clauses they
match carry at least half of the query's information (idf), so one common word out of a
question about something absent does not answer it.

Every matching brief is scored (the top k is exact over the whole store); the work per
search is the postings of its terms plus a few passes over per-slot arrays. What depends
only on the documents (field-length norms) is computed once per revision (Segment.norms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from policybot.data.search.analysis import STOPWORDS, TermQuery
from policybot.data.search.index import (
    FIELDS,
    MAX_PREFIX_TERMS,
    Bools,
    Floats,
    Index,
    Postings,
    Scores,
    Segment,
    Slots,
    idf,
    saturate,
    titled,
)

PARTIAL_COVERAGE = 0.5
TITLE_TIER = 1000.0


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
class Part:
    """A segment and which of its slots a search may see (`visible` is `segment.live`
    itself unless a session's own documents shadow some of them)."""

    index: Index
    segment: Segment
    visible: Bools


@dataclass
class Ranked:
    brief_ids: list[int]
    total: int
    partial: bool = False  # no brief matched every clause: these match some
    unmatched: list[int] = field(default_factory=list)  # clauses no brief matches at all
    # Per brief on the page: the index terms its matching clauses found in it (what a
    # renderer highlights).
    matched_terms: dict[int, frozenset[str]] = field(default_factory=dict)


def _filter_mask(segment: Segment, filters: Filters) -> Bools | None:
    """Slots the structured filters let through (None: no filter)."""
    mask: Bools | None = None

    def narrow(condition: Bools) -> None:
        nonlocal mask
        mask = condition if mask is None else mask & condition

    if filters.kind_news is not None:
        narrow(segment.kinds == filters.kind_news)
    if filters.since is not None:
        narrow(segment.published >= filters.since.toordinal())
    if filters.until is not None:
        narrow((segment.published >= 0) & (segment.published <= filters.until.toordinal()))
    for ids in filters.body_ids:
        narrow(_slots_mask(segment, segment.body_slots, ids))
    if filters.exclude_body_ids:
        narrow(~_slots_mask(segment, segment.body_slots, filters.exclude_body_ids))
    if filters.due_year is not None:
        narrow(_slots_mask(segment, segment.year_slots, (filters.due_year,)))
    if filters.brief_ids is not None:
        allowed = np.fromiter(filters.brief_ids, dtype=np.int64, count=len(filters.brief_ids))
        narrow(np.isin(segment.brief_ids, allowed))
    return mask


def _slots_mask(segment: Segment, table: dict[int, Slots], keys: Iterable[int]) -> Bools:
    mask = np.zeros(segment.size, dtype=np.bool_)
    for key in keys:
        slots = table.get(key)
        if slots is not None:
            mask[slots] = True
    return mask


def _alternative_postings(
    part: Part, terms: Sequence[str], prefix: bool
) -> list[tuple[Postings, int | None]]:
    """The postings of one alternative in a part, each with its term id (None: a phrase)."""
    vocabulary = part.index.vocabulary
    if prefix and len(terms) == 1:
        prefixed = vocabulary.with_prefix(terms[0])[:MAX_PREFIX_TERMS]
        return [(p, i) for i in prefixed if (p := part.segment.postings(i)) is not None]
    if len(terms) == 1:
        term_id = vocabulary.get(terms[0])
        found = part.segment.postings(term_id) if term_id is not None else None
        return [(found, term_id)] if found is not None else []
    phrase: list[int | None] = []
    for term in terms:
        if term in STOPWORDS:
            phrase.append(None)
            continue
        term_id = vocabulary.get(term)
        if term_id is None:
            return []
        phrase.append(term_id)
    found = part.segment.phrase(phrase)
    return [(found, None)] if found is not None else []


@dataclass
class _QueryHits:
    """One query over every part: a score per slot, which slots match, which in a title."""

    scores: list[Scores]
    matched: list[Bools]
    in_title: list[Bools]
    literal_idf: float
    count: int
    # Per part: (term, slots) of each alternative that matched, for highlighting.
    found: list[list[tuple[tuple[str, ...], Slots]]]


class Searcher:
    """Evaluates plans over parts (segments with their visible slots)."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = list(parts)
        self.documents = 0
        total = np.zeros(FIELDS, dtype=np.float64)
        for part in self.parts:
            if part.visible is part.segment.live:
                count, lengths = part.segment.live_totals()
            else:
                count = int(part.visible.sum())
                lengths = part.segment.lengths[part.visible].sum(axis=0).astype(np.float64)
            self.documents += count
            total += lengths
        average: Floats = np.maximum(total / max(self.documents, 1), 1e-9)
        self.norms = [p.segment.norms(average) for p in self.parts]

    def _weighted(
        self, i: int, postings: Postings, term_id: int | None
    ) -> tuple[Slots, Scores, Slots]:
        """A postings list's visible slots, saturated term frequencies, and title slots."""
        part = self.parts[i]
        if term_id is None:
            weights, title = saturate(postings.tf, self.norms[i][postings.slots]), titled(postings)
        else:
            weights, title = part.segment.term_weights(term_id, postings, self.norms[i])
        slots = postings.slots
        if not (part.visible is part.segment.live and part.segment.live.all()):
            keep = part.visible[slots]
            if not keep.all():
                slots, weights = slots[keep], weights[keep]
                title = title[part.visible[title]]
        return slots, weights, title

    def _query(self, query: TermQuery) -> _QueryHits:
        """Scores and matches of one query per part, its literal form's idf, and how many
        documents any form matches."""
        sizes = [p.segment.size for p in self.parts]
        scores = [np.zeros(n, dtype=np.float32) for n in sizes]
        matched = [np.zeros(n, dtype=np.bool_) for n in sizes]
        in_title = [np.zeros(n, dtype=np.bool_) for n in sizes]
        found: list[list[tuple[tuple[str, ...], Slots]]] = [[] for _ in sizes]
        literal_idf = idf(self.documents, 0)
        weights = query.weights or (1.0,) * len(query.alternatives)
        first = [True] * len(sizes)
        for number, (terms, weight) in enumerate(zip(query.alternatives, weights, strict=True)):
            per_part = [
                [self._weighted(i, q, t) for q, t in _alternative_postings(p, terms, query.prefix)]
                for i, p in enumerate(self.parts)
            ]
            frequency = sum(len(w[0]) for ws in per_part for w in ws)
            if number == 0:
                literal_idf = idf(self.documents, frequency)
            if not frequency:
                continue
            value = np.float32(idf(self.documents, frequency) * weight)
            for i, weighted in enumerate(per_part):
                for slots, saturated, title in weighted:
                    if not len(slots):
                        continue
                    score = value * saturated
                    if first[i]:  # nothing scored yet: no maximum to take
                        scores[i][slots] = score
                        first[i] = False
                    else:  # slots are unique within one postings list
                        scores[i][slots] = np.maximum(scores[i][slots], score)
                    matched[i][slots] = True
                    in_title[i][title] = True
                    found[i].append((terms, slots))
        count = sum(int(m.sum()) for m in matched)
        return _QueryHits(scores, matched, in_title, literal_idf, count, found)

    def rank(
        self,
        plan: Plan,
        limit: int,
        offset: int = 0,
        *,
        allow_partial: bool = True,
        with_terms: bool = True,
    ) -> Ranked:
        n_parts = range(len(self.parts))
        bases: list[Bools] = []
        for part in self.parts:
            mask = _filter_mask(part.segment, plan.filters)
            bases.append(part.visible.copy() if mask is None else part.visible & mask)
        for query in plan.exclude:
            excluded = self._query(query)
            for i in n_parts:
                bases[i] &= ~excluded.matched[i]
        totals = [np.zeros(p.segment.size, dtype=np.float32) for p in self.parts]
        titles = [np.zeros(p.segment.size, dtype=np.int16) for p in self.parts]
        every = [b.copy() for b in bases]
        clause_masks: list[tuple[float, list[Bools]]] = []  # for partial matches
        information = 0.0
        unmatched: list[int] = []
        clause_found: list[list[list[tuple[tuple[str, ...], Slots]]]] = []
        for number, clause in enumerate(plan.clauses):
            clause_matched = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
            clause_title = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
            clause_idf = 0.0
            clause_count = 0
            found: list[list[tuple[tuple[str, ...], Slots]]] = [[] for _ in n_parts]
            for query in clause:
                hits = self._query(query)
                clause_idf = max(clause_idf, hits.literal_idf)
                clause_count += hits.count
                for i in n_parts:
                    totals[i] += hits.scores[i]
                    clause_matched[i] |= hits.matched[i]
                    clause_title[i] |= hits.in_title[i]
                    found[i].extend(hits.found[i])
            clause_found.append(found)
            if not clause_count:
                unmatched.append(number)
            information += clause_idf
            clause_masks.append((clause_idf, clause_matched))
            for i in n_parts:
                titles[i] += clause_title[i]
                every[i] &= clause_matched[i]
        masks = every
        partial = False
        if (
            plan.clauses
            and not any(m.any() for m in every)
            and allow_partial
            and len(plan.clauses) > 1
        ):
            partial = True
            # How much of the query's information (idf) each brief's matching clauses carry.
            coverage = [np.zeros(p.segment.size, dtype=np.float64) for p in self.parts]
            for clause_idf, clause_matched in clause_masks:
                for i in n_parts:
                    coverage[i] += clause_idf * clause_matched[i]
            masks = [
                b & (c >= PARTIAL_COVERAGE * information) & (c > 0)
                for b, c in zip(bases, coverage, strict=True)
            ]
        total = sum(int(m.sum()) for m in masks)
        wanted = offset + limit
        candidates: list[tuple[Floats, Slots, int]] = []
        for i, mask in enumerate(masks):
            slots = np.flatnonzero(mask).astype(np.int32)
            if not len(slots) or wanted <= 0:
                continue
            # Tiers: every word found in a title beats any number of mentions in the text
            # (scores stay far below TITLE_TIER); BM25F orders briefs within a tier.
            values = totals[i][slots].astype(np.float64) + TITLE_TIER * titles[i][slots]
            if len(slots) > wanted:
                # Everything that scores at least the wanted-th best (ties included).
                cut = np.partition(values, len(values) - wanted)[len(values) - wanted]
                keep = values >= cut
                slots, values = slots[keep], values[keep]
            candidates.append((values, slots, i))
        if not candidates:
            return Ranked([], total, partial and total > 0, unmatched)
        values = np.concatenate([c[0] for c in candidates])
        published = np.concatenate([self.parts[c[2]].segment.published[c[1]] for c in candidates])
        brief_ids = np.concatenate([self.parts[c[2]].segment.brief_ids[c[1]] for c in candidates])
        where = np.concatenate([np.full(len(c[1]), c[2]) for c in candidates])
        slots_all = np.concatenate([c[1] for c in candidates])
        # Best score first, then newest, then most recently added; scores are rounded so
        # that float32 sums in a different order never decide an order.
        order = np.lexsort((-brief_ids, -published, -np.round(values, 4)))[offset:wanted]
        page = [int(b) for b in brief_ids[order]]
        matched_terms = (
            {
                int(brief_ids[k]): _terms_at(clause_found, int(where[k]), int(slots_all[k]))
                for k in order
            }
            if with_terms
            else {}
        )
        return Ranked(page, total, partial, unmatched, matched_terms)

    def matching(self, plan: Plan, brief_ids: Sequence[int] | None = None) -> set[int]:
        """Ids of the briefs that match every clause (no partial matches)."""
        ranked_all = self.rank(
            plan, limit=self.documents or 1, allow_partial=False, with_terms=False
        )
        found = set(ranked_all.brief_ids)
        return found if brief_ids is None else found & set(brief_ids)


def _terms_at(
    clause_found: list[list[list[tuple[tuple[str, ...], Slots]]]], part: int, slot: int
) -> frozenset[str]:
    terms: set[str] = set()
    for found in clause_found:
        for sequence, slots in found[part]:
            at = int(np.searchsorted(slots, slot))
            if at < len(slots) and slots[at] == slot:
                terms.update(sequence)
    return frozenset(terms)
