"""Layout variants of the demo tracker, each with what a correct parse must give.

Every drift that real issues of the newsletter family show is composed here from the demo
file, alone and in combination: other title, body and comment labels, other date forms,
ISO-dated news, a December issue announcing January dates, running page footers, words
hyphenated across lines, Chinese and half-year deadline wording, a PDF. The expected
records are the demo file's parse (checked field by field against the file in
test_parser.py) with each variant's intended edits applied, so a fact counts as right only
when it is exactly what the variant says. Used by tests/data/test_intake_variants.py and
`python -m benchmarks.intake`.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from policybot.data.ingest.deadlines import Deadline, Precision
from policybot.data.ingest.parser import parse_bytes, parse_file
from policybot.data.ingest.records import BriefRecord, GoalRecord, IssueRecord
from tests.data.tracker_pdf import tracker_pdf

DEMO = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "corpus"
    / ("china-industrial-policy-tracker-2024-11.txt")
)
BULLET = "\uf0a1"
Edit = Callable[[list[BriefRecord]], None]


@dataclass
class Variant:
    name: str
    text: str
    edits: list[Edit]
    source: str = DEMO.name
    as_pdf: bool = False


def _replace_nth(text: str, old: str, new: str, nth: int) -> str:
    index = -1
    for _ in range(nth + 1):
        index = text.index(old, index + 1)
    return text[:index] + new + text[index + len(old) :]


# -- drifts: each returns the new text and the edits to the expected records -----------
def policy_name_label(text: str) -> tuple[str, list[Edit]]:
    text = _replace_nth(text, "Article: ", "Policy name: ", 1)
    text = _replace_nth(text, "Article: ", "Title: ", 1)
    return _replace_nth(text, "Article: ", "Document: ", 1), []


def body_labels(text: str) -> tuple[str, list[Edit]]:
    text = text.replace("Issuing bodies: MIIT, MOF", "Issuing body/bodies: MIIT, MOF", 1)
    text = _replace_nth(text, "Issuing body: MIIT", "Issued by: MIIT", 0)
    return _replace_nth(text, "Issuing body: MIIT", "Issuing authority: MIIT", 0), []


def comment_labels(text: str) -> tuple[str, list[Edit]]:
    text = _replace_nth(text, "MERICS comment:", "MERICS analysis:", 1)
    text = _replace_nth(text, "MERICS comment:", "Comment:", 2)

    def anonymous(briefs: list[BriefRecord]) -> None:
        briefs[3].comment_author = None  # "Comment:" names no one

    return text, [anonymous]


def date_forms(text: str) -> tuple[str, list[Edit]]:
    forms = {
        "October 30, 2024": "30 October 2024",
        "November 6, 2024": "Nov. 6, 2024",
        "October 28, 2024": "2024-10-28",
        "November 11, 2024": "2024年11月11日",
    }
    for old, new in forms.items():
        text = text.replace(f"Date: {old}", f"Date: {new}", 1)
    return text, []


def iso_news_dates(text: str) -> tuple[str, list[Edit]]:
    months = {"October": 10, "November": 11}

    def iso(match: re.Match[str]) -> str:
        return f"{BULLET} 2024-{months[match[1]]:02d}-{int(match[2]):02d}: "

    return re.sub(rf"{BULLET} (October|November) (\d\d?): ", iso, text), []


def december_issue(text: str) -> tuple[str, list[Edit]]:
    """A December issue whose last item announces a January date: next January."""
    text = "China Industrial Policy Tracker | December 2024\n\n" + text
    text = re.sub(
        rf"{BULLET} (?:November 21|2024-11-21): China surpassed",
        f"{BULLET} January 13: China surpassed",
        text,
    )

    def next_january(briefs: list[BriefRecord]) -> None:
        briefs[-1].published_on = date(2025, 1, 13)

    return text, [next_january]


def running_footers(text: str) -> tuple[str, list[Edit]]:
    """A footer and a page number every 37 lines, wherever they fall (titles included)."""
    out, filled, page = [], 0, 1
    for line in text.splitlines():
        out.append(line)
        if line.strip():
            filled += 1
            if filled % 37 == 0:
                out += ["", f"China Industrial Policy Tracker | {page}", "", str(page), ""]
                page += 1
    return "\n".join(out) + "\n", []


_SPLITTABLE = re.compile(r"^([a-z]{4,})([a-z]{3,})(\b.*)$")


def hyphenated_breaks(text: str) -> tuple[str, list[Edit]]:
    """Every fifth wrapped prose line ends in a word the layout broke with a hyphen."""
    lines = text.splitlines()
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for count, (here, there) in enumerate(zip(filled, filled[1:], strict=False)):
        following = lines[there].lstrip()
        match = _SPLITTABLE.match(following)
        current = lines[here].rstrip()
        if count % 5 or match is None or "://" in current or current.endswith((":", "-")):
            continue
        if re.match(r"^\s*(?:https?://|\S+:)", lines[there]):
            continue
        lines[here] = current + " " + match[1] + "- "
        lines[there] = match[2] + match[3]
    return "\n".join(lines) + "\n", []


def deadline_wording(text: str) -> tuple[str, list[Edit]]:
    text = text.replace(
        "battery industry standards system. By 2027, over 100 new national industry ",
        "battery industry standards system. In the first half of 2027, over 100 new national ",
    ).replace(
        "standards and ten international standards",
        "industry standards and ten international standards",
        1,
    )
    text = text.replace(
        "By 2035, the new materials big data center system will be fully operational,",
        "到2035年，the new materials big data center system will be fully operational,",
    )

    def expected(briefs: list[BriefRecord]) -> None:
        lithium = next(b for b in briefs if b.summary.startswith("The MIIT released guidelines"))
        lithium.summary = lithium.summary.replace(
            "By 2027, over", "In the first half of 2027, over"
        )
        goal = lithium.goals[0]
        lithium.goals = [
            GoalRecord(
                goal.text.replace("By 2027, over", "In the first half of 2027, over"),
                Deadline(date(2027, 6, 30), Precision.MONTH),
                goal.kind,
            )
        ]
        first = briefs[0]
        goal = first.goals[1]
        first.goals[1] = GoalRecord(
            goal.text.replace("By 2035, the", "到2035年，the"),
            Deadline(date(2035, 12, 31), Precision.YEAR),
            goal.kind,
        )

    return text, [expected]


DRIFTS: dict[str, Callable[[str], tuple[str, list[Edit]]]] = {
    "policy name / title / document labels": policy_name_label,
    "body labels": body_labels,
    "comment labels": comment_labels,
    "date forms": date_forms,
    "ISO news dates": iso_news_dates,
    "December issue, January news": december_issue,
    "running footers": running_footers,
    "hyphenated line breaks": hyphenated_breaks,
    "deadline wording": deadline_wording,
}
COMBINATIONS: dict[str, list[str]] = {
    "labels + dates + ISO news": [
        "policy name / title / document labels",
        "body labels",
        "comment labels",
        "date forms",
        "ISO news dates",
    ],
    "footers + hyphenation + December": [
        "running footers",
        "hyphenated line breaks",
        "December issue, January news",
    ],
    "everything": list(DRIFTS),
}


_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]  # fmt: skip


def _wrapped(text: str, width: int, first: str = "") -> list[str]:
    """Lines of a paragraph as a layout of `width` characters sets them."""
    return textwrap.wrap(first + text, width, break_long_words=False, break_on_hyphens=False)


def _paragraphs(label: str, text: str, width: int) -> list[str]:
    out: list[str] = []
    for index, paragraph in enumerate(text.split("\n\n")):
        lines = _wrapped(paragraph, width, label if index == 0 else "")
        lines[-1] += "  "  # a paragraph's end, as pdftotext marks it
        out += lines + [""]
    return out


def reflowed(width: int) -> str:
    """The demo issue laid out anew from its records: every section wrapped at `width`,
    single-spaced with blank lines between paragraphs, sections in the demo's order."""
    issue = parse_file(DEMO)
    out: list[str] = []
    for brief in issue.policy_briefs:
        out += _paragraphs("At a glance: ", brief.summary, width)
        for goal in brief.goals:
            out += _wrapped(goal.text, width - 2, "\u2022 ")
        out.append("")
        if brief.comment:
            out += _paragraphs(f"{brief.comment_author} comment: ", brief.comment, width)
        title = f"{brief.title} ({brief.title_original}) (Link)"
        out += _wrapped(title, width, "Article: ")
        bodies = ", ".join(brief.bodies) + (" etc." if brief.bodies_more else "")
        label = "Issuing bodies: " if len(brief.bodies) > 1 else "Issuing body: "
        out.append(label + bodies)
        day = brief.published_on
        assert day is not None
        out += [f"Date: {_MONTH_NAMES[day.month - 1]} {day.day}, {day.year}", ""]
        out += brief.links + [""]
    runs: list[list[BriefRecord]] = []
    for item in issue.news:
        if not runs or (runs[-1][-1].source_label or "").endswith(("notice", "Notice")) != (
            item.source_label or ""
        ).endswith(("notice", "Notice")):
            runs.append([])
        runs[-1].append(item)
    for run in runs:
        for item in run:
            day = item.published_on
            assert day is not None
            text = f"{_MONTH_NAMES[day.month - 1]} {day.day}: {item.summary} ({item.source_label})"
            out += _wrapped(text, width - 2, "\u2022 ")
        out.append("")
        out += [link for item in run for link in item.links] + [""]
    return "\n".join(out) + "\n"


