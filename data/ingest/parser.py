"""Parse a tracker newsletter (text extracted from its PDF) into plain records.

A policy brief is a run of labelled sections in any order: `At a glance:` (ending in a
goals lead-in and a bullet list of goals), `<Org> comment:`, `Article: <English title>
(<original title>) (Link)`, `Issuing bodies:`, `Date:` and a block of source URLs. A label
that the current brief already has starts the next brief. Bullets outside a brief are
dated news items (` October 29: ... (SAMR notice)`), followed by URL blocks; an item cut
in two by a URL block is joined again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from data.ingest.dates import MONTHS, NEWS_PREFIX, infer_year, parse_date
from data.ingest.deadlines import extract_deadline, lead_in_year
from data.ingest.records import BriefRecord, GoalRecord, IssueRecord
from data.ingest.text import (
    Line,
    ParseError,
    decode,
    has_cjk,
    join_paragraphs,
    join_wrapped,
    split_lines,
)
from data.models import BriefKind

_LABELS: dict[str, re.Pattern[str]] = {
    "glance": re.compile(r"^(?:at a glance|in brief|summary)\s*:\s*", re.I),
    "comment": re.compile(r"^(?:[\w&.\u2019'-]+\s+){0,2}comments?\s*:\s*", re.I),
    "article": re.compile(r"^(?:articles?|documents?|policy document|title)\s*:\s*", re.I),
    "bodies": re.compile(
        r"^(?:issuing\s+bod(?:y|ies)|issued\s+by|issuers?|bod(?:y|ies))\s*:\s*", re.I
    ),
    "date": re.compile(r"^(?:date|dated|date of issue|published|issued on)\s*:\s*", re.I),
}
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_LINK_MARK = re.compile(r"\s*[(\[]\s*(?:link|pdf|source|original)\s*[)\]]\s*$", re.I)
_TRAILING_LABEL = re.compile(r"\(([^()]{2,80})\)\s*\.?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])\s+(?=[A-Z\"\u201c(])")
_ETC = re.compile(r"\s*(?:,\s*)?\b(?:etc\.?|et al\.?|and others)\s*$", re.I)
_BODY_SPLIT = re.compile(r"\s*(?:[,;/\u3001]|\band\b|&)\s*", re.I)
_ISSUE_NAME_DATE = re.compile(r"(?P<year>20\d{2})[-_. ]?(?P<month>0[1-9]|1[0-2])(?!\d)")
_HEADER_MAX = 60


@dataclass
class _BriefDraft:
    line: int
    sections: dict[str, list[str]] = field(default_factory=dict)
    goals: list[list[str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def has(self, section: str) -> bool:
        return section in self.sections or (section == "links" and bool(self.links))


@dataclass
class _NewsDraft:
    line: int
    month: int | None
    day: int | None
    year: int | None
    parts: list[str]
    links: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return join_wrapped(self.parts)

    @property
    def complete(self) -> bool:
        return _TRAILING_LABEL.search(self.text) is not None


class _Parser:
    def __init__(self, source: str, lines: list[Line]) -> None:
        self.source = source
        self.lines = lines
        self.briefs: list[_BriefDraft] = []
        self.news: list[_NewsDraft] = []
        self.header: list[str] = []
        self.current: _BriefDraft | None = None
        self.section = ""
        self.unassigned_links: list[str] = []
        self.warnings: list[str] = []
        self._pending_urls: list[str] = []
        self._news_unlinked_from = 0  # first news item no URL block has considered yet
        self._awaiting: _NewsDraft | None = None  # an item cut in two by a URL block

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        for line in self.lines:
            if _URL.match(line.text) and not line.bullet:
                self._url(line.text)
                continue
            if self._pending_urls:
                self._flush_news_urls()
            label = None if line.bullet else self._label(line.text)
            if label:
                self._start_section(line, *label)
            elif line.bullet:
                self._bullet(line)
            else:
                self._text(line)
        self._flush_news_urls()

    @staticmethod
    def _label(text: str) -> tuple[str, str] | None:
        for name, pattern in _LABELS.items():
            match = pattern.match(text)
            if match:
                return name, text[match.end() :]
        return None

    def _start_section(self, line: Line, name: str, rest: str) -> None:
        brief = self.current
        if brief is None or brief.has(name) or brief.links:
            brief = _BriefDraft(line.number)
            self.briefs.append(brief)
            self.current = brief
        self._awaiting = None
        self.section = name
        brief.sections[name] = [rest] if rest.strip() else []

    def _url(self, url: str) -> None:
        if self.current is not None:
            self.current.links.append(url)
            self.section = "links"
        else:
            self._pending_urls.append(url)

    def _bullet(self, line: Line) -> None:
        brief = self.current
        if brief is not None and self.section in ("glance", "goals"):
            brief.goals.append([line.text])
            self.section = "goals"
            return
        if brief is not None and self.section == "comment":
            brief.sections["comment"].append("\u2022 " + line.text)
            return
        self._close_brief()
        match = NEWS_PREFIX.match(line.text)
        if match:
            month_name = match["month"] or match["month2"]
            month = MONTHS[month_name.lower().rstrip(".")]
            day = int(match["day"] or match["day2"])
            year = int(match["year"]) if match["year"] else None
            self.news.append(_NewsDraft(line.number, month, day, year, [line.text[match.end() :]]))
        else:
            self.news.append(_NewsDraft(line.number, None, None, None, [line.text]))
        self._awaiting = None

    def _text(self, line: Line) -> None:
        brief = self.current
        if brief is not None and self.section == "goals":
            brief.goals[-1].append(line.text)
        elif brief is not None and self.section != "links":
            brief.sections[self.section].append(line.text)
        elif self._awaiting is not None:
            self._awaiting.parts.append(line.text)
        elif self._looks_like_header(line.text):
            self._close_brief()
            self.header.append(line.text)
        elif self.news and self.current is None:
            self.news[-1].parts.append(line.text)
        else:
            self.warnings.append(f"line {line.number}: text outside any brief was skipped")

    @staticmethod
    def _looks_like_header(text: str) -> bool:
        return len(text) <= _HEADER_MAX and not text.rstrip().endswith((".", ")", ",", ";"))

    def _close_brief(self) -> None:
        self.current = None
        self.section = ""

    def _flush_news_urls(self) -> None:
        """Give a URL block to the news items it follows, one each, when the counts agree."""
        urls, self._pending_urls = self._pending_urls, []
        if not urls:
            return
        candidates = self.news[self._news_unlinked_from :]
        last = candidates[-1] if candidates else None
        if last is not None and not last.complete:
            # The block cuts this item in two; its own link comes in a later block.
            self._awaiting = last
            candidates = candidates[:-1]
        if candidates and len(candidates) == len(urls):
            for item, url in zip(candidates, urls, strict=True):
                item.links.append(url)
        else:
            self.unassigned_links.extend(urls)
        self._news_unlinked_from = len(self.news) - (1 if self._awaiting else 0)

    # -- building records ----------------------------------------------------------
    def issue_date(self) -> date | None:
        for text in self.header:
            found = parse_date(text)
            if found:
                return found.replace(day=1)
        match = _ISSUE_NAME_DATE.search(Path(self.source).name)
        if match:
            return date(int(match["year"]), int(match["month"]), 1)
        return None

    def policy_record(self, draft: _BriefDraft) -> BriefRecord:
        article = join_wrapped(draft.sections.get("article", []))
        if not article:
            raise ParseError(
                self.source,
                draft.line,
                "this brief has no 'Article:' title line; the file may be truncated",
            )
        title, original = split_title(article)
        summary = join_paragraphs(draft.sections.get("glance", []))
        published = parse_date(join_wrapped(draft.sections.get("date", [])))
        bodies, more = split_bodies(join_wrapped(draft.sections.get("bodies", [])))
        default_year = lead_in_year(_last_sentence(summary)) if summary.endswith(":") else None
        goal_texts = [join_wrapped(g) for g in draft.goals]
        goals = [
            GoalRecord(text, extract_deadline(text, published_on=published, default_year=default_year))
            for text in goal_texts
        ]
        if not goals:
            goals = _sentence_goals(summary, published)
        return BriefRecord(
            kind=BriefKind.POLICY,
            title=title,
            title_original=original,
            line=draft.line,
            bodies=bodies,
            bodies_more=more,
            published_on=published,
            summary=summary,
            comment=join_paragraphs(draft.sections.get("comment", [])),
            links=_unique(draft.links),
            goals=goals,
        )

    def news_record(self, draft: _NewsDraft, reference: date | None) -> BriefRecord:
        text = draft.text
        label_match = _TRAILING_LABEL.search(text)
        label = label_match.group(1).strip() if label_match else None
        body_text = text[: label_match.start()].rstrip() if label_match else text
        published: date | None = None
        if draft.month and draft.day:
            year = draft.year or (infer_year(draft.month, reference) if reference else None)
            if year:
                try:
                    published = date(year, draft.month, draft.day)
                except ValueError:
                    self.warnings.append(f"line {draft.line}: impossible date ignored")
        return BriefRecord(
            kind=BriefKind.NEWS,
            title=_first_sentence(body_text),
            line=draft.line,
            bodies=[],
            published_on=published,
            summary=body_text,
            links=_unique(draft.links),
            source_label=label,
            goals=_sentence_goals(body_text, published),
        )


def split_title(article: str) -> tuple[str, str | None]:
    """`English title (原文标题) (Link)` -> ("English title", "原文标题")."""
    text = _LINK_MARK.sub("", article).strip()
    if text.endswith((")", "\uff09")):
        depth = 0
        for index in range(len(text) - 1, -1, -1):
            char = text[index]
            if char in ")\uff09":
                depth += 1
            elif char in "(\uff08":
                depth -= 1
                if depth == 0:
                    inner = text[index + 1 : -1].strip()
                    if has_cjk(inner):
                        return text[:index].strip(), inner
                    break
    return text, None


def split_bodies(text: str) -> tuple[list[str], bool]:
    """"MIIT, MOF, NDB" -> [MIIT, MOF, NDB]; "MIIT etc." -> ([MIIT], True)."""
    text = text.strip().rstrip(".;,")
    more = False
    stripped = _ETC.sub("", text)
    if stripped != text:
        more, text = True, stripped
    names = [name.strip(" .") for name in _BODY_SPLIT.split(text)]
    return _unique([n for n in names if n]), more


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _first_sentence(text: str) -> str:
    sentences = _sentences(text)
    return sentences[0] if sentences else text


def _last_sentence(text: str) -> str:
    sentences = _sentences(text.replace("\n\n", " "))
    return sentences[-1] if sentences else text


def _sentence_goals(text: str, published: date | None) -> list[GoalRecord]:
    """Targets stated in running text ("By 2027, over 100 new standards ...")."""
    goals = []
    for sentence in _sentences(text.replace("\n\n", " ")):
        deadline = extract_deadline(sentence, published_on=published)
        if deadline is not None:
            goals.append(GoalRecord(sentence, deadline))
    return goals


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def parse_text(text: str, source: str) -> IssueRecord:
    parser = _Parser(source, split_lines(text))
    parser.run()
    issue_date = parser.issue_date()
    briefs = [parser.policy_record(draft) for draft in parser.briefs]
    if issue_date is None:
        dates = [b.published_on for b in briefs if b.published_on]
        issue_date = max(dates).replace(day=1) if dates else None
    briefs += [parser.news_record(draft, issue_date) for draft in parser.news if draft.text]
    if not briefs:
        raise ParseError(
            source,
            None,
            "no briefs found: expected 'At a glance:' sections or dated news items "
            "such as '\u2022 October 29: ... (MIIT notice)'",
        )
    return IssueRecord(
        source=source,
        issue_date=issue_date,
        briefs=briefs,
        unassigned_links=_unique(parser.unassigned_links),
        warnings=parser.warnings,
    )


def parse_bytes(raw: bytes, source: str) -> IssueRecord:
    return parse_text(decode(raw, source), source)


def parse_file(path: Path) -> IssueRecord:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), None, f"cannot read the file ({exc.strerror})") from exc
    return parse_bytes(raw, str(path))
