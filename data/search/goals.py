"""Goals' deadlines as the search index holds them (index.py: `due_<kind>` and
`due_rank_<kind>`, per brief), counted and paged by tantivy in one pass over the briefs a
query matches: `deadlines` and the scorecard read the briefs their words match and the
goals' deadlines together, so their cost follows the answer's size in buckets, not the
number of briefs or goals matched.

Every function takes a query over briefs (the words and filters, ranking.Searcher's
`matching_query`) and one goal kind; days are date ordinals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import tantivy

from .index import (
    DAY_SLOTS,
    GOAL_SLOTS,
    RANK_SLOTS,
    SCHEMA,
    due_field,
    rank_field,
    soonest_field,
)

UNDATED = -1  # the `published` of a brief without a publication day
_Occur = tantivy.Occur


class TooManyBuckets(Exception):
    """tantivy refused the aggregation (its bucket limit): the caller reads the database."""


def _both(query: tantivy.Query, other: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(_Occur.Must, query), (_Occur.Must, other)])


def _values(name: str, low: int | None, high: int | None) -> tantivy.Query:
    """Documents with a value of the field in [low, high]."""
    ranged = tantivy.Query.range_query(
        SCHEMA, name, tantivy.FieldType.Integer, lower_bound=low, upper_bound=high
    )
    return tantivy.Query.const_score_query(ranged, 0.0)


def _aggregate(searcher: tantivy.Searcher, query: tantivy.Query, spec: dict[str, Any]) -> Any:
    try:
        return searcher.aggregate(query, spec)
    except ValueError as error:
        raise TooManyBuckets(str(error)) from error


def day_counts(
    searcher: tantivy.Searcher, query: tantivy.Query, kind: str, start: int, end: int
) -> list[tuple[int, int]]:
    """(day, goals due that day) of the matched briefs' goals due in [start, end], soonest
    first (days without any left out). Each goal is a value of its own (index.due_values),
    so a bucket per value counts goals, not briefs."""
    low, high = start * DAY_SLOTS, (end + 1) * DAY_SLOTS - 1
    name = due_field(kind)
    spec = {
        "goals": {
            "histogram": {
                "field": name,
                "interval": 1,
                "min_doc_count": 1,
                "hard_bounds": {"min": low, "max": high},
            }
        }
    }
    result = _aggregate(searcher, _both(query, _values(name, low, high)), spec)
    counts: Counter[int] = Counter()
    for bucket in result["goals"]["buckets"]:
        counts[int(bucket["key"]) // DAY_SLOTS] += int(bucket["doc_count"])
    return sorted(counts.items())


def briefs_due_on(
    searcher: tantivy.Searcher, query: tantivy.Query, kind: str, day: int, wanted: int
) -> list[tuple[int, int]]:
    """(brief id, publication day or UNDATED) of the matched briefs with a goal of the kind
    due on `day`, newest first: the first `wanted` of them (all, if fewer) and every other
    one published the same day as the last, so that no brief left out is as new as one
    listed."""
    name = due_field(kind)
    on_day = _both(query, _values(name, day * DAY_SLOTS, (day + 1) * DAY_SLOTS - 1))
    limit = max(wanted, 1) + 8
    while True:
        result = searcher.search(
            on_day, limit, count=False, order_by_field="published", order=tantivy.Order.Desc
        )
        hits = result.hits
        if len(hits) < limit or hits[-1][0] != hits[max(wanted, 1) - 1][0]:
            break
        limit *= 4
    addresses = [address for _key, address in hits]
    brief_ids = searcher.fast_field_values("brief_id", addresses)
    return [
        (int(brief_id), UNDATED if published is None else int(published))
        for (published, _address), brief_id in zip(hits, brief_ids, strict=True)
        if brief_id is not None
    ]


@dataclass
class PastGoals:
    """The matched briefs' goals of one kind due before a day."""

    goals: int = 0
    briefs: int = 0  # briefs with at least one
    per_body: Counter[int] = field(default_factory=Counter)  # by body id