def variants() -> list[Variant]:
    demo = DEMO.read_text(encoding="utf-8")
    out: list[Variant] = []
    recipes = {name: [name] for name in DRIFTS} | COMBINATIONS
    for name, drifts in recipes.items():
        text, edits = demo, []
        for drift in drifts:
            text, more = DRIFTS[drift](text)
            edits += more
        out.append(Variant(name, text, edits))
    out.append(Variant("PDF", demo, [], DEMO.with_suffix(".pdf").name, as_pdf=True))
    hyphenated, _ = hyphenated_breaks(demo)
    out.append(Variant("PDF, hyphenated", hyphenated, [], DEMO.with_suffix(".pdf").name, True))
    for width in (64, 110):
        out.append(Variant(f"re-flowed at {width} columns", reflowed(width), []))
    out.append(
        Variant("PDF, re-flowed at 80", reflowed(80), [], DEMO.with_suffix(".pdf").name, True)
    )
    return out


def expected_briefs(variant: Variant) -> list[BriefRecord]:
    briefs = [dataclasses.replace(b, goals=list(b.goals)) for b in parse_file(DEMO).briefs]
    for edit in variant.edits:
        edit(briefs)
    return briefs


def parse_variant(variant: Variant) -> IssueRecord:
    raw = tracker_pdf(variant.text) if variant.as_pdf else variant.text.encode("utf-8")
    return parse_bytes(raw, variant.source)


