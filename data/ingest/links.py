"""Give a news list's URL block to its items: an alignment by source label and domain.

Trackers print the items, then their links in the same order, one each; but a link may be
repeated, missing or extra. The alignment keeps the order and scores each pairing by how
well the URL's domain fits the item's source label (`(MIIT notice)` <-> miit.gov.cn,
`(Reuters)` <-> reuters.com, a government notice <-> gov.cn). Where the counts disagree,
only pairings the labels support, or that the neighbours pin down, are made; every other
link is returned as unplaced, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ..bodies import known_bodies
from ..sources import host_parts

# Sites of sources whose domain does not spell their name. (The State Council's gov.cn
# hosts every ministry's notices too, so it counts as any government source's domain.)
_SOURCE_DOMAINS = {
    "xinhua": "news.cn",
    "peoplesdaily": "people.com.cn",
    "southchinamorningpost": "scmp.com",
    "globaltimes": "globaltimes.cn",
    "chinadaily": "chinadaily.com.cn",
}
_NOTICE_WORDS = re.compile(
    r"\s+(?:notice|announcement|release|statement|press release|website|document)s?$", re.I
)
_STRONG, _GOVERNMENT, _CONFLICT = 3.0, 1.0, -2.0
_MISSING_LINK, _UNPLACED_LINK, _EXTRA_LINK = -2.0, -2.5, -1.5


@dataclass(frozen=True)
class LinkPlacement:
    links: list[list[str]]  # per item, in order
    unplaced: list[str]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


@cache
def _government_keys() -> frozenset[str]:
    keys = {"statecouncil", "government", "ministry", "commission", "administration"}
    for body in known_bodies():
        keys.add(_key(body.abbreviation))
        keys.add(_key(body.full_name))
    return frozenset(k for k in keys if k)


def source_key(label: str | None) -> str:
    """ "MIIT notice" -> "miit"; "Yicai Global" -> "yicaiglobal"."""
    return _key(_NOTICE_WORDS.sub("", label or ""))


def is_government(label: str | None) -> bool:
    if not label:
        return False
    if _NOTICE_WORDS.search(label):
        return True
    key = source_key(label)
    return key in _government_keys() or any(
        word in key for word in ("ministry", "commission", "council", "bureau")
    )


def _initials(label: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z]+", label)).lower()


def _strong_match(label: str | None, parts: list[str]) -> bool:
    key = source_key(label)
    if not key or not parts:
        return False
    host = ".".join(parts)
    known = _SOURCE_DOMAINS.get(key)
    if known is not None:
        return host == known or host.endswith("." + known)
    first = parts[0]
    if first == key or (len(key) >= 4 and first.startswith(key)):
        return True
    if len(first) >= 4 and key.startswith(first):
        return True
    initials = _initials(_NOTICE_WORDS.sub("", label or ""))
    return len(initials) >= 3 and first == initials


def affinity(
    label: str | None, url: str, others: Sequence[str | None], resolvable: bool = False
) -> float:
    """How well a URL fits an item with this source label (others: the block's labels;
    resolvable: the block holds a link of this label's own site)."""
    parts = host_parts(url)
    if _strong_match(label, parts):
        return _STRONG
    if any(
        _strong_match(other, parts) for other in others if source_key(other) != source_key(label)
    ):
        return _CONFLICT  # the link is another source's
    if resolvable and not is_government(label):
        return _CONFLICT  # this source's own links are in the block, and this is not one
    if is_government(label):
        if parts[-2:] == ["gov", "cn"]:
            return _GOVERNMENT
        return _CONFLICT if parts else 0.0
    if parts[-2:] == ["gov", "cn"] and label:
        return _CONFLICT  # a company or media item does not link to a ministry
    return 0.0


def place_links(labels: Sequence[str | None], urls: Sequence[str]) -> LinkPlacement:
    """Align `urls` to the items whose source labels are `labels`, keeping their order."""
    n, m = len(labels), len(urls)
    hosts = [host_parts(url) for url in urls]
    resolvable = [any(_strong_match(label, parts) for parts in hosts) for label in labels]
    score = [
        [affinity(labels[i], urls[j], labels, resolvable[i]) for j in range(m)] for i in range(n)
    ]
    neg = float("-inf")
    # best[i][j]: items < i and urls < j handled; step records how we got there.
    best = [[neg] * (m + 1) for _ in range(n + 1)]
    step: list[list[str]] = [[""] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0

    def relax(i: int, j: int, value: float, how: str) -> None:
        if value > best[i][j] + 1e-9:
            best[i][j], step[i][j] = value, how

    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == neg:
                continue
            if i < n and j < m:
                relax(i + 1, j + 1, here + 1.0 + score[i][j], "pair")
            if i < n:
                relax(i + 1, j, here + _MISSING_LINK, "nolink")
            if j < m:
                if j > 0 and urls[j] == urls[j - 1]:
                    relax(i, j + 1, here, "repeat")  # the same link again: nothing lost
                if i > 0 and score[i - 1][j] > 0:
                    relax(i, j + 1, here + _EXTRA_LINK + score[i - 1][j], "extra")
                relax(i, j + 1, here + _UNPLACED_LINK, "unplaced")
    moves: list[tuple[str, int, int]] = []
    i, j = n, m
    while i or j:
        how = step[i][j]
        moves.append((how, i, j))
        if how == "pair":
            i, j = i - 1, j - 1
        elif how == "nolink":
            i -= 1
        else:
            j -= 1
    moves.reverse()
    return _accept(moves, score, urls, n)


def _accept(
    moves: list[tuple[str, int, int]], score: list[list[float]], urls: Sequence[str], n: int
) -> LinkPlacement:
    """Keep the pairings the labels support; a pairing nothing supports stands only when
    no link is missing or unplaced between its supported neighbours (the order pins it)."""
    links: list[list[str]] = [[] for _ in range(n)]
    unplaced: list[str] = []
    segment: list[tuple[int, str]] = []  # unsupported pairings since the last supported one
    gap = False

    def close_segment() -> None:
        nonlocal gap
        for item, url in segment:
            if gap:
                unplaced.append(url)
            else:
                links[item].append(url)
        segment.clear()
        gap = False

    for how, i, j in moves:
        if how == "pair":
            item, url = i - 1, urls[j - 1]
            if score[item][j - 1] > 0:
                close_segment()
                links[item].append(url)
            else:
                segment.append((item, url))
        elif how == "extra":
            links[i - 1].append(urls[j - 1])
        elif how == "unplaced":
            unplaced.append(urls[j - 1])
            gap = True
        elif how == "nolink":
            gap = True
    close_segment()
    return LinkPlacement(
        [list(dict.fromkeys(item)) for item in links], list(dict.fromkeys(unplaced))
    )
