"""The search thesaurus (data/thesaurus.toml): names of one thing that find each other."""

from __future__ import annotations

import tomllib
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
    related: dict[Sequence_, dict[Sequence_, float]] = {}
    for group in tomllib.loads(raw).get("group", []):
        weight = float(group.get("weight", DEFAULT_WEIGHT))
        names = []
        for name in group.get("names", []):
            names.append(tuple(terms(str(name))))
            joined = joined_hyphen_term(str(name))  # "e-commerce" is also "ecommerce"
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


@cache
def thesaurus() -> Thesaurus:
    return parse(resources.files("policybot.data").joinpath("thesaurus.toml").read_text("utf-8"))
