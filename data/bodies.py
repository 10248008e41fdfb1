"""Issuing bodies and their aliases: one body, many names ("MIIT", "工信部", the full name);
looking a body up by any of them, the bodies briefs name;
and reading the names a tracker lists ("MIIT, MOF, NDB", "MIIT etc.")."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from .models import BodyAlias, IssuingBody, brief_bodies

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


_CJK_COUNT = r"\d一二两三四五六七八九十"
# After a body's name: "等四部门", "等10个部门", "等部门": more bodies issued it than are named.
_COUNTED_GROUP = re.compile(
    rf"(?:等(?:[{_CJK_COUNT}]+个?)?(?:部门|部委|单位|机构|家)|\s*(?:and|&)\s+"
    r"(?:\w+\s+)?(?:other|more)\b)",
    re.I,
)
# Before a Chinese name: a province's or city's office of the same name (省发展改革委).
_LOCAL_BEFORE = "省市县区州盟地级各"


@cache
def _names_pattern() -> re.Pattern[str]:
    """Every bundled name of every body, longest first (国务院办公厅 before 国务院), Latin
    names as whole words, Chinese names not inside a longer word (财政部门 is "finance
    departments", 省发展改革委 a province's commission)."""
    names = sorted(
        {n for body in known_bodies() for n in body.names() if len(n) >= 2},
        key=len,
        reverse=True,
    )
    alternatives = []
    for name in names:
        escaped = re.escape(name)
        if _has_cjk(name):
            tail = "(?!门|部门)" if name.endswith("部") else ""
            alternatives.append(rf"(?<![{_LOCAL_BEFORE}]){escaped}{tail}")
        else:
            alternatives.append(rf"(?<![\w-]){escaped}(?![\w-])")
    return re.compile("|".join(alternatives))


@cache
def _abbreviation_of() -> dict[str, str]:
    return {n: body.abbreviation for body in known_bodies() for n in body.names() if n}


def bodies_named(text: str) -> tuple[list[str], bool]:
    """The bundled bodies a text names, by any of their names, in order of first mention,
    and whether a counted group says more issued it: "国家发展改革委、工业和信息化部等四部门"
    -> (["NDRC", "MIIT"], True); "MIIT and three other ministries" -> (["MIIT"], True)."""
    found: list[str] = []
    more = False
    by_name = _abbreviation_of()
    for match in _names_pattern().finditer(text):
        found.append(by_name[match[0]])
        if _COUNTED_GROUP.match(text, match.end()):
            more = True
    return _unique(found), more


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


def resolve_body(session: Session, name: str) -> IssuingBody | None:
    normalized = normalize_name(name)
    if not normalized:
        return None
    return session.scalar(
        select(IssuingBody).join(BodyAlias).where(BodyAlias.normalized == normalized)
    )


def bodies_by_name(session: Session) -> dict[str, IssuingBody]:
    """Every body under each of its normalized names, for matching many words at once."""
    rows = session.execute(select(BodyAlias.normalized, IssuingBody).join(BodyAlias.body))
    return {normalized: body for normalized, body in rows}


def body_names(body: IssuingBody) -> list[str]:
    """All the names a body goes by: abbreviation, full name, aliases (no duplicates)."""
    names = [body.abbreviation, body.full_name, *(a.alias for a in body.aliases)]
    return list(dict.fromkeys(n for n in names if n))


def used_bodies(session: Session) -> list[str]:
    """Abbreviations of bodies that at least one brief names."""
    return list(
        session.scalars(
            select(IssuingBody.abbreviation)
            .where(exists().where(brief_bodies.c.body_id == IssuingBody.id))
            .order_by(IssuingBody.abbreviation)
        )
    )


def bodies_with_aliases(session: Session) -> Sequence[IssuingBody]:
    """Every body, its aliases loaded with it (one query for all of them)."""
    return session.scalars(select(IssuingBody).options(selectinload(IssuingBody.aliases))).all()


def full_names(session: Session, abbreviations: list[str]) -> dict[str, str]:
    """Each known abbreviation's full name (`MIIT` -> Ministry of Industry and ...)."""
    if not abbreviations:
        return {}
    rows = session.execute(
        select(IssuingBody.abbreviation, IssuingBody.full_name).where(
            IssuingBody.abbreviation.in_(abbreviations)
        )
    )
    return {abbreviation: full_name for abbreviation, full_name in rows}
