"""The in-process inverted index: postings as numpy arrays, BM25F scores computed here.

Scoring is ours, not the database's, so a ranking is exact over the whole store and the same
data gives the same order on SQLite and PostgreSQL. An index is a list of segments (a large
base built at start, small ones for later changes, as Lucene does); a segment holds, per
term, the briefs it occurs in with a term frequency per field, and the positions of each
occurrence (for phrases). Scores depend only on the live documents (their field lengths and
the terms' document frequencies), not on how they are split into segments.

Stopwords are not posted (a phrase skips them, keeping their positions); everything else is.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from policybot.data.search.analysis import STOPWORDS

FIELDS = 4  # title, bodies, text (summary and goals), comment
FIELD_WEIGHTS = np.array([4.0, 2.0, 1.0, 0.5], dtype=np.float64)
FIELD_B = np.array([0.5, 0.3, 0.75, 0.75], dtype=np.float64)
K1 = 1.2
MAX_PREFIX_TERMS = 500  # a prefix reads at most this many terms (the most frequent)
_POSITION_BITS = 17  # position in a field
_FIELD_SHIFT = _POSITION_BITS
_SLOT_SHIFT = _POSITION_BITS + 3
_MAX_POSITION = (1 << _POSITION_BITS) - 1

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Document:
    """One brief as the index sees it: analysed fields and what filters read."""

    brief_id: int
    fields: tuple[tuple[str, ...], ...]  # FIELDS term sequences
    kind: str = "policy"
    published: int = -1  # date ordinal, -1 undated
    body_ids: tuple[int, ...] = ()
    due_years: tuple[int, ...] = ()


class Vocabulary:
    """Term ids shared by every segment of an index."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self._sorted: list[str] | None = None

    def id(self, term: str) -> int:
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.ids)
            self._sorted = None
        return found

    def with_prefix(self, prefix: str) -> list[int]:
        if self._sorted is None:
            self._sorted = sorted(self.ids)
        start = bisect.bisect_left(self._sorted, prefix)
        out = []
        for term in self._sorted[start:]:
            if not term.startswith(prefix):
                break
            out.append(self.ids[term])
        return out


@dataclass
class Postings:
    slots: Ints  # sorted
    tf: npt.NDArray[np.float64]  # (len(slots), FIELDS)


class Segment:
    """An immutable batch of documents; `live` marks those not replaced since."""

    def __init__(self, documents: Sequence[Document], vocabulary: Vocabulary) -> None:
        n = len(documents)
        self.size = n
        self.brief_ids = np.array([d.brief_id for d in documents], dtype=np.int64)
        self.live = np.ones(n, dtype=np.bool_)
        self.published = np.array([d.published for d in documents], dtype=np.int64)
        self.kinds = np.array([d.kind == "news" for d in documents], dtype=np.bool_)
        self.lengths = np.zeros((n, FIELDS), dtype=np.int64)
        self.body_slots: dict[int, list[int]] = {}
        self.year_slots: dict[int, list[int]] = {}
        term_ids: list[int] = []
        slot_list: list[int] = []
        keys: list[int] = []
        stop = STOPWORDS
        term_id = vocabulary.id
        for slot, document in enumerate(documents):
            for body in document.body_ids:
                self.body_slots.setdefault(body, []).append(slot)
            for year in set(document.due_years):
                self.year_slots.setdefault(year, []).append(slot)
            base = slot << _SLOT_SHIFT
            for index, terms in enumerate(document.fields):
                field_base = base | (index << _FIELD_SHIFT)
                posted = 0
                for position, term in enumerate(terms):
                    if term in stop:
                        continue
                    posted += 1
                    term_ids.append(term_id(term))
                    slot_list.append(slot)
                    keys.append(field_base | min(position, _MAX_POSITION))
                self.lengths[slot, index] = posted
        tids = np.array(term_ids, dtype=np.int64)
        position_keys = np.array(keys, dtype=np.int64)
        order = np.lexsort((position_keys, tids))
        self._tids = tids[order]
        self._keys = position_keys[order]
        # Per (term, slot, field): a term frequency, from the sorted positions.
        fields = (self._keys >> _FIELD_SHIFT) & 0b111
        slots = self._keys >> _SLOT_SHIFT
        self._terms, self._term_starts = np.unique(self._tids, return_index=True)
        self._term_ends = np.append(self._term_starts[1:], len(self._tids))
        pair = self._tids * (n + 1) + slots
        pair_starts = np.flatnonzero(np.diff(pair, prepend=-1))
        self._pair_slots = slots[pair_starts]
        counts = np.zeros((len(pair_starts), FIELDS), dtype=np.float64)
        pair_index = np.cumsum(np.diff(pair, prepend=-1) != 0) - 1
        np.add.at(counts, (pair_index, fields), 1.0)
        self._pair_tf = counts
        pair_terms = self._tids[pair_starts]
        self._pair_term_starts = np.searchsorted(pair_terms, self._terms, side="left")
        self._pair_term_ends = np.searchsorted(pair_terms, self._terms, side="right")
        self._slot_of_brief = {int(b): i for i, b in enumerate(self.brief_ids)}

    def _row(self, term_id: int) -> int:
        row = int(np.searchsorted(self._terms, term_id))
        return row if row < len(self._terms) and self._terms[row] == term_id else -1

    def postings(self, term_id: int) -> Postings | None:
        row = self._row(term_id)
        if row < 0:
            return None
        start, end = self._pair_term_starts[row], self._pair_term_ends[row]
        return Postings(self._pair_slots[start:end], self._pair_tf[start:end])

    def positions(self, term_id: int) -> Ints:
        row = self._row(term_id)
        if row < 0:
            return np.zeros(0, dtype=np.int64)
        return self._keys[self._term_starts[row] : self._term_ends[row]]

    def phrase(self, term_ids: Sequence[int | None]) -> Postings | None:
        """Where the terms occur one after another (None: a skipped stopword)."""
        anchored = [(offset, t) for offset, t in enumerate(term_ids) if t is not None]
        if not anchored:
            return None
        first_offset, first = anchored[0]
        keys = self.positions(first) - first_offset
        for offset, term in anchored[1:]:
            if not len(keys):
                break
            following = self.positions(term) - offset
            at = np.searchsorted(following, keys)
            at[at >= len(following)] = 0
            keys = keys[following[at] == keys] if len(following) else keys[:0]
        if not len(keys):
            return None
        slots = keys >> _SLOT_SHIFT
        fields = (keys >> _FIELD_SHIFT) & 0b111
        unique, index = np.unique(slots, return_inverse=True)
        tf = np.zeros((len(unique), FIELDS), dtype=np.float64)
        np.add.at(tf, (index, fields), 1.0)
        return Postings(unique, tf)

    def slot(self, brief_id: int) -> int | None:
        return self._slot_of_brief.get(brief_id)


