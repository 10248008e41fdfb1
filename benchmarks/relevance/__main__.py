"""Search quality on analysts' queries: policybot beside a plain BM25 OR baseline.

    python -m benchmarks.relevance [--judgements FILE] [--tracker FILE ...] [--postgres URL]
                                   [--verbose]

The corpus is the demo tracker plus the trackers in benchmarks/relevance/trackers (or those
given with --tracker), ingested into a fresh database; every judged query
(judgements.toml, then the analysts' questions in questions.toml, then the concepts under
their abbreviations, Chinese terms and paraphrases in concepts.toml, then all together) is
asked as `/policy <query>` through the command runner, on the
judgements' date, and the first page (5 briefs) is scored. The baseline ranks the same
briefs with BM25 (k1 1.2, b 0.75) over one text of title, bodies, summary, goals and comment,
analysed as a search box would (case folding, Snowball stemming, Chinese bigrams), and
returns every brief holding any query word (OR).

Printed per system: nDCG@5 (graded gains 2^g - 1), recall@5 (relevant briefs on the first
page over min(5, relevant briefs)), zero-result answers to queries that have relevant briefs,
and false hits (any result for a query that should find nothing).
Goals: nDCG@5 >= 0.85, no zero-result answer, no false hit, >= 0.15 above the baseline.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from policybot.data.db import SessionFactory, make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "data" / "corpus" / "china-industrial-policy-tracker-2024-11.txt"
PAGE = 5


@dataclass
class Judged:
    text: str
    grades: dict[int, int]  # brief id -> grade (2 or 1)


@dataclass
class Figures:
    ndcg: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    zero: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        ndcg = sum(self.ndcg) / len(self.ndcg)
        recall = sum(self.recall) / len(self.recall)
        return (
            f"  {name:<22} nDCG@5 {ndcg:.3f}   recall@5 {recall:.3f}   "
            f"zero-result {len(self.zero):>2}   false hits {len(self.false_hits):>2}"
        )

    @property
    def mean_ndcg(self) -> float:
        return sum(self.ndcg) / len(self.ndcg)


def ndcg_at(ranked: Sequence[int], grades: dict[int, int], k: int = PAGE) -> float:
    def gain(grade: int) -> float:
        return float(2**grade - 1)

    dcg = sum(gain(grades.get(b, 0)) / math.log2(i + 2) for i, b in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum(gain(g) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def score(figures: Figures, judged: Judged, ranked: Sequence[int]) -> None:
    if not judged.grades:
        if ranked:
            figures.false_hits.append(judged.text)
        return
    figures.ndcg.append(ndcg_at(ranked, judged.grades))
    found = sum(1 for b in ranked[:PAGE] if judged.grades.get(b, 0) > 0)
    figures.recall.append(found / min(PAGE, len(judged.grades)))
    if not ranked:
        figures.zero.append(judged.text)


class Bm25Baseline:
    """Plain BM25 with OR semantics over each brief's whole text."""

    K1, B = 1.2, 0.75

    def __init__(self, session: Session) -> None:
        from policybot.data.search.analysis import terms

        self.terms = terms
        self.docs: dict[int, Counter[str]] = {}
        self.dates: dict[int, date] = {}
        for brief in session.scalars(select(Brief)):
            text = " ".join(
                [
                    brief.title,
                    brief.title_original or "",
                    " ".join(f"{b.abbreviation} {b.full_name}" for b in brief.bodies),
                    brief.summary,
                    *(g.text for g in brief.goals),
                    brief.comment,
                ]
            )
            self.docs[brief.id] = Counter(terms(text))
            self.dates[brief.id] = brief.published_on or date.min
        self.lengths = {i: sum(c.values()) for i, c in self.docs.items()}
        self.average = sum(self.lengths.values()) / len(self.lengths)
        self.df: Counter[str] = Counter()
        for counts in self.docs.values():
            self.df.update(counts.keys())

    def search(self, text: str) -> list[int]:
        words = set(self.terms(text.replace('"', " ").replace("*", " ")))
        n = len(self.docs)
        scores: dict[int, float] = {}
        for word in words:
            df = self.df.get(word, 0)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for brief_id, counts in self.docs.items():
                tf = counts.get(word, 0)
                if tf:
                    norm = 1 - self.B + self.B * self.lengths[brief_id] / self.average
                    scores[brief_id] = scores.get(brief_id, 0.0) + idf * tf * (self.K1 + 1) / (
                        tf + self.K1 * norm
                    )
        return sorted(scores, key=lambda b: (-scores[b], -self.dates[b].toordinal(), -b))[:PAGE]


