"""Generate tracker issues from the demo corpus's vocabulary, for benchmarks."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from importlib import resources

BODIES = ["MIIT", "NDRC", "MOF", "NDB", "SAMR", "MOFCOM", "MOST", "NEA", "CAC", "MEE"]
CJK_WORDS = ["储能", "电池", "工业", "智能", "制造", "数据", "材料", "标准", "绿色", "技术", "发展", "行动"]


def demo_words() -> list[str]:
    text = resources.files("data").joinpath("corpus", "china-industrial-policy-tracker-2024-11.txt").read_text("utf-8")
    words = re.findall(r"[A-Za-z][a-z]{3,}", text)
    return sorted(set(w.lower() for w in words))


def _sentence(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."


def generate_issue(count: int, seed: int, start: date = date(2020, 1, 1)) -> str:
    """One tracker issue text holding `count` policy briefs (unique titles)."""
    rng = random.Random(seed)
    words = demo_words()
    parts = []
    for i in range(count):
        published = start + timedelta(days=rng.randrange(0, 2500))
        title = " ".join(rng.choice(words).capitalize() for _ in range(rng.randint(5, 10)))
        original = "关于" + "".join(rng.choice(CJK_WORDS) for _ in range(4)) + f"{seed}-{i}的通知"
        bodies = ", ".join(rng.sample(BODIES, rng.randint(1, 3)))
        goals = "\n\n".join(
            f"\uf0a1 By {rng.randint(2025, 2035)}, {_sentence(rng, words, 10)[:-1]}" for _ in range(rng.randint(1, 3))
        )
        parts.append(
            f"At a glance: {_sentence(rng, words, 25)} {_sentence(rng, words, 20)} Key goals include:\n\n"
            f"{goals}\n\n"
            f"MERICS comment: {_sentence(rng, words, 40)} {_sentence(rng, words, 30)}\n\n"
            f"Article: {title} ({original}) (Link)\n\n"
            f"Issuing bodies: {bodies}\n\n"
            f"Date: {published.strftime('%B %-d, %Y')}\n\n"
            f"https://example.org/{seed}/{i}\n"
        )
    return "\n\n".join(parts)
