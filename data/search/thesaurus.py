"""The search thesaurus (data/thesaurus.toml): names of one thing that find each other."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .analysis import joined_hyphen_term, terms

DEFAULT_WEIGHT = 0.6
Sequence_ = tuple[str, ...]


@dataclass(frozen=True)
class Thesaurus:
    # analysed name -> the other analysed names of its groups, each with its weight
    related: dict[Sequence_, tuple[tuple[Sequence_, float], ...]]
    longest: int  # words in the longest name, for scanning free text

    def expansions(self, sequence: Sequence_) -> tuple[tuple[Sequence_, float], ...]:
        return self.related.get(sequence, ())


def parse(raw: str) -> Thesaurus:
    groups = [
        ([str(name) for name in group.get("names", [])], float(group.get("weight", DEFAULT_WEIGHT)))
        for group in tomllib.loads(raw).get("group", [])
    ]
    return build(groups)


def build(groups: Iterable[tuple[Sequence[str], float]]) -> Thesaurus:
    """Groups of names of one thing (each with its weight) -> the thesaurus they make."""
    related: dict[Sequence_, dict[Sequence_, float]] = {}
    for group_names, weight in groups:
        names: list[Sequence_] = []
        for written in group_names:
            names.append(tuple(terms(written)))
            joined = joined_hyphen_term(written)  # "e-commerce" is also "ecommerce"
            if joined is not None:
                names.append((joined,))
        names = [n for n in dict.fromkeys(names) if n]
        for name in names:
            others = related.setdefault(name, {})
            for other in names:
                if other != name:
                    others[other] = max(others.get(other, 0.0), weight)
    longest = max((len(n) for n in related), default=1)
    return Thesaurus({k: tuple(v.items()) for k, v in related.items()}, longest)


def merged(first: Thesaurus, second: Thesaurus) -> Thesaurus:
    """Both thesauri's expansions (a name in both keeps each other name once, at its
    higher weight)."""
    related: dict[Sequence_, dict[Sequence_, float]] = {}
    for source in (first, second):
        for name, others in source.related.items():
            kept = related.setdefault(name, {})
            for other, weight in others:
                kept[other] = max(kept.get(other, 0.0), weight)
    return Thesaurus(
        {k: tuple(v.items()) for k, v in related.items()}, max(first.longest, second.longest)
    )


@cache
def thesaurus() -> Thesaurus:
    return parse(resources.files("policybot.data").joinpath("thesaurus.toml").read_text("utf-8"))