_RANKS = 16  # ranks counted in a searcher's first pass: more only if a brief has more goals
# The most goals of a kind a matched brief had, by the last searcher that counted them: the
# next count starts there (a rank range per goal slot costs, and briefs hold a few goals);
# a query whose briefs hold more counts again (below), so it is a first guess, never wrong.
_seen_ranks: dict[str, tuple[tantivy.Searcher, int]] = {}


def past_goals(
    searcher: tantivy.Searcher, query: tantivy.Query, kind: str, before: int, *, by_body: bool
) -> PastGoals:
    """Counted from `due_rank_<kind>`: a brief has a goal before `before` at rank r when
    it holds a value in [r * RANK_SLOTS, r * RANK_SLOTS + before), so one range per rank,
    summed, counts the goals (each brief is counted once per range)."""
    name = due_field(kind)
    past = _both(query, _values(name, None, before * DAY_SLOTS - 1))
    seen = _seen_ranks.get(kind)
    ranks = seen[1] if seen is not None and seen[0] is searcher else _RANKS
    while True:
        ranges = [
            {"key": f"r{rank}", "from": rank * RANK_SLOTS, "to": rank * RANK_SLOTS + before}
            for rank in range(ranks)
        ]
        per_rank = {"range": {"field": rank_field(kind), "ranges": ranges}}
        spec: dict[str, Any] = {"top": {"max": {"field": rank_field(kind)}}, "ranks": per_rank}
        if by_body:
            every_body = {"field": "body_ids", "size": 1_000_000}
            spec["bodies"] = {"terms": every_body, "aggs": {"ranks": per_rank}}
        result = _aggregate(searcher, past, spec)
        top = result["top"]["value"]
        most = 0 if top is None else int(top) // RANK_SLOTS + 1  # a brief's most goals
        if most <= ranks:
            break
        ranks = most
    _seen_ranks[kind] = (searcher, max(most, 1))

    def counted(buckets: list[dict[str, Any]]) -> tuple[int, int]:
        """(goals, briefs with the first) from one set of rank buckets."""
        named = {b["key"]: int(b["doc_count"]) for b in buckets if str(b["key"]).startswith("r")}
        return sum(named.values()), named.get("r0", 0)

    out = PastGoals()
    out.goals, out.briefs = counted(result["ranks"]["buckets"])
    if by_body:
        for bucket in result["bodies"]["buckets"]:
            goals, _briefs = counted(bucket["ranks"]["buckets"])
            if goals:
                out.per_body[int(bucket["key"])] = goals
    return out


def with_past_goals(query: tantivy.Query, kind: str, before: int) -> tantivy.Query:
    """The briefs of the query with a goal of the kind due before `before`."""
    return _both(query, _values(due_field(kind), None, before * DAY_SLOTS - 1))


def soonest_past(
    searcher: tantivy.Searcher, query: tantivy.Query, kind: str, before: int, wanted: int
) -> list[tuple[int, int, int]]:
    """(day, goal id, brief id) of the soonest goal of the kind of the first `wanted`
    matched briefs whose soonest goal is due before `before`, in that order (by day, then
    goal id: index.soonest_field)."""
    if wanted <= 0:
        return []
    past = _both(query, _values(due_field(kind), None, before * DAY_SLOTS - 1))
    hits = searcher.search(
        past, wanted, count=False, order_by_field=soonest_field(kind), order=tantivy.Order.Asc
    ).hits
    values = searcher.fast_field_values("brief_id", [address for _key, address in hits])
    return [
        (int(key) // GOAL_SLOTS, int(key) % GOAL_SLOTS, int(brief_id))
        for (key, _address), brief_id in zip(hits, values, strict=True)
        if key is not None and brief_id is not None
    ]


def among(searcher: tantivy.Searcher, query: tantivy.Query, brief_ids: list[int]) -> set[int]:
    """Those of these briefs the query matches (a few: a team's answers' briefs)."""
    if not brief_ids:
        return set()
    listed = tantivy.Query.term_set_query(SCHEMA, "brief_id", sorted(set(brief_ids)))
    hits = searcher.search(_both(query, listed), len(set(brief_ids)), count=False).hits
    values = searcher.fast_field_values("brief_id", [address for _key, address in hits])
    return {int(v) for v in values if v is not None}