def load_judgements(path: Path, session: Session) -> tuple[list[Judged], date]:
    data = tomllib.loads(path.read_text("utf-8"))
    titles = [(b.id, b.title) for b in session.scalars(select(Brief).order_by(Brief.id))]
    keys: dict[str, int] = {}
    for key, prefix in data["briefs"].items():
        found = [i for i, title in titles if title.startswith(prefix)]
        if len(found) != 1:
            raise SystemExit(f"{path}: brief {key!r} matches {len(found)} titles: {prefix!r}")
        keys[key] = found[0]
    judged = [
        Judged(q["text"], {keys[k]: int(g) for k, g in q.get("grades", {}).items() if g})
        for q in data["query"]
    ]
    return judged, date.fromisoformat(data["now"])


def policybot_search(runner: CommandRunner, now: datetime) -> Callable[[str], list[int]]:
    def run(text: str) -> list[int]:
        reply = runner.run(text, Context(now=now))
        # A question read as a deadline list answers with the briefs of its deadlines.
        views = reply.briefs or [d.brief for d in reply.deadlines]
        return list(dict.fromkeys(int(view.ref[1:]) for view in views))[:PAGE]

    return run


def evaluate(url: str, trackers: Sequence[Path], files: Sequence[Path], verbose: bool) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    ingested = datetime(2025, 2, 1, tzinfo=UTC)
    for path in (DEMO, *trackers):
        with sessions() as session, session.begin():
            ingest_bytes(session, path.read_bytes(), path.name, ingested)
    with sessions() as session:
        sets = {path.stem: load_judgements(path, session) for path in files}
        baseline = Bm25Baseline(session)
    days = {today for _judged, today in sets.values()}
    if len(days) > 1:
        raise SystemExit("the judgement files must share one `now`")
    if len(sets) > 1:  # each file, then all of them together
        sets["together"] = ([q for judged, _t in sets.values() for q in judged], days.pop())
    for label, (judged, today) in sets.items():
        print(f"--- {label}")
        _evaluate_set(sessions, baseline, judged, today, engine.dialect.name, verbose)
    engine.dispose()


def _evaluate_set(
    sessions: SessionFactory,
    baseline: Bm25Baseline,
    judged: list[Judged],
    today: date,
    dialect: str,
    verbose: bool,
) -> None:
    now = datetime.combine(today, time(9), tzinfo=UTC)
    systems: dict[str, Callable[[str], list[int]]] = {
        "policybot": policybot_search(CommandRunner(sessions), now),
        "BM25 OR baseline": baseline.search,
    }
    results: dict[str, Figures] = {}
    for name, search in systems.items():
        figures = results[name] = Figures()
        for query in judged:
            ranked = search(query.text)
            score(figures, query, ranked)
            if verbose and name == "policybot":
                value = ndcg_at(ranked, query.grades) if query.grades else float(not ranked)
                print(f"    {value:.2f}  {query.text!r:<45} -> {ranked}  want {query.grades}")
    empty = sum(1 for q in judged if not q.grades)
    print(
        f"{dialect}: {len(judged)} queries ({len(judged) - empty} with relevant "
        f"briefs, {empty} that should find nothing), {len(baseline.docs)} briefs"
    )
    for name, figures in results.items():
        print(figures.line(name))
        if figures.zero:
            print(f"    zero-result: {figures.zero}")
        if figures.false_hits:
            print(f"    false hits: {figures.false_hits}")
    ours, base = results["policybot"], results["BM25 OR baseline"]
    print(
        f"  policybot - baseline: {ours.mean_ndcg - base.mean_ndcg:+.3f} nDCG@5 "
        "(goals: nDCG@5 >= 0.85, +0.15 over the baseline, no zero-result, no false hit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--judgements",
        type=Path,
        action="append",
        help="default: judgements, questions and concepts",
    )
    parser.add_argument("--tracker", type=Path, action="append", help="tracker files to add")
    parser.add_argument("--postgres", help="also on PostgreSQL (a scratch database URL)")
    parser.add_argument("--verbose", action="store_true", help="each query's page")
    args = parser.parse_args()
    trackers = args.tracker or sorted((HERE / "trackers").glob("*.txt"))
    files = args.judgements or [
        HERE / "judgements.toml",
        HERE / "questions.toml",
        HERE / "concepts.toml",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        evaluate(f"sqlite:///{Path(tmp) / 'relevance.sqlite3'}", trackers, files, args.verbose)
    if args.postgres:
        evaluate(args.postgres, trackers, files, args.verbose)


if __name__ == "__main__":
    main()
