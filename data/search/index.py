"""The search index: a tantivy index of the analysed search documents.

Our analysis (data/search/analysis.py: stems, spellings, CJK bigrams) makes the terms;
tantivy stores them as they are (a whitespace tokenizer over the analysed text, stopwords
dropped with their positions kept), with positions, and the filters' values (kind,
publication date, issuing bodies, deadline years) as indexed integers. Three text fields:
`title` (for the title tier), `all` (every field, scored as BM25F by repetition) and
`pairs` (each two terms in a row as one term, so a phrase reads pair postings). Besides the briefs, each index holds one state document (brief id -1): the
search revision it reflects, the database it was built from and the schema and analysis
versions, all committed together with the documents they describe.

On disk (`shared.py` keeps it in step with the database), an index is one generation
directory under the database's index directory; a rebuild writes a new generation and
switches `CURRENT` to it, so readers keep the old one until they move. Small private
indexes (a transaction's own uncommitted documents, an in-memory database, a handful of
candidate briefs) live in RAM with the same schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import tantivy

from ..models import GoalKind
from .analysis import ANALYSIS_VERSION, STOPWORDS

# A brief's analysed fields: titles, issuing bodies, text (summary and goals), comment. The
# index holds the title on its own (for the title tier and nothing else) and every field in
# `all`, the title and the bodies twice over: BM25F by repetition (one saturation and one
# length per brief; a title's or a body's term counts double, so a body named among the
# issuers outranks one named in the text). These copies rank the judged queries of
# benchmarks/relevance as well as any tried (2,1,1,1, 3,1,1,1, 4,2,2,1 and the old engine
# within 0.001 nDCG@5), and fewer copies keep the index small.
FIELDS = ("title", "bodies", "text", "comment")
FIELD_COPIES = (2, 2, 1, 1)
TOKENIZER = "policybot_terms"
# Between two fields in `all`: stopwords (not indexed, but taking positions), so a phrase
# never runs from one field into the next.
_GAP = " " + " ".join(["a"] * 8) + " "
STOPWORD_MARK = "\u2205"
SCHEMA_VERSION = 4  # bumped when the schema or what a field holds changes: a rebuild
STATE_ID = -1  # the brief id of the state document
BUILD_HEAP = 16_000_000  # the writer's heap for a full build (one thread: bounded memory)
DELTA_HEAP = 15_000_000  # for a catch-up or a private index (tantivy's minimum per thread)


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
    # The brief's goals with a deadline: (goal kind, deadline's date ordinal, goal id), read
    # from the goals when the document is made (rows.with_goals), not in search_documents.
    deadlines: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class State:
    """What the state document says: the revision reached and what it was built for."""

    revision: int
    identity: str
    schema: int
    analysis: int

    def fits(self, identity: str) -> bool:
        return (
            self.identity == identity
            and self.schema == SCHEMA_VERSION
            and self.analysis == ANALYSIS_VERSION
        )


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("brief_id", indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("all", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_text_field("pairs", tokenizer_name=TOKENIZER, index_option="position")
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("news", indexed=True)
    builder.add_integer_field("body_ids", indexed=True, fast=True)
    for kind in GoalKind:
        # Per goal kind, each goal's deadline twice over (see `due_values`, `rank_values`):
        # what `deadlines` and the scorecard count and page with tantivy's aggregations.
        builder.add_integer_field(due_field(kind), indexed=True, fast=True)
        builder.add_integer_field(rank_field(kind), indexed=False, fast=True)
        builder.add_integer_field(soonest_field(kind), indexed=False, fast=True)
    builder.add_integer_field("due_years", indexed=True)
    builder.add_integer_field("revision", stored=True)  # the state document's
    builder.add_text_field("meta", stored=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


def due_field(kind: str) -> str:
    return f"due_{kind}"


def rank_field(kind: str) -> str:
    return f"due_rank_{kind}"


def soonest_field(kind: str) -> str:
    return f"due_soonest_{kind}"


# As `due_soonest_<kind>` holds the brief's soonest goal of the kind (one value): its day *
# GOAL_SLOTS + its goal id (the lowest of the day), so that ordering by it orders the
# briefs as the scorecard lists them, ties and all.
GOAL_SLOTS = 1 << 31  # above every goal id (INTEGER columns)


# A deadline as `due_<kind>` holds it: day * DAY_SLOTS + how many of the brief's goals of
# that kind fall due the same day before it. Every goal is then its own value (tantivy's
# buckets count a document once per bucket, so the goals of one day stay apart), a day is
# the range [day * DAY_SLOTS, (day + 1) * DAY_SLOTS), and the values go in ascending order,
# so that the first (what tantivy orders documents by) is the brief's soonest deadline.
DAY_SLOTS = 1 << 16
# As `due_rank_<kind>` holds it: rank * RANK_SLOTS + day, the rank the goal's place among
# the brief's goals of that kind, soonest first. A document has a goal before day D at rank
# r exactly when its value in [r * RANK_SLOTS, r * RANK_SLOTS + D) exists, so one range per
# rank counts the goals before D (a bucket counts documents, and each holds one per rank).
RANK_SLOTS = 1 << 22  # above every date ordinal (date.max is 3,652,059)


def due_values(days: Iterable[int]) -> list[int]:
    """`due_<kind>` values of a brief's deadlines (date ordinals) of one kind."""
    out: list[int] = []
    previous, same_day = -1, 0
    for day in sorted(days):
        same_day = same_day + 1 if day == previous else 0
        previous = day
        out.append(day * DAY_SLOTS + min(same_day, DAY_SLOTS - 1))
    return out


