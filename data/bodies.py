"""Issuing bodies and their aliases: one body, many names ("MIIT", "工信部", the full name)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import BodyAlias, IssuingBody

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
# "The Ministry of Finance (MOF)" in brief text teaches us MOF's full name.
_FULL_NAME_PAIR = re.compile(
    r"\b((?:the\s+)?[A-Z][A-Za-z,'\u2019-]*(?:\s+(?:of|for|and|the|on|[A-Z][A-Za-z,'\u2019-]*)){1,12})"
    r"\s+\(([A-Z][A-Za-z]{1,9})\)"
)


def normalize_name(name: str) -> str:
    """Case, width, punctuation and a leading "the" do not distinguish two names."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = re.sub(r"^the\s+", "", text)
    return _NOT_WORD.sub("", text)


@dataclass(frozen=True)
class KnownBody:
    abbreviation: str
    full_name: str
    aliases: tuple[str, ...]

    def names(self) -> tuple[str, ...]:
        return (self.abbreviation, self.full_name, *self.aliases)


@cache
def known_bodies() -> tuple[KnownBody, ...]:
    raw = resources.files("data").joinpath("bodies.toml").read_text(encoding="utf-8")
    return tuple(
        KnownBody(entry["abbreviation"], entry.get("full_name", ""), tuple(entry.get("aliases", ())))
        for entry in tomllib.loads(raw)["body"]
    )


def full_names_in(text: str) -> dict[str, str]:
    """{"MOF": "Ministry of Finance"} from "... the Ministry of Finance (MOF) ..."."""
    found: dict[str, str] = {}
    for match in _FULL_NAME_PAIR.finditer(text):
        name, abbreviation = match.group(1), match.group(2)
        name = re.sub(r"^(?:the|The)\s+", "", name).strip(" ,")
        initials = "".join(w[0] for w in name.split() if w[0].isupper())
        # Accept only a plausible expansion: the abbreviation's letters open its words.
        if abbreviation[0].upper() == initials[:1] and len(name.split()) >= 2:
            found.setdefault(abbreviation, name)
    return found


class BodyRegistry:
    """Finds or creates issuing bodies by any of their names, within one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_alias: dict[str, IssuingBody] = {}

    def load(self) -> None:
        rows = self.session.execute(select(BodyAlias.normalized, IssuingBody).join(BodyAlias.body))
        self._by_alias = {normalized: body for normalized, body in rows}

    def ensure_known(self) -> None:
        """Store the bundled bodies and aliases that the database does not have yet."""
        self.load()
        for known in known_bodies():
            body = self._by_alias.get(normalize_name(known.abbreviation))
            if body is None:
                body = IssuingBody(abbreviation=known.abbreviation, full_name=known.full_name)
                self.session.add(body)
            elif not body.full_name:
                body.full_name = known.full_name
            for name in known.names():
                self._add_alias(body, name)
        self.session.flush()

    def find(self, name: str) -> IssuingBody | None:
        return self._by_alias.get(normalize_name(name))

    def resolve(self, name: str, full_names: dict[str, str]) -> IssuingBody:
        body = self.find(name)
        if body is None:
            body = IssuingBody(abbreviation=name.strip()[:40], full_name=full_names.get(name, ""))
            self.session.add(body)
            self._add_alias(body, name)
            if body.full_name:
                self._add_alias(body, body.full_name)
        elif not body.full_name and name in full_names:
            body.full_name = full_names[name]
            self._add_alias(body, body.full_name)
        return body

    def _add_alias(self, body: IssuingBody, name: str) -> None:
        normalized = normalize_name(name)
        if normalized and normalized not in self._by_alias:
            body.aliases.append(BodyAlias(alias=name[:300], normalized=normalized[:300]))
            self._by_alias[normalized] = body


def body_ids_for(session: Session, name: str) -> list[int]:
    """Ids of the bodies a user's name for them means (exact alias match)."""
    normalized = normalize_name(name)
    if not normalized:
        return []
    return list(
        session.scalars(select(BodyAlias.body_id).where(BodyAlias.normalized == normalized))
    )
