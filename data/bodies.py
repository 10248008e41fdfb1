"""Issuing bodies and their aliases: one body, many names ("MIIT", "工信部", the full name);
and reading the names a tracker lists ("MIIT, MOF, NDB", "MIIT etc.")."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import BodyAlias, IssuingBody

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
    raw = resources.files("policybot.data").joinpath("bodies.toml").read_text(encoding="utf-8")
    return tuple(
        KnownBody(
            entry["abbreviation"], entry.get("full_name", ""), tuple(entry.get("aliases", ()))
        )
        for entry in tomllib.loads(raw)["body"]
    )


_FUNCTION_WORDS = frozenset({"the", "and", "of", "for", "on"})


def _expansion(name: str, abbreviation: str) -> str | None:
    """The words of `name` that `abbreviation` stands for.

    The pattern may take in more than the name ("the State Taxation Administration and
    the National Bureau of Statistics (NBS)"), so try the phrase's tails, longest first:
    one whose initials spell the abbreviation ("National Bureau of Statistics"; with or
    without the small words, as in MoF), else the shortest two-word-or-longer tail that
    starts with the abbreviation's letter ("Ministry of Commerce (MOFCOM)").
    """
    words = name.strip(" ,").split()
    tails = [
        words[start:]
        for start in range(len(words))
        if words[start][0].isupper() and words[start].lower() not in _FUNCTION_WORDS
    ]
    wanted = abbreviation.upper()
    for tail in tails:
        capitals = "".join(w[0] for w in tail if w[0].isupper())
        every = "".join(w[0] for w in tail).upper()
        if wanted in (capitals.upper(), every):
            return " ".join(tail)
    for tail in reversed(tails):
        if len(tail) >= 2 and tail[0][0].upper() == wanted[0]:
            return " ".join(tail)
    return None


def full_names_in(text: str) -> dict[str, str]:
    """{"MOF": "Ministry of Finance"} from "... the Ministry of Finance (MOF) ..."."""
    found: dict[str, str] = {}
    for match in _FULL_NAME_PAIR.finditer(" ".join(text.split())):
        name, abbreviation = match.group(1), match.group(2)
        expansion = _expansion(name, abbreviation)
        if expansion is not None:
            found.setdefault(abbreviation, expansion.strip(" ,"))
    return found


# "MIIT etc.", "MIIT and others", "MIIT and five other ministries", "工信部等六部门".
_ETC = re.compile(
    r"\s*(?:,\s*)?(?:\b(?:etc\.?|et al\.?|and others|and (?:\w+ )?other "
    r"(?:ministries|departments|bodies|agencies|authorities|government bodies))"
    r"|等(?:[\d一二三四五六七八九十]+个?部门)?)\s*$",
    re.I,
)
_BODY_SPLIT = re.compile(r"\s*[,;/\u3001\uff0c\uff1b&]\s*")
_BODY_AND = re.compile(r"\s+and\s+", re.I)
_BODY_WITH_ABBREVIATION = re.compile(
    r"^(?P<full>.+?)\s*[(\uff08](?P<abbr>[^()\uff08\uff09]{2,20})[)\uff09]$"
)
_ABBREVIATION = re.compile(r"^[A-Z][A-Za-z]{1,9}$")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def _is_body_name(name: str) -> bool:
    """An abbreviation ("MOF") or a name the bundled body list knows ("the State Council")."""
    if _ABBREVIATION.match(name) and sum(c.isupper() for c in name) >= 2:
        return True
    normalized = normalize_name(name)
    return any(normalize_name(n) == normalized for body in known_bodies() for n in body.names())


def split_body_names(text: str) -> tuple[list[str], bool, dict[str, str]]:
    """ "MIIT, MOF, NDB" -> ([MIIT, MOF, NDB], False, {}); "MIIT etc." -> ([MIIT], True, {});
    "Ministry of Finance (MOF) and MIIT" -> ([MOF, MIIT], False, {MOF: Ministry of Finance}).

    "and" separates bodies only when each side names one: "Ministry of Industry and
    Information Technology" is one body.
    """
    text = text.strip().rstrip(".;,")
    more = False
    stripped = _ETC.sub("", text)
    if stripped != text:
        more, text = True, stripped
    names: list[str] = []
    full_names: dict[str, str] = {}
    for piece in _BODY_SPLIT.split(text):
        piece = re.sub(r"^(?:and|the)\s+", "", piece.strip(" ."), flags=re.I)
        if not piece:
            continue
        parts = _BODY_AND.split(piece)
        if (
            len(parts) > 1
            and not _is_body_name(piece)
            and all(_is_body_name(_bare(p)) for p in parts)
        ):
            candidates = parts
        else:
            candidates = [piece]
        for candidate in candidates:
            match = _BODY_WITH_ABBREVIATION.match(candidate.strip())
            if match and _ABBREVIATION.match(match["abbr"].strip()):
                abbreviation = match["abbr"].strip()
                full = re.sub(r"^the\s+", "", match["full"].strip(), flags=re.I)
                if len(full.split()) >= 2:
                    full_names.setdefault(abbreviation, full)
                names.append(abbreviation)
            elif match and _has_cjk(match["abbr"]) and not _has_cjk(match["full"]):
                names.append(match["full"].strip())  # "MIIT (工信部)"
            else:
                names.append(candidate.strip(" ."))
    return _unique([n for n in names if n]), more, full_names


def _bare(name: str) -> str:
    match = _BODY_WITH_ABBREVIATION.match(name.strip())
    return match["abbr"].strip() if match else name.strip()


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
