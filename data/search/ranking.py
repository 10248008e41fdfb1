"""Matching and exact BM25F ranking of a search plan over index segments.

A search is clauses that must all match (a word, a phrase, or words joined by OR), clauses
that must not, and filters. Each clause's score is the best of its word's forms (a literal
form scores in full, a synonym at its thesaurus weight), summed over OR members; a brief's
score is the sum over clauses. Briefs that match every clause come first; when none does,
the best partial matches are returned instead (`Ranked.partial`), provided the clauses they
match carry at least half of the query's information (idf), so one common word out of a
question about something absent does not answer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from policybot.data.search.analysis import STOPWORDS, TermQuery
from policybot.data.search.index import (
    FIELD_B,
    FIELD_WEIGHTS,
    FIELDS,
    K1,
    MAX_PREFIX_TERMS,
    Bools,
    Floats,
    Index,
    Ints,
    Postings,
    Segment,
    idf,
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


@dataclass(frozen=True)
class Plan:
    clauses: tuple[tuple[TermQuery, ...], ...]  # each: matches when any member does
    exclude: tuple[TermQuery, ...] = ()
    filters: Filters = Filters()


@dataclass
class Part:
    """A segment and which of its slots a search may see."""

    index: Index
    segment: Segment
    visible: Bools


@dataclass
class Ranked:
    brief_ids: list[int]
    total: int
    partial: bool = False  # no brief matched every clause: these match some
    unmatched: list[int] = field(default_factory=list)  # clauses no brief matches at all
    matched_terms: set[str] = field(default_factory=set)


def _filter_mask(segment: Segment, filters: Filters) -> Bools:
    mask = np.ones(segment.size, dtype=np.bool_)
    if filters.kind_news is not None:
        mask &= segment.kinds == filters.kind_news
    if filters.since is not None:
        mask &= segment.published >= filters.since.toordinal()
    if filters.until is not None:
        mask &= (segment.published >= 0) & (segment.published <= filters.until.toordinal())
    for ids in filters.body_ids:
        mask &= _slots_mask(segment, segment.body_slots, ids)
    if filters.exclude_body_ids:
        mask &= ~_slots_mask(segment, segment.body_slots, filters.exclude_body_ids)
    if filters.due_year is not None:
        mask &= _slots_mask(segment, segment.year_slots, (filters.due_year,))
    return mask


def _slots_mask(segment: Segment, table: dict[int, list[int]], keys: object) -> Bools:
    mask = np.zeros(segment.size, dtype=np.bool_)
    for key in keys:  # type: ignore[attr-defined]
        slots = table.get(key)
        if slots:
            mask[slots] = True
    return mask


def _alternative_postings(part: Part, terms: Sequence[str], prefix: bool) -> list[Postings]:
    vocabulary = part.index.vocabulary
    if prefix and len(terms) == 1:
        ids = vocabulary.with_prefix(terms[0])
        if len(ids) > MAX_PREFIX_TERMS:
            ids = ids[:MAX_PREFIX_TERMS]
        return [p for p in (part.segment.postings(i) for i in ids) if p is not None]
    if len(terms) == 1:
        term_id = vocabulary.ids.get(terms[0])
        found = part.segment.postings(term_id) if term_id is not None else None
        return [found] if found is not None else []
    ids: list[int | None] = []
    for term in terms:
        if term in STOPWORDS:
            ids.append(None)
            continue
        term_id = vocabulary.ids.get(term)
        if term_id is None:
            return []
        ids.append(term_id)
    found = part.segment.phrase(ids)
    return [found] if found is not None else []


class Searcher:
    """Evaluates plans over parts (segments with their visible slots)."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = list(parts)
        self.documents = sum(int(p.visible.sum()) for p in self.parts)
        total = np.zeros(FIELDS, dtype=np.float64)
        for part in self.parts:
            total += part.segment.lengths[part.visible].sum(axis=0)
        average = np.maximum(total / max(self.documents, 1), 1e-9)
        self.norms = [
            FIELD_WEIGHTS / (1.0 - FIELD_B + FIELD_B * p.segment.lengths / average)
            for p in self.parts
        ]

    def _query(self, query: TermQuery) -> tuple[list[Floats], list[Bools], float, int]:
        """Scores and matches of one query per part, its literal form's idf, and how many
        documents any form matches. `self.in_title` notes the slots matched in a title."""
        scores = [np.zeros(p.segment.size, dtype=np.float64) for p in self.parts]
        matched = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
        self.in_title = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
        literal_idf = idf(self.documents, 0)
        weights = query.weights or (1.0,) * len(query.alternatives)
        for number, (terms, weight) in enumerate(zip(query.alternatives, weights, strict=True)):
            per_part = [_alternative_postings(p, terms, query.prefix) for p in self.parts]
            for postings_list, part in zip(per_part, self.parts, strict=True):
                for postings in postings_list:
                    visible = part.visible[postings.slots]
                    postings.slots, postings.tf = postings.slots[visible], postings.tf[visible]
            frequency = sum(len(p.slots) for ps in per_part for p in ps)
            if number == 0:
                literal_idf = idf(self.documents, frequency)
            if not frequency:
                continue
            value = idf(self.documents, frequency) * weight
            for i, postings_list in enumerate(per_part):
                for postings in postings_list:
                    tf = (postings.tf * self.norms[i][postings.slots]).sum(axis=1)
                    score = value * tf * (K1 + 1.0) / (K1 + tf)
                    current = scores[i][postings.slots]
                    scores[i][postings.slots] = np.maximum(current, score)
                    matched[i][postings.slots] = True
                    self.in_title[i][postings.slots[postings.tf[:, 0] > 0]] = True
        count = sum(int(m.sum()) for m in matched)
        return scores, matched, literal_idf, count

    def rank(
        self, plan: Plan, limit: int, offset: int = 0, *, allow_partial: bool = True
    ) -> Ranked:
        bases = [p.visible & _filter_mask(p.segment, plan.filters) for p in self.parts]
        for query in plan.exclude:
            _, matched, _, _ = self._query(query)
            bases = [b & ~m for b, m in zip(bases, matched, strict=True)]
        totals = [np.zeros(p.segment.size, dtype=np.float64) for p in self.parts]
        titles = [np.zeros(p.segment.size, dtype=np.int64) for p in self.parts]
        every = [b.copy() for b in bases]
        coverage = [np.zeros(p.segment.size, dtype=np.float64) for p in self.parts]
        information = 0.0
        unmatched: list[int] = []
        for number, clause in enumerate(plan.clauses):
            clause_matched = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
            clause_title = [np.zeros(p.segment.size, dtype=np.bool_) for p in self.parts]
            clause_idf = 0.0
            clause_count = 0
            for query in clause:
                scores, matched, literal_idf, count = self._query(query)
                clause_idf = max(clause_idf, literal_idf)
                clause_count += count
                for i in range(len(self.parts)):
                    totals[i] += scores[i]
                    clause_matched[i] |= matched[i]
                    clause_title[i] |= self.in_title[i]
            if not clause_count:
                unmatched.append(number)
            information += clause_idf
            for i in range(len(self.parts)):
                titles[i] += clause_title[i]
                every[i] &= clause_matched[i]
                coverage[i] += clause_idf * clause_matched[i]
        masks = every
        partial = False
        if (
            plan.clauses
            and not any(m.any() for m in every)
            and allow_partial
            and len(plan.clauses) > 1
        ):
            partial = True
            masks = [
                b & (c >= PARTIAL_COVERAGE * information) & (c > 0)
                for b, c in zip(bases, coverage, strict=True)
            ]
        total = sum(int(m.sum()) for m in masks)
        wanted = offset + limit
        candidates: list[tuple[Floats, Ints, Ints]] = []
        for part, mask, score, title in zip(self.parts, masks, totals, titles, strict=True):
            slots = np.flatnonzero(mask)
            if not len(slots) or wanted <= 0:
                continue
            # Tiers: every word found in a title beats any number of mentions in the text
            # (scores stay far below TITLE_TIER); BM25F orders briefs within a tier.
            values = score[slots] + TITLE_TIER * title[slots]
            if len(slots) > wanted:
                # Everything that scores at least the wanted-th best (ties included).
                cut = np.partition(values, len(values) - wanted)[len(values) - wanted]
                keep = values >= cut
                slots, values = slots[keep], values[keep]
            candidates.append(
                (values, part.segment.published[slots], part.segment.brief_ids[slots])
            )
        if not candidates:
            return Ranked([], total, partial and total > 0, unmatched)
        values = np.concatenate([c[0] for c in candidates])
        published = np.concatenate([c[1] for c in candidates])
        brief_ids = np.concatenate([c[2] for c in candidates])
        # Best score first, then newest, then most recently added; scores are rounded so
        # that the last bits of a float sum never decide an order.
        order = np.lexsort((-brief_ids, -published, -np.round(values, 9)))
        page = brief_ids[order][offset:wanted]
        return Ranked([int(b) for b in page], total, partial, unmatched)

    def matching(self, plan: Plan, brief_ids: Sequence[int] | None = None) -> set[int]:
        """Ids of the briefs that match every clause (no partial matches)."""
        ranked_all = self.rank(plan, limit=self.documents or 1, allow_partial=False)
        found = set(ranked_all.brief_ids)
        return found if brief_ids is None else found & set(brief_ids)
