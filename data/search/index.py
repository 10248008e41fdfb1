"""The in-process inverted index: postings as compact numpy arrays, BM25F scores computed here.

Scoring is ours, not the database's, so a ranking is exact over the whole store and the same
data gives the same order on SQLite and PostgreSQL. An index is a list of segments (a large
base built at start, small ones for later changes, as Lucene does); a segment holds, per
term, the briefs it occurs in with a term frequency per field (uint16), and the positions of
each occurrence (for phrases). Scores depend only on the live documents (their field lengths
and the terms' document frequencies), not on how they are split into segments.

Positions are offsets in one token stream per segment: every field's analysed terms one
after another, each field followed by a separator that takes a position of its own, so a
phrase never runs from one field (or brief) into the next and a phrase check is a lookup in
a bitmap of that stream, linear in the postings read.

Stopwords are not posted (a phrase skips them, keeping their positions); everything else is.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from policybot.data.search.analysis import STOPWORDS

FIELDS = 4  # title, bodies, text (summary and goals), comment
FIELD_WEIGHTS = np.array([4.0, 2.0, 1.0, 0.5], dtype=np.float64)
FIELD_B = np.array([0.5, 0.3, 0.75, 0.75], dtype=np.float64)
K1 = 1.2
MAX_PREFIX_TERMS = 500  # a prefix reads at most this many terms (the first in term order)
SEPARATOR = "|"  # ends each field in the token stream; never an analysed term
_MAX_TF = np.iinfo(np.uint16).max
WEIGHT_CACHE_POSTINGS = 8_000_000  # term weights kept per segment (float32: 32 MB)

Ints = npt.NDArray[np.int64]
Slots = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Scores = npt.NDArray[np.float32]
Bools = npt.NDArray[np.bool_]
Frequencies = npt.NDArray[np.uint16]
Offsets = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class Document:
    """One brief as the index sees it: analysed fields (terms joined by spaces, as
    search_documents stores them) and what filters read."""

    brief_id: int
    fields: tuple[str, str, str, str]
    kind: str = "policy"
    published: int = -1  # date ordinal, -1 undated
    body_ids: tuple[int, ...] = ()
    due_years: tuple[int, ...] = ()


class Vocabulary:
    """Term ids shared by every segment of an index. The separator and the stopwords take
    the first ids, so "is this token posted" is one comparison."""

    def __init__(self) -> None:
        counter = itertools.count()
        # A defaultdict's item lookup runs in C: mapping a million tokens takes a tenth of a
        # second, where a Python-level `id()` per token would take seconds.
        self.ids: defaultdict[str, int] = defaultdict(counter.__next__)
        for reserved in (SEPARATOR, *sorted(STOPWORDS)):
            self.ids[reserved]  # noqa: B018 - a lookup assigns the next id
        self.reserved = len(self.ids)
        self._sorted: list[str] = []

    def get(self, term: str) -> int | None:
        return self.ids.get(term)

    def with_prefix(self, prefix: str) -> list[int]:
        if len(self._sorted) != len(self.ids):
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
    slots: Slots  # sorted
    tf: Frequencies  # (len(slots), FIELDS)


class _Stream:
    """Collects a segment's token stream in chunks of documents (bounded memory)."""

    CHUNK = 4096

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.term_ids: list[npt.NDArray[np.int32]] = []
        self.offsets: list[Offsets] = []
        self.field_numbers: list[Slots] = []
        self.lengths: list[npt.NDArray[np.int64]] = []
        self.field_starts: list[Ints] = []
        self.size = 0  # tokens so far, separators included
        self.documents = 0

    def add(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        text = " ".join(
            f"{d.fields[0]} | {d.fields[1]} | {d.fields[2]} | {d.fields[3]} |" for d in documents
        )
        tokens = text.split()
        ids = np.fromiter(
            map(self.vocabulary.ids.__getitem__, tokens), dtype=np.int32, count=len(tokens)
        )
        separators = ids == 0
        field_number = np.cumsum(separators) - separators  # fields ended before each token
        ends = np.flatnonzero(separators)
        starts = np.concatenate(([0], ends[:-1] + 1))
        posted = ids >= self.vocabulary.reserved
        fields_here = FIELDS * len(documents)
        self.lengths.append(
            np.bincount(field_number[posted], minlength=fields_here).reshape(-1, FIELDS)
        )
        self.field_starts.append(starts + self.size)
        self.term_ids.append(ids[posted])
        self.offsets.append((np.flatnonzero(posted) + self.size).astype(np.uint32))
        self.field_numbers.append((field_number[posted] + FIELDS * self.documents).astype(np.int32))
        self.size += len(tokens)
        self.documents += len(documents)


class Segment:
    """An immutable batch of documents; `live` marks those not replaced since."""

    def __init__(self, documents: Iterable[Document], vocabulary: Vocabulary) -> None:
        stream = _Stream(vocabulary)
        brief_ids: list[int] = []
        published: list[int] = []
        news: list[bool] = []
        bodies: defaultdict[int, list[int]] = defaultdict(list)
        years: defaultdict[int, list[int]] = defaultdict(list)
        chunk: list[Document] = []
        for document in documents:
            slot = len(brief_ids)
            brief_ids.append(document.brief_id)
            published.append(document.published)
            news.append(document.kind == "news")
            for body in set(document.body_ids):
                bodies[body].append(slot)
            for year in set(document.due_years):
                years[year].append(slot)
            chunk.append(document)
            if len(chunk) >= _Stream.CHUNK:
                stream.add(chunk)
                chunk = []
        stream.add(chunk)
        del chunk
        n = len(brief_ids)
        self.size = n
        self.brief_ids = np.array(brief_ids, dtype=np.int64)
        self.live = np.ones(n, dtype=np.bool_)
        self.published = np.array(published, dtype=np.int64)
        self.kinds = np.array(news, dtype=np.bool_)
        self.body_slots = {k: np.array(v, dtype=np.int32) for k, v in bodies.items()}
        self.year_slots = {k: np.array(v, dtype=np.int32) for k, v in years.items()}
        self._slot_of_brief = {b: i for i, b in enumerate(brief_ids)}
        self.stream_size = stream.size
        self.lengths = (
            np.concatenate(stream.lengths) if stream.lengths else np.zeros((0, FIELDS), np.int64)
        )
        self._field_starts = (
            np.concatenate(stream.field_starts) if stream.field_starts else np.zeros(0, np.int64)
        )
        self._build_postings(stream)
        self._norms: tuple[tuple[float, ...], Scores] | None = None
        self._live_totals: tuple[int, Floats] | None = None
        # Per term, for the current norms: BM25F's saturated term frequency per posting and
        # the slots that have the term in a title (see `term_weights`).
        self._weights: tuple[Scores | None, dict[int, tuple[Scores, Slots]]] = (None, {})
        self._weights_size = 0
        self._scratch: Bools | None = None  # a phrase's bitmap of the token stream
        self._scratch_lock = threading.Lock()

    def _build_postings(self, stream: _Stream) -> None:
        term_ids = np.concatenate(stream.term_ids) if stream.term_ids else np.zeros(0, np.int32)
        stream.term_ids.clear()
        # Stable: within a term the stream order (slot, field, position) is kept.
        order = np.argsort(term_ids, kind="stable")
        term_ids = term_ids[order]
        offsets = np.concatenate(stream.offsets) if stream.offsets else np.zeros(0, np.uint32)
        stream.offsets.clear()
        self._positions: Offsets = offsets[order]
        del offsets
        field_numbers = (
            np.concatenate(stream.field_numbers) if stream.field_numbers else np.zeros(0, np.int32)
        )
        stream.field_numbers.clear()
        field_numbers = field_numbers[order]
        del order
        slots = field_numbers // FIELDS
        fields = field_numbers % FIELDS
        del field_numbers
        new_pair = np.ones(len(term_ids), dtype=np.bool_)
        new_pair[1:] = (term_ids[1:] != term_ids[:-1]) | (slots[1:] != slots[:-1])
        pair_starts = np.flatnonzero(new_pair)
        pair_index = np.cumsum(new_pair, dtype=np.int32) - 1
        del new_pair
        pairs = len(pair_starts)
        self._pair_tf: Frequencies = np.zeros((pairs, FIELDS), dtype=np.uint16)
        for f in range(FIELDS):
            counts = np.bincount(pair_index[fields == f], minlength=pairs)
            self._pair_tf[:, f] = np.minimum(counts, _MAX_TF)
        del pair_index, fields
        self._pair_slots: Slots = slots[pair_starts].astype(np.int32)
        del slots
        pair_terms = term_ids[pair_starts]
        terms = np.unique(pair_terms)
        # Term id -> its rows, by direct lookup (-1: not in this segment).
        self._row_of_term = np.full(int(terms[-1]) + 1 if len(terms) else 0, -1, dtype=np.int32)
        self._row_of_term[terms] = np.arange(len(terms), dtype=np.int32)
        self._pair_bounds = np.stack(
            (
                np.searchsorted(pair_terms, terms, side="left"),
                np.searchsorted(pair_terms, terms, side="right"),
            ),
            axis=1,
        )
        self._position_bounds = np.stack(
            (
                np.searchsorted(term_ids, terms, side="left"),
                np.searchsorted(term_ids, terms, side="right"),
            ),
            axis=1,
        )

    def nbytes(self) -> int:
        """Memory held by the arrays (the index's size, for benchmarks)."""
        arrays = [
            self.brief_ids,
            self.live,
            self.published,
            self.kinds,
            self.lengths,
            self._field_starts,
            self._positions,
            self._pair_tf,
            self._pair_slots,
            self._row_of_term,
            self._pair_bounds,
            self._position_bounds,
            *self.body_slots.values(),
            *self.year_slots.values(),
        ]
        return sum(a.nbytes for a in arrays)

    def _row(self, term_id: int) -> int:
        if term_id >= len(self._row_of_term):
            return -1
        return int(self._row_of_term[term_id])

    def postings(self, term_id: int) -> Postings | None:
        row = self._row(term_id)
        if row < 0:
            return None
        start, end = self._pair_bounds[row]
        return Postings(self._pair_slots[start:end], self._pair_tf[start:end])

    def positions(self, term_id: int) -> Offsets:
        row = self._row(term_id)
        if row < 0:
            return np.zeros(0, dtype=np.uint32)
        start, end = self._position_bounds[row]
        return self._positions[start:end]

    def phrase(self, term_ids: Sequence[int | None]) -> Postings | None:
        """Where the terms occur one after another (None: a skipped stopword)."""
        anchored = [(offset, t) for offset, t in enumerate(term_ids) if t is not None]
        if not anchored:
            return None
        # The rarest term first: the candidates only shrink from there.
        anchored.sort(key=lambda pair: len(self.positions(pair[1])))
        first_offset, first = anchored[0]
        starts = self.positions(first).astype(np.int64) - first_offset
        starts = starts[starts >= 0]
        for offset, term in anchored[1:]:
            if not len(starts):
                break
            following = self.positions(term).astype(np.int64) - offset
            following = following[following >= 0]
            if len(starts) * 16 < len(following):  # few candidates: binary search
                at = np.searchsorted(following, starts)
                at[at >= len(following)] = 0
                starts = starts[following[at] == starts] if len(following) else starts[:0]
                continue
            # One bitmap of the stream, kept: marked, read, then cleared again (touching
            # 20 MB of fresh zero pages per phrase would cost more than the lookups).
            with self._scratch_lock:
                if self._scratch is None:
                    self._scratch = np.zeros(self.stream_size + 1, dtype=np.bool_)
                present = self._scratch
                present[following] = True
                starts = starts[present[starts]]
                present[following] = False
        if not len(starts):
            return None
        starts.sort()
        where = np.searchsorted(self._field_starts, starts, side="right") - 1
        slots = (where // FIELDS).astype(np.int32)
        fields = where % FIELDS
        unique, index = np.unique(slots, return_inverse=True)
        tf = np.zeros((len(unique), FIELDS), dtype=np.uint16)
        np.add.at(tf, (index, fields), 1)
        return Postings(unique, tf)

    def term_weights(self, term_id: int, postings: Postings, norms: Scores) -> tuple[Scores, Slots]:
        """The saturated BM25F term frequency of each posting of a term (what its idf is
        multiplied by) and its slots with the term in a title. Depends only on the
        documents, so it is kept per term until the norms change (a new revision); the
        cache is bounded, and a term not in it costs one pass over its postings."""
        cached = self._weights
        if cached[0] is not norms:
            cached = self._weights = (norms, {})
            self._weights_size = 0
        found = cached[1].get(term_id)
        if found is None:
            found = (saturate(postings.tf, norms[postings.slots]), titled(postings))
            if self._weights_size > WEIGHT_CACHE_POSTINGS:
                cached[1].clear()
                self._weights_size = 0
            cached[1][term_id] = found
            self._weights_size += len(postings.slots)
        return found

    def slot(self, brief_id: int) -> int | None:
        return self._slot_of_brief.get(brief_id)

    def drop(self, slot: int) -> None:
        self.live[slot] = False
        self._live_totals = None

    def live_totals(self) -> tuple[int, Floats]:
        """Live documents and their summed field lengths (cached until a slot is dropped)."""
        if self._live_totals is None:
            lengths = self.lengths[self.live].sum(axis=0).astype(np.float64)
            self._live_totals = (int(self.live.sum()), lengths)
        return self._live_totals

    def norms(self, average_lengths: Floats) -> Scores:
        """Per slot and field: the field's weight / (1 - b + b * length / average length),
        what a term frequency is multiplied by. Cached for the last averages seen (they
        change only when the documents do)."""
        key = tuple(float(a) for a in average_lengths)
        cached = self._norms
        if cached is None or cached[0] != key:
            norm = 1.0 - FIELD_B + FIELD_B * self.lengths / average_lengths
            cached = self._norms = (key, (FIELD_WEIGHTS / norm).astype(np.float32))
        return cached[1]


class Index:
    """Segments over one vocabulary; a brief lives in at most one segment. The documents of
    the small segments are kept, to merge them; the base segment's are not."""

    MERGE_AT = 20  # more small segments than this are merged into one

    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self.segments: list[Segment] = []
        self.base: Segment | None = None
        self._where: dict[int, tuple[Segment, int]] = {}
        self._documents: dict[int, Document] = {}

    def __len__(self) -> int:
        return len(self._where)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self.segments)

    def document(self, brief_id: int) -> Document | None:
        return self._documents.get(brief_id)

    def load(self, documents: Iterable[Document]) -> None:
        """Build the base segment from all documents (streamed: none of them is kept)."""
        self.segments, self._where, self._documents = [], {}, {}
        segment = Segment(documents, self.vocabulary)
        self.base = segment
        self.segments = [segment] if segment.size else []
        for slot, brief_id in enumerate(segment.brief_ids.tolist()):
            found = self._where.get(brief_id)
            if found is not None:  # the same brief twice: the later one wins
                found[0].drop(found[1])
            self._where[brief_id] = (segment, slot)

    def apply(self, replaced: Iterable[Document], removed: Iterable[int] = ()) -> None:
        """Add or replace these documents and drop the removed briefs (one new segment)."""
        documents = list({d.brief_id: d for d in replaced}.values())
        for brief_id in [*removed, *(d.brief_id for d in documents)]:
            found = self._where.pop(brief_id, None)
            self._documents.pop(brief_id, None)
            if found is not None:
                found[0].drop(found[1])
        if documents:
            small = [s for s in self.segments if s is not self.base]
            if len(small) >= self.MERGE_AT:
                kept = [self._documents[int(b)] for s in small for b in s.brief_ids[s.live]]
                documents = [*kept, *documents]
                self.segments = [s for s in self.segments if s is self.base]
            segment = Segment(documents, self.vocabulary)
            self.segments.append(segment)
            for slot, document in enumerate(documents):
                self._where[document.brief_id] = (segment, slot)
                self._documents[document.brief_id] = document
        self.segments = [s for s in self.segments if s.live.any()]


def saturate(tf: Frequencies, norms: Scores) -> Scores:
    """BM25's saturation of the field-weighted, length-normalised term frequencies."""
    weighted = np.einsum("ij,ij->i", tf, norms, dtype=np.float32)
    saturated: Scores = weighted * np.float32(K1 + 1.0) / (np.float32(K1) + weighted)
    return saturated


def titled(postings: Postings) -> Slots:
    found: Slots = postings.slots[postings.tf[:, 0] > 0]
    return found


def idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))