@dataclass
class Statistics:
    """What BM25F needs of the whole index: live documents and field lengths."""

    documents: int
    average_lengths: Floats


class Index:
    """Segments over one vocabulary; a brief lives in at most one segment."""

    MERGE_AT = 20  # more segments than this are merged into one

    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self.segments: list[Segment] = []
        self._where: dict[int, tuple[Segment, int]] = {}
        self._documents: dict[int, Document] = {}
        self._norms: dict[int, Floats] = {}
        self._statistics: Statistics | None = None

    def __len__(self) -> int:
        return len(self._where)

    def document(self, brief_id: int) -> Document | None:
        return self._documents.get(brief_id)

    def apply(self, replaced: Iterable[Document], removed: Iterable[int] = ()) -> None:
        """Add or replace these documents and drop the removed briefs (one new segment)."""
        documents = list({d.brief_id: d for d in replaced}.values())
        for brief_id in [*removed, *(d.brief_id for d in documents)]:
            found = self._where.pop(brief_id, None)
            self._documents.pop(brief_id, None)
            if found is not None:
                found[0].live[found[1]] = False
        if documents:
            if len(self.segments) >= self.MERGE_AT:
                documents = [*self._documents.values(), *documents]
                self.segments, self._where = [], {}
            segment = Segment(documents, self.vocabulary)
            self.segments.append(segment)
            for slot, document in enumerate(documents):
                self._where[document.brief_id] = (segment, slot)
                self._documents[document.brief_id] = document
        self.segments = [s for s in self.segments if s.live.any()]
        self._norms.clear()
        self._statistics = None

    def statistics(self) -> Statistics:
        if self._statistics is None:
            total = np.zeros(FIELDS, dtype=np.int64)
            count = 0
            for segment in self.segments:
                total += segment.lengths[segment.live].sum(axis=0)
                count += int(segment.live.sum())
            average = total / max(count, 1)
            self._statistics = Statistics(count, np.maximum(average, 1e-9))
        return self._statistics

    def norms(self, segment: Segment) -> Floats:
        """Per slot and field: 1 / (1 - b + b * length / average length), times the field's
        weight (what a term frequency is multiplied by)."""
        key = id(segment)
        if key not in self._norms:
            average = self.statistics().average_lengths
            norm = 1.0 - FIELD_B + FIELD_B * segment.lengths / average
            self._norms[key] = FIELD_WEIGHTS / norm
        return self._norms[key]


def idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


@dataclass
class Hits:
    """One query part over one segment: a score per slot (0 where it does not match)."""

    scores: Floats
    matched: Bools
    frequency: int = 0  # live documents matched in this segment


@dataclass
class SegmentView:
    segment: Segment
    visible: Bools  # live and not shadowed by a newer version of the brief
    extra: dict[str, object] = field(default_factory=dict)
