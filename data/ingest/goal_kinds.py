"""Whose target a goal is: a government's, or a company's plan that a news item reports.

Policy briefs state government targets. A news item's targets are a company's own when the
item comes from the press rather than a government notice and its subject is not a
government body ("Airbus announced it will open a line by 2026", Reuters), and a
government's when a body speaks ("The MIIT released guidelines ... By 2027 ...").
"""

from __future__ import annotations

import re
from functools import cache

from ..bodies import known_bodies
from ..models import GoalKind
from .links import is_government

_GOVERNMENT_WORDS = re.compile(
    r"\b(?:ministry|ministries|commission|administration|state council|bureau|government|"
    r"council|regulators?|authorit(?:y|ies)|department|people's bank|pboc|npc|congress|"
    r"politburo|party|beijing|province|provincial|municipal|city of)\b",
    re.I,
)
_SUBJECT_WORDS = 8  # how far into an item its subject is looked for


@cache
def _body_names() -> re.Pattern[str]:
    names = {n for body in known_bodies() for n in (body.abbreviation, body.full_name) if n}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b")


def news_goal_kind(label: str | None, text: str) -> GoalKind:
    if is_government(label):
        return GoalKind.POLICY
    subject = " ".join(text.split()[:_SUBJECT_WORDS])
    if _body_names().search(subject) or _GOVERNMENT_WORDS.search(subject):
        return GoalKind.POLICY
    return GoalKind.COMPANY
