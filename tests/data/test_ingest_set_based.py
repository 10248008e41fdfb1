"""The set-based writer stores exactly what the per-brief ORM writer stores.

`IssueWriter(set_based=False)` writes every new brief as an ORM object graph, the way
updates are written; the default writes new briefs a statement per table. The same
sequence of files (first ingestion, edits that reword, insert and drop goals, move dates,
reorder bodies, add and duplicate briefs, an explicit --replace, --new and --archive) goes
through each, and every row the store holds after each file must agree: briefs, goals
(whose ids must follow the same goals across re-ingestion), bodies and their order,
aliases, links, provenance, search documents, vocabulary, and the summaries reported.

Ids are compared by what they name, since the two runs take them from the same sequences
(PostgreSQL's do not roll back): a brief is named by its identity when first stored, a goal
by its brief and position when first stored, a body by its abbreviation.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.corpus import generate_issue
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.writer import IssueWriter
from policybot.data.models import (
    BodyAlias,
    Brief,
    Goal,
    IssuingBody,
    SearchDocument,
    SearchState,
    SourceDocument,
    VocabularyTerm,
    brief_bodies,
)
from policybot.data.novelty import Novelty

DEMO = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "corpus"
    / ("china-industrial-policy-tracker-2024-11.txt")
)
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
_DATE = re.compile(r"^Date: (.+)$", re.M)
_GOAL = re.compile(r"^\uf0a1 .+$", re.M)
_BODIES = re.compile(r"^Issuing bodies: (.+)$", re.M)

Factory = sessionmaker[Session]
Rows = dict[str, list[dict[str, Any]]]


def _edited(text: str, seed: int) -> str:
    """The generated issue as a later, corrected copy: every few briefs a goal reworded,
    dropped or inserted, a date moved by a day, bodies reordered, a comment edited; one
    brief listed twice and a few briefs added."""
    rng = random.Random(seed)
    briefs = text.split("\n\nAt a glance:")
    out = []
    for index, brief in enumerate(briefs):
        goals = _GOAL.findall(brief)
        if index % 3 == 0 and goals:
            brief = brief.replace(goals[0], goals[0] + " and beyond", 1)
        if index % 5 == 1 and len(goals) > 1:
            brief = brief.replace(goals[-1] + "\n\n", "", 1)
        if index % 7 == 2:
            year = rng.randint(2026, 2040)
            new_goal = f"\uf0a1 By {year}, build {rng.randint(2, 9)} new pilot zones"
            brief = brief.replace(goals[0], f"{new_goal}\n\n{goals[0]}", 1) if goals else brief
        if index % 4 == 3:
            day = datetime.strptime(_DATE.search(brief)[1], "%B %d, %Y")  # type: ignore[index]
            moved = day + timedelta(days=1)
            brief = _DATE.sub(f"Date: {moved:%B} {moved.day}, {moved:%Y}", brief, count=1)
        if index % 6 == 4:
            bodies = _BODIES.search(brief)[1].split(", ")  # type: ignore[index]
            brief = _BODIES.sub(f"Issuing bodies: {', '.join(reversed(bodies))}", brief, count=1)
        if index % 11 == 5:
            brief = brief.replace("MERICS comment: ", "MERICS comment: On reflection, ", 1)
        out.append(brief)
    out.append(out[2])
    return "\n\nAt a glance:".join(out) + "\n\n" + generate_issue(3, seed=seed + 1)


def _steps() -> list[tuple[bytes, str, Novelty, bool, datetime]]:
    """(file, name, novelty, replace_facts, now) in the order they are ingested."""
    first = generate_issue(40, seed=11, start=NOW.date().replace(year=2026, month=9))
    other = generate_issue(25, seed=12)
    edited = _edited(first, seed=13)
    later = NOW + timedelta(days=2)
    return [
        (DEMO.read_bytes(), DEMO.name, Novelty.AUTO, False, NOW),
        (first.encode(), "issue-a.txt", Novelty.AUTO, False, NOW),
        (other.encode(), "issue-b.txt", Novelty.ARCHIVE, False, NOW),
        (first.encode(), "issue-a-again.txt", Novelty.AUTO, False, NOW),
        (edited.encode(), "issue-a-corrected.txt", Novelty.AUTO, False, later),
        (edited.encode(), "issue-a-corrected.txt", Novelty.NEW, True, later),
        (DEMO.read_bytes(), DEMO.name, Novelty.NEW, False, later),
        (other.encode(), "issue-b.txt", Novelty.NEW, False, later),
    ]


_TABLES: list[Table] = [
    SourceDocument.__table__,  # type: ignore[list-item]
    IssuingBody.__table__,  # type: ignore[list-item]
    BodyAlias.__table__,  # type: ignore[list-item]
    Brief.__table__,  # type: ignore[list-item]
    brief_bodies,
    Goal.__table__,  # type: ignore[list-item]
    SearchDocument.__table__,  # type: ignore[list-item]
    SearchState.__table__,  # type: ignore[list-item]
    VocabularyTerm.__table__,  # type: ignore[list-item]
]


def _rows(connection: Connection) -> Rows:
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in _TABLES
    }


class _Names:
    """Stable names for ids, given at first sight: a run's ids may differ, not its names."""

    def __init__(self) -> None:
        self.briefs: dict[int, str] = {}
        self.goals: dict[int, tuple[str, int]] = {}
        self.bodies: dict[int, str] = {}
        self.documents: dict[int, str] = {}

    def named(self, rows: Rows) -> dict[str, Any]:
        for row in sorted(rows["briefs"], key=lambda r: r["id"]):
            self.briefs.setdefault(row["id"], row["identity"])
        for row in sorted(rows["goals"], key=lambda r: r["id"]):
            self.goals.setdefault(row["id"], (self.briefs[row["brief_id"]], row["position"]))
        for row in rows["issuing_bodies"]:
            self.bodies.setdefault(row["id"], row["abbreviation"])
        for row in rows["source_documents"]:
            self.documents.setdefault(row["id"], row["content_hash"])

        def body_list(ids: str) -> list[str]:
            return sorted(self.bodies[int(i)] for i in ids.split())

        replaced: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "source_documents": lambda r: {**r, "id": self.documents[r["id"]]},
            "issuing_bodies": lambda r: {**r, "id": self.bodies[r["id"]]},
            "body_aliases": lambda r: {**r, "id": None, "body_id": self.bodies[r["body_id"]]},
            "briefs": lambda r: {
                **r,
                "id": self.briefs[r["id"]],
                "source_document_id": self.documents.get(r["source_document_id"]),
            },
            "brief_bodies": lambda r: {
                **r,
                "brief_id": self.briefs[r["brief_id"]],
                "body_id": self.bodies[r["body_id"]],
            },
            "goals": lambda r: {
                **r,
                "id": self.goals[r["id"]],
                "brief_id": self.briefs[r["brief_id"]],
            },
            "search_documents": lambda r: {
                **r,
                "brief_id": self.briefs[r["brief_id"]],
                "body_ids": body_list(r["body_ids"]),
            },
            "search_state": lambda r: {**r, "index_id": None},
        }
        return {
            name: sorted(
                (replaced.get(name, dict)(row) for row in table_rows),
                key=lambda r: repr(sorted(r.items())),
            )
            for name, table_rows in rows.items()
        }


