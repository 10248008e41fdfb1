"""What a brief shows when each sentence is to be read once.

Tracker news items are often one sentence that is the title, the summary and the goal at
once; a `show` that prints every field prints that sentence three or four times. Both
renderers (Block Kit and text) draw a brief through these functions, so they drop the same
repeats: a summary sentence already in the title or in a goal, and a goal text that is the
title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data.ingest.sentences import sentences
from ..data.views import BriefView, DeadlineView, GoalView

_NOT_WORD = re.compile(r"[\W_]+")
SAME_AS_TITLE = "the target in the title"


def _key(text: str) -> str:
    """Sentences compare without case, spacing or punctuation."""
    return _NOT_WORD.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class GoalLine:
    goal: GoalView
    text: str  # the goal's text, or SAME_AS_TITLE when it repeats the title


@dataclass(frozen=True)
class BriefParts:
    """One brief's fields with the repeats taken out."""

    summary: str  # paragraphs joined by blank lines; "" when nothing new is left
    goals: tuple[GoalLine, ...]


def _new_sentences(paragraph: str, seen: set[str]) -> str:
    kept = []
    for sentence in sentences(paragraph):
        key = _key(sentence)
        if key and key not in seen:
            kept.append(sentence)
            seen.add(key)
    return " ".join(kept)


def brief_parts(brief: BriefView) -> BriefParts:
    title = _key(brief.title)
    goals = tuple(
        GoalLine(goal, SAME_AS_TITLE if _key(goal.text) == title else goal.text)
        for goal in brief.goals
    )
    # The summary keeps what neither the title nor a goal already says.
    seen = {title} | {_key(s) for goal in brief.goals for s in sentences(goal.text)}
    paragraphs = [_new_sentences(p, seen) for p in brief.summary.split("\n\n")]
    return BriefParts("\n\n".join(p for p in paragraphs if p), goals)


def snippet_source(brief: BriefView) -> str:
    """The summary's first paragraph without the sentences that repeat the title."""
    first = brief.summary.split("\n\n")[0]
    return _new_sentences(first, {_key(brief.title)})


def title_repeats_goal(item: DeadlineView) -> bool:
    """A deadline shows the goal's text; the brief's title is left out when it says the same."""
    return _key(item.goal.text) == _key(item.brief.title)


def headline_repeats_detail(text: str, detail: BriefView | None) -> bool:
    """`show` answers "b8: <title>"; above the brief itself that line is said again."""
    return detail is not None and _key(detail.title) in _key(text)
