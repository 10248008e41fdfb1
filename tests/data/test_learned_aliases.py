"""Concepts, not only words: aliases the briefs define on first use are learned at
ingestion and found by the same expansion as the thesaurus; junk in parentheses is not an
alias; related words are offered only as suggestions. Both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data import briefs as brief_store
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import LearnedAlias
from policybot.data.novelty import Novelty
from policybot.data.query.meaning import meaning_of
from policybot.data.search.aliases import MAX_MEANINGS, definitions, learn_aliases
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from tests.conftest import DEMO_CORPUS, NOW

TODAY = NOW.date()
TRACKERS = Path(__file__).resolve().parents[2] / "benchmarks" / "relevance" / "trackers"


@pytest.mark.parametrize(
    ("text", "short", "long"),
    [
        (
            "the new materials big data system (NMBDS) will",
            "NMBDS",
            "new materials big data system",
        ),
        ("工业和信息化部（MIIT）发布", "MIIT", "工业和信息化部"),
        ("工业和信息化部 (MIIT) 发布", "MIIT", "工业和信息化部"),
        (
            "The Ministry of Industry and Information Technology (MIIT) said",
            "MIIT",
            "Ministry of Industry and Information Technology",
        ),
        ("new energy vehicles (NEVs) sold", "NEVs", "new energy vehicles"),
        ("research and development (R&D) spending", "R&D", "research and development"),
        ("mechanisms such as the Belt and Road (一带一路) plan", "一带一路", "Belt and Road"),
        ("the average power usage effectiveness (PUE) of", "PUE", "power usage effectiveness"),
    ],
)
def test_a_term_defined_in_parentheses_is_an_alias(text: str, short: str, long: str) -> None:
    assert [(d.short, d.long) for d in definitions(text)] == [(short, long)]


@pytest.mark.parametrize(
    "text",
    [
        "the plan for 2024 (2024) is",  # a year
        "about 30 nodes (30+) and",  # a number
        "see the annex (see below) for",  # words, not a term
        "helping manufacturing. (SCMP)",  # a source after a full stop
        "the second phase (II) of",  # a roman numeral
        "strong growth (GDP) in exports",  # letters that do not spell the words before
        "a plan (Pa) with",  # one capital: not an acronym
        "policies (it) and",  # a stopword
        "它是我们今天已经正式发布的非常重要的一个新的国家计划（NP）",  # a whole Chinese sentence
    ],
)
def test_junk_in_parentheses_is_not_an_alias(text: str) -> None:
    assert definitions(text) == []


def _variant_corpus() -> bytes:
    """The demo tracker, where one brief defines a term and another uses only its short
    form (and a third only the long form)."""
    text = DEMO_CORPUS.read_text("utf-8")
    defining = "prevention and control of soil pollution."
    short_only = 'Courses", an SME talent training program'
    assert defining in text and short_only in text
    text = text.replace(
        defining, "prevention and control of soil pollution under the quiet zinc registry (QZR)."
    )
    text = text.replace(short_only, 'Courses", an SME talent training program run with the QZR')
    return text.encode("utf-8")


def _briefs_for(session: Session, text: str) -> set[int]:
    return set(brief_store.matching_ids(session, meaning_of(session, text, TODAY).where))


def test_an_alias_learned_at_ingestion_finds_briefs_that_use_either_name(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        before = _briefs_for(session, "quiet zinc registry")
        assert before == set()  # nothing says it yet
        ingest_bytes(session, _variant_corpus(), "variant.txt", NOW, Novelty.NEW)
    with factory() as session:
        learned = set(session.execute(select(LearnedAlias.short_form, LearnedAlias.long_form)))
        assert ("QZR", "quiet zinc registry") in learned
        by_long = _briefs_for(session, "quiet zinc registry")
        by_short = _briefs_for(session, "QZR")
        # The brief that names only "QZR" is found by the long form, and both by the short.
        assert len(by_long) == 2 and by_long == by_short


def test_the_demo_teaches_its_abbreviations_and_no_junk(
    factory: sessionmaker[Session], corpus: None
) -> None:
    with factory() as session:
        rows = session.execute(select(LearnedAlias.short_form, LearnedAlias.long_form))
        learned = {short: long for short, long in rows}
    assert learned["BRI"] == "Belt and Road Initiative"
    assert learned["MIIT"] == "Ministry of Industry and Information Technology"
    assert "SCMP" not in learned  # a source tag after a full stop
    assert all(not short.isdigit() for short in learned)


def test_ingesting_again_learns_nothing_twice(factory: sessionmaker[Session], corpus: None) -> None:
    with factory() as session:
        count = len(session.scalars(select(LearnedAlias.id)).all())
    with factory() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW + timedelta(days=1))
    with factory() as session:
        assert len(session.scalars(select(LearnedAlias.id)).all()) == count > 0


def test_a_short_form_defined_many_ways_expands_to_none(
    factory: sessionmaker[Session], corpus: None
) -> None:
    meanings = ["quick quality audit", "quarterly quota allowance", "quiet quarter act"]
    meanings += ["quantum query accelerator"]
    assert len(meanings) == MAX_MEANINGS + 1
    with factory() as session, session.begin():
        alone = meaning_of(session, "QQA", TODAY).where
        learn_aliases(session, [f"the {m} (QQA) of" for m in meanings[:MAX_MEANINGS]])
        assert meaning_of(session, "QQA", TODAY).where != alone
        # One meaning more: a name defined in that many ways names no one thing.
        learn_aliases(session, [f"the {meanings[-1]} (QQA) of"])
        assert meaning_of(session, "QQA", TODAY).where == alone


def test_related_words_are_offered_when_a_search_finds_little(
    factory: sessionmaker[Session], corpus: None
) -> None:
    with factory() as session, session.begin():
        for tracker in sorted(TRACKERS.glob("*.txt")):  # the benchmark's corpus: more briefs
            ingest_bytes(session, tracker.read_bytes(), tracker.name, NOW, Novelty.NEW)
    runner = CommandRunner(factory)
    few = runner.run("/policy stem cell", Context(now=NOW))
    with factory() as session:
        where = meaning_of(session, "stem cell", TODAY).where
        expected = [f"b{i}" for i in brief_store.search(session, where, 5, load=False).ids]
    assert 0 < len(expected) < 3
    assert [b.ref for b in few.briefs] == expected  # the answer is what the filter finds
    related = [n for n in few.notes if n.startswith("Related: ")]
    assert related and "`stem`" not in related[0] and "`cell`" not in related[0]
    many = runner.run("/policy data", Context(now=NOW))
    assert len(many.briefs) >= 3 and not any(n.startswith("Related: ") for n in many.notes)
