"""Generate tracker issues from the demo corpus's vocabulary, for benchmarks.

Words are drawn with the frequencies they have in the demo corpus (a real tracker issue), so,
as in any real text (Zipf's law), a few words are in most briefs (`china`, `energy`,
`manufacturing`: 80-90% of them) and most words in a few percent (a word seen once in the
demo corpus ends up in ~7% of the briefs). `uniform=True` draws every word equally often
instead, as the first version of this generator did: then every word is in 15-40% of the
briefs, which no real corpus does, but it is a harder case for ranking and stays available
for comparison.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from itertools import accumulate

from policybot.data.search.analysis import STOPWORDS

BODIES = ["MIIT", "NDRC", "MOF", "NDB", "SAMR", "MOFCOM", "MOST", "NEA", "CAC", "MEE"]
CJK_WORDS = [
    "储能",
    "电池",
    "工业",
    "智能",
    "制造",
    "数据",
    "材料",
    "标准",
    "绿色",
    "技术",
    "发展",
    "行动",
]


@lru_cache(maxsize=1)
def _demo_counts() -> Counter[str]:
    text = (
        resources.files("policybot.data")
        .joinpath("corpus", "china-industrial-policy-tracker-2024-11.txt")
        .read_text("utf-8")
    )
    return Counter(w.lower() for w in re.findall(r"[A-Za-z][a-z]{3,}", text))


def demo_words() -> list[str]:
    return sorted(_demo_counts())


def query_words() -> list[str]:
    """Words to search for: the demo vocabulary's words of five letters or more, but for
    stopwords (`their`)."""
    return [w for w in demo_words() if len(w) > 4 and w not in STOPWORDS]


class WordSource:
    """Draws words from the demo vocabulary, by their demo-corpus frequency or uniformly."""

    def __init__(self, rng: random.Random, uniform: bool = False) -> None:
        self.rng = rng
        self.words = demo_words()
        counts = _demo_counts()
        self.cumulative = None if uniform else list(accumulate(counts[w] for w in self.words))

    def draw(self, n: int) -> list[str]:
        if self.cumulative is None:
            return [self.rng.choice(self.words) for _ in range(n)]
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=n)


def _sentence(words: WordSource, n: int) -> str:
    return " ".join(words.draw(n)).capitalize() + "."


def generate_issue(
    count: int, seed: int, start: date = date(2020, 1, 1), *, uniform: bool = False
) -> str:
    """One tracker issue text holding `count` policy briefs (unique titles)."""
    rng = random.Random(seed)
    words = WordSource(rng, uniform)
    parts = []
    for i in range(count):
        published = start + timedelta(days=rng.randrange(0, 2500))
        title = " ".join(w.capitalize() for w in words.draw(rng.randint(5, 10)))
        original = "关于" + "".join(rng.choice(CJK_WORDS) for _ in range(4)) + f"{seed}-{i}的通知"
        bodies = ", ".join(rng.sample(BODIES, rng.randint(1, 3)))
        goals = "\n\n".join(
            f"\uf0a1 By {rng.randint(2025, 2035)}, {_sentence(words, 10)[:-1]}"
            for _ in range(rng.randint(1, 3))
        )
        parts.append(
            f"At a glance: {_sentence(words, 25)} {_sentence(words, 20)} Key goals include:\n\n"
            f"{goals}\n\n"
            f"MERICS comment: {_sentence(words, 40)} {_sentence(words, 30)}\n\n"
            f"Article: {title} ({original}) (Link)\n\n"
            f"Issuing bodies: {bodies}\n\n"
            f"Date: {published.strftime('%B %-d, %Y')}\n\n"
            f"https://example.org/{seed}/{i}\n"
        )
    return "\n\n".join(parts)