def facts(brief: BriefRecord) -> dict[str, object]:
    """The facts a brief states, each compared whole. Paragraph breaks are layout."""
    found: dict[str, object] = {
        "kind": brief.kind,
        "title": brief.title,
        "title_original": brief.title_original,
        "bodies": (brief.bodies, brief.bodies_more),
        "published_on": brief.published_on,
        "summary": " ".join(brief.summary.split()),
        "comment": " ".join(brief.comment.split()),
        "comment_author": brief.comment_author,
        "links": brief.links,
        "source_label": brief.source_label,
        "goal count": len(brief.goals),
    }
    for index, goal in enumerate(brief.goals):
        deadline = goal.deadline
        found[f"goal {index}"] = (
            goal.text,
            (deadline.due_on, deadline.precision, deadline.window_start) if deadline else None,
            goal.kind,
        )
    return found


def score(variant: Variant) -> tuple[int, int, list[str]]:
    """(facts right, facts stated, what differs) for one variant."""
    expected = expected_briefs(variant)
    try:
        got = parse_variant(variant).briefs
    except ValueError as error:
        total = sum(len(facts(b)) for b in expected)
        return 0, total, [f"refused: {error}"]
    right, total, misses = 0, 0, []
    for index, want in enumerate(expected):
        have = facts(got[index]) if index < len(got) else {}
        for name, value in facts(want).items():
            total += 1
            if have.get(name) == value:
                right += 1
            else:
                misses.append(f"brief {index} {name}: {have.get(name)!r:.80} != {value!r:.80}")
    return right, total, misses