def rank_values(days: Iterable[int]) -> list[int]:
    """`due_rank_<kind>` values of a brief's deadlines of one kind."""
    return [rank * RANK_SLOTS + day for rank, day in enumerate(sorted(days))]


SCHEMA = schema()


def _analyzer() -> tantivy.TextAnalyzer:
    # Our terms are already lower-case and split: only whitespace separates them. Stopwords
    # are not indexed (a phrase skips them by offset; they count for no field length).
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
    return builder.filter(tantivy.Filter.custom_stopword(sorted(STOPWORDS))).build()


def prepared(index: tantivy.Index) -> tantivy.Index:
    """An opened or created index, ready to read and write: tantivy keeps no tokenizer on
    disk, and we reload explicitly (after a catch-up), never on a background timer."""
    index.register_tokenizer(TOKENIZER, _analyzer())
    index.config_reader(reload_policy="manual")
    return index


def ram_index(documents: Iterable[Document]) -> tantivy.Index:
    """A private index in memory holding these documents."""
    index = prepared(tantivy.Index(SCHEMA))
    writer = index.writer(DELTA_HEAP, 1)
    for document in documents:
        writer.add_document(as_tantivy(document))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def as_tantivy(document: Document) -> tantivy.Document:
    out = tantivy.Document()
    out.add_integer("brief_id", document.brief_id)
    out.add_text("title", document.fields[0])
    copies = [f for f, n in zip(document.fields, FIELD_COPIES, strict=True) for _ in range(n)]
    out.add_text("all", _GAP.join(copies))
    paired = [pairs(f.split()) for f in document.fields]
    out.add_text(
        "pairs", _GAP.join(p for p, n in zip(paired, FIELD_COPIES, strict=True) for _ in range(n))
    )
    out.add_integer("published", document.published)
    out.add_integer("news", 1 if document.kind == "news" else 0)
    for body in sorted(set(document.body_ids)):
        out.add_integer("body_ids", body)
    for year in sorted(set(document.due_years)):
        out.add_integer("due_years", year)
    for kind in GoalKind:
        goals = sorted(
            (day, goal_id) for goal_kind, day, goal_id in document.deadlines if goal_kind == kind
        )
        days = [day for day, _goal_id in goals]
        for value in due_values(days):
            out.add_integer(due_field(kind), value)
        for value in rank_values(days):
            out.add_integer(rank_field(kind), value)
        if goals:
            out.add_integer(soonest_field(kind), goals[0][0] * GOAL_SLOTS + goals[0][1])
    return out


_BOTH_STOPWORDS = f"{STOPWORD_MARK}_{STOPWORD_MARK}"


def pairs(terms: list[str]) -> str:
    """The pair term at each position of a field, joined by spaces: `a_b` for two terms one
    after the other, a stopword written ∅, two stopwords the stopword `a` (not indexed,
    but it keeps its place). A phrase of two words is then one term, a longer one a phrase
    of pairs: common words one after the other are read from their pair's postings, not
    from both words' positions. Our terms never hold `_` or `∅`."""
    marked = [STOPWORD_MARK if t in STOPWORDS else t for t in terms]
    joined = " ".join(map("_".join, zip(marked, marked[1:], strict=False)))
    return joined.replace(_BOTH_STOPWORDS, "a")


def state_document(revision: int, identity: str) -> tantivy.Document:
    out = tantivy.Document()
    out.add_integer("brief_id", STATE_ID)
    out.add_integer("revision", revision)
    meta = {"identity": identity, "schema": SCHEMA_VERSION, "analysis": ANALYSIS_VERSION}
    out.add_text("meta", json.dumps(meta, sort_keys=True))
    return out


def read_state(searcher: tantivy.Searcher) -> State | None:
    """The state document of a searcher's commit (None: an index without one)."""
    hits = searcher.search(tantivy.Query.term_query(SCHEMA, "brief_id", STATE_ID), 1).hits
    if not hits:
        return None
    stored: dict[str, Any] = searcher.doc(hits[0][1]).to_dict()
    meta = json.loads(stored["meta"][0])
    return State(
        revision=int(stored["revision"][0]),
        identity=str(meta["identity"]),
        schema=int(meta["schema"]),
        analysis=int(meta["analysis"]),
    )


def apply(writer: tantivy.IndexWriter, replaced: Iterable[Document], removed: Iterable[int]) -> int:
    """Replace these documents and drop the removed briefs (not committed); how many."""
    count = 0
    for brief_id in removed:
        writer.delete_documents_by_term("brief_id", brief_id)
        count += 1
    for document in {d.brief_id: d for d in replaced}.values():
        writer.delete_documents_by_term("brief_id", document.brief_id)
        writer.add_document(as_tantivy(document))
        count += 1
    return count