_REF = re.compile(r"\b([bg])(\d+)\b")


def _named_summary(summary: dict[str, Any], names: _Names) -> dict[str, Any]:
    """The summary with the refs its messages quote ("b12", "g40") named."""

    def name(match: re.Match[str]) -> str:
        known: dict[int, Any] = names.briefs if match[1] == "b" else names.goals
        return repr(known.get(int(match[2]), match[0]))

    return {
        key: [_REF.sub(name, line) for line in value] if isinstance(value, list) else value
        for key, value in summary.items()
    }


def _ingest_all(factory: Factory, connection: Connection, set_based: bool) -> list[Any]:
    """Each step's summary and the store after it, ids named."""
    names = _Names()
    states = []
    for raw, source, novelty, replace_facts, now in _steps():
        with factory() as session, session.begin():
            summary = IssueWriter(session, now, set_based).write(
                parse_bytes(raw, source), hashlib.sha256(raw).hexdigest(), novelty, replace_facts
            )
        rows = names.named(_rows(connection))
        states.append((_named_summary(asdict(summary), names), rows))
    return states


def test_set_based_ingestion_stores_what_the_orm_writer_stores(
    factory: Factory, connection: Connection
) -> None:
    reference_run = connection.begin_nested()
    reference = _ingest_all(factory, connection, set_based=False)
    reference_run.rollback()
    assert not _rows(connection)["briefs"]  # the second run starts from the same store

    fast = _ingest_all(factory, connection, set_based=True)

    for step, ((want_summary, want), (got_summary, got)) in enumerate(
        zip(reference, fast, strict=True)
    ):
        assert got_summary == want_summary, f"step {step}"
        for table in want:
            assert got[table] == want[table], f"step {step}: {table}"
    # The sequence exercises what it means to: updates, kept and removed facts, moved
    # dates, marks, duplicates, goals that keep their ids through an edit.
    summaries = [summary for summary, _ in fast]
    assert summaries[1]["added"] == 40 and summaries[3]["unchanged"] == 40
    corrected, replaced = summaries[4], summaries[5]
    assert corrected["updated"] and corrected["added"] == 3 and corrected["kept"]
    assert any("taken as an update" in w for w in corrected["warnings"])
    assert replaced["removed"] and replaced["marked_new"] == 0
    assert summaries[2]["added_archive"] == 25 and summaries[7]["marked_new"] == 25
    _, after_first = fast[1]
    _, after_edit = fast[4]
    goal_ids_before = {g["id"] for g in after_first["goals"]}
    goal_ids_after = {g["id"] for g in after_edit["goals"]}
    assert goal_ids_before <= goal_ids_after  # kept: none lost (step 4 keeps removals)
    _, after_replace = fast[5]
    assert not goal_ids_before <= {g["id"] for g in after_replace["goals"]}
