"""Parse a tracker newsletter (text extracted from its PDF) into plain records.

A policy brief is a run of labelled sections in any order: `At a glance:` (ending in a
goals lead-in and a bullet list of goals), `<Org> comment:`, `Article: <English title>
(<original title>) (Link)`, `Issuing bodies:`, `Date:` and a block of source URLs. A label
that the current brief already has starts the next brief. Bullets outside a brief are
dated news items (` October 29: ... (SAMR notice)`), in one or more runs (policy news,
company news; a run ends at a heading or where the dates start again), followed by URL
blocks; an item cut in two by a URL block is joined again. A URL block's links are aligned
to its items by source label and domain (links.py); a link no item fits stays on the issue,
unassigned, and is named in a warning.

Layout is not meaning: blank lines after every line, CRLF, wrapped titles and URLs, page
furniture (furniture.py), words hyphenated across lines (hyphenation.py), any bullet glyph
(or none, for dated news) all parse alike. A brief that lacks a field is kept with a
warning; a file that ends inside a brief or a news item is refused as truncated.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..bodies import split_body_names as split_bodies
from ..models import BriefKind
from ..sources import official_first
from .dates import (
    MONTHS,
    NEWS_PREFIX,
    ambiguous_date,
    infer_year,
    news_date_parts,
    parse_date,
)
from .deadlines import Deadline, extract_deadline, lead_in_year
from .files import DEFAULT_MAX_BYTES, read_tracker_file
from .furniture import furniture_shapes, shape
from .goal_kinds import news_goal_kind
from .hyphenation import repair_hyphenation
from .isolation import read_pdf
from .labels import LINKS_LABEL, OPENING, comment_author, match_label
from .links import place_links
from .pdf import PdfLink, is_pdf
from .records import BriefRecord, GoalRecord, IssueRecord
from .sentences import first_sentence, last_sentence, sentences
from .text import (
    BULLET_MARK,
    Line,
    ParseError,
    decode,
    has_cjk,
    join_paragraphs,
    join_wrapped,
    split_lines,
)

_URL = re.compile(r"^<?(?:https?://|www\.)\S+?>?$", re.I)
_URL_TAIL = re.compile(r"^[\w\-./?=&%#~:+,;@!$*'()]+$")
_LINK_MARK = re.compile(r"\s*[(\[]\s*(?:link|pdf|source|original)\s*[)\]]\s*$", re.I)
# "(SAMR notice)", "(Reuters)", "[Source: Xinhua]": a source names itself with a capital.
_TRAILING_LABEL = re.compile(
    r"[(\[]((?:(?i:source|via|from)\s*:\s*)?[A-Z0-9\u4e00-\u9fff][^()\[\]]{1,79})[)\]]\s*\.?\s*$"
)
_LABEL_PREFIX = re.compile(r"^(?:source|via|from)\s*:\s*", re.I)
_ENDS_COMPLETE = (".", "!", "?", ")", "]", "\u201d", '"', "\u3002", "\uff09")
_LEAD_IN_END = re.compile(
    r"(?::|\b(?:include|includes|including|are|as follows|the following|following))\s*$", re.I
)
_ISSUE_NAME_DATE = re.compile(r"(?P<year>20\d{2})[-_. ]?(?P<month>0[1-9]|1[0-2])(?!\d)")
_HEADER_MAX = 60
_WRAPPED_URL_WIDTH = 60  # a URL line this long may have been wrapped by the layout
_TITLE_MAX = 160  # a title taken from a summary's first sentence is cut here
_HEADER_NOISE = re.compile(
    r"(?:\b(?:issue|no\.?|vol\.?|volume|edition)\s*#?\d+\b|\b\d{1,2}\b|[|\u2013\u2014:/,#-])", re.I
)


@dataclass
class _BriefDraft:
    line: int
    sections: dict[str, list[str]] = field(default_factory=dict)
    goals: list[list[str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    lead_in_end: int = 0  # how much of the glance section came before the goals list
    goal_closed: bool = False  # a blank line ended the last goal (single-spaced files)
    comment_author: str | None = None

    def has(self, section: str) -> bool:
        return section in self.sections or (section == "links" and bool(self.links))


@dataclass
class _NewsDraft:
    line: int
    month: int | None
    day: int | None
    year: int | None
    parts: list[str]
    run: int  # news come in runs (policy news, company news), each with its own URL block
    links: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return join_wrapped(self.parts)

    @property
    def labelled(self) -> bool:
        return _TRAILING_LABEL.search(self.text) is not None


class _Parser:
    def __init__(self, source: str, lines: list[Line]) -> None:
        self.source = source
        self.lines = lines
        self.briefs: list[_BriefDraft] = []
        self.news: list[_NewsDraft] = []
        self.top_header: list[str] = []  # lines before the first brief: title, issue date
        self.current: _BriefDraft | None = None
        self.section = ""
        self.unassigned_links: list[str] = []
        self.warnings: list[str] = []
        self._pending_urls: list[str] = []
        self._last_url: list[str] | None = None  # the list the last URL went to
        self._last_url_width = 0  # length of the last URL line as the layout printed it
        self._news_unlinked_from = 0  # first news item no URL block has considered yet
        self._awaiting: _NewsDraft | None = None  # an item cut in two by a URL block
        self._run = 0
        self._run_break = False  # a heading since the last news item

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        for line in self.lines:
            if self._is_page_furniture(line):
                continue
            if _URL.match(line.text):
                self._url(line.text.strip("<>"))
                continue
            if self._url_tail(line):
                continue
            self._last_url = None
            if self._pending_urls:
                self._flush_news_urls()
            links_label = None if line.bullet else LINKS_LABEL.match(line.text)
            rest = line.text[links_label.end() :].strip() if links_label else ""
            if links_label and (not rest or _URL.match(rest)):
                if self.current is not None and self.section not in ("", "links"):
                    self.section = "links"
                if rest:
                    self._url(rest.strip("<>"))
                continue
            label = None if line.bullet else match_label(line.text)
            if label:
                self._start_section(line, *label)
            elif line.bullet:
                self._bullet(line)
            elif self.section in ("", "links", "date", "bodies") and _unbulleted_item(line.text):
                self._news_item(line)
            else:
                self._text(line)
        self._flush_news_urls()

    def _is_page_furniture(self, line: Line) -> bool:
        """A running header repeated on later pages."""
        started = bool(self.briefs or self.news)
        return started and not line.bullet and line.text in self.top_header

    def _url_tail(self, line: Line) -> bool:
        """The rest of a long URL that the layout wrapped onto the next line."""
        target = self._last_url
        if target is None or line.bullet or not target or not _URL_TAIL.match(line.text):
            return False
        if line.text.endswith(":"):
            return False
        # A piece without URL punctuation ("d-decade") continues only a URL line that the
        # layout filled to its width.
        wrapped = self._last_url_width >= _WRAPPED_URL_WIDTH and re.fullmatch(
            r"[a-z0-9][\w\-~]*", line.text
        )
        if not re.search(r"[/?=&%#_.\d]", line.text) and not wrapped:
            return False
        target[-1] += line.text
        self._last_url_width = len(line.text)
        return True

    def _start_section(self, line: Line, name: str, rest: str, match: re.Match[str]) -> None:
        brief = self.current
        if brief is None or brief.has(name) or (brief.links and name in OPENING):
            brief = _BriefDraft(line.number)
            self.briefs.append(brief)
            self.current = brief
        self._awaiting = None
        self.section = name
        if name == "comment":
            brief.comment_author = comment_author(match)
        brief.sections[name] = [rest] if rest.strip() else []
        if line.para_end:
            brief.sections[name].append("")

    def _url(self, url: str) -> None:
        self._last_url_width = len(url)
        if self.current is not None:
            self.current.links.append(url)
            self.section = "links"
            self._last_url = self.current.links
        else:
            self._pending_urls.append(url)
            self._last_url = self._pending_urls

    def _bullet(self, line: Line) -> None:
        brief = self.current
        if brief is not None and self.section in ("glance", "goals"):
            if not brief.goals:
                brief.lead_in_end = len(brief.sections["glance"])
            brief.goals.append([line.text])
            brief.goal_closed = line.para_end
            self.section = "goals"
            return
        if brief is not None and self.section == "comment":
            brief.sections["comment"].append(BULLET_MARK + line.text)
            if line.para_end:
                brief.sections["comment"].append("")
            return
        if NEWS_PREFIX.match(line.text):
            self._news_item(line)
        elif self.news and self.current is None and not self._run_break:
            # An undated item inside a dated news list.
            self.news.append(_NewsDraft(line.number, None, None, None, [line.text], self._run))
            self._awaiting = None
        else:
            self.warnings.append(
                f"line {line.number}: an undated list item outside a brief was skipped"
            )

    def _news_item(self, line: Line) -> None:
        self._close_brief()
        match = NEWS_PREFIX.match(line.text)
        assert match is not None
        month, day, year = news_date_parts(match)
        previous = self.news[-1] if self.news else None
        if previous is None or self._run_break or _goes_back(previous, month, day, year):
            self._run += 1
        self._run_break = False
        self.news.append(
            _NewsDraft(line.number, month, day, year, [line.text[match.end() :]], self._run)
        )
        self._awaiting = None

    def _text(self, line: Line) -> None:
        brief = self.current
        if brief is not None and self.section == "goals" and not brief.goal_closed:
            brief.goals[-1].append(line.text)
            brief.goal_closed = line.para_end
        elif brief is not None and self.section != "links":
            if self.section == "goals":
                self.section = "glance"  # the summary goes on after its goals list
            brief.sections[self.section].append(line.text)
            if line.para_end:
                brief.sections[self.section].append("")
        elif self._awaiting is not None and not self._complete(self._awaiting):
            self._awaiting.parts.append(line.text)  # the rest of an item cut by URLs
        elif (
            self.news
            and self.current is None
            and not self._run_break
            and not self._complete(self.news[-1])
        ):
            self.news[-1].parts.append(line.text)
        elif self._looks_like_header(line.text):
            self._close_brief()
            if not self.briefs and not self.news:
                self.top_header.append(line.text)
            else:
                self._run_break = True
        elif self.news and self.current is None and not self._run_break:
            self.news[-1].parts.append(line.text)
        else:
            self.warnings.append(f"line {line.number}: text outside any brief was skipped")

    @staticmethod
    def _looks_like_header(text: str) -> bool:
        return len(text) <= _HEADER_MAX and not text.rstrip().endswith((".", ")", ",", ";"))

    def _close_brief(self) -> None:
        self.current = None
        self.section = ""

    def _complete(self, item: _NewsDraft) -> bool:
        """Whether a news item has reached its end (its source label, or a sentence end in
        a list whose items carry no labels)."""
        if item.labelled:
            return True
        # One issue labels all its items or none.
        labelled = any(n.labelled for n in self.news if n is not item)
        return not labelled and item.text.rstrip().endswith(_ENDS_COMPLETE)

    def _flush_news_urls(self) -> None:
        """Give a URL block to the news items it follows: all items it has not yet
        considered, or the last run of them when only that run's count agrees; the
        alignment by label and domain places each link (links.py)."""
        urls, self._pending_urls = self._pending_urls, []
        if not urls:
            return
        candidates = self.news[self._news_unlinked_from :]
        last = candidates[-1] if candidates else None
        if last is not None and not self._complete(last):
            # The block cuts this item in two; its own link comes in a later block.
            self._awaiting = last
            candidates = candidates[:-1]
        last_run = [item for item in candidates if candidates and item.run == candidates[-1].run]
        distinct = len(dict.fromkeys(urls))
        targets = candidates
        if len(candidates) not in (len(urls), distinct) and len(last_run) in (len(urls), distinct):
            targets = last_run
        placement = place_links([_source_label(item.text) for item in targets], urls)
        for item, links in zip(targets, placement.links, strict=True):
            item.links.extend(links)
        for url in placement.unplaced:
            self.unassigned_links.append(url)
            self.warnings.append(f"news link not placed (no item fits it): {url}")
        self._news_unlinked_from = len(self.news) - (1 if self._awaiting else 0)

    # -- checks ----------------------------------------------------------------------
    def check_complete(self) -> None:
        """A file cut short ends inside its last brief or news item: refuse it."""
        last_line = self.lines[-1].number if self.lines else None
        last_news = self.news[-1] if self.news else None
        last_brief = self.briefs[-1] if self.briefs else None
        if last_news is not None and (last_brief is None or last_news.line > last_brief.line):
            if not self._complete(last_news) and not last_news.text.rstrip().endswith(
                _ENDS_COMPLETE
            ):
                raise ParseError(
                    self.source,
                    last_line,
                    f"the news item that starts on line {last_news.line} stops mid-sentence; "
                    "the file looks truncated",
                )
            return
        if last_brief is None:
            return
        titled = [b for b in self.briefs[:-1] if "article" in b.sections]
        if "article" not in last_brief.sections:
            if titled and not last_brief.links and len(titled) == len(self.briefs) - 1:
                raise ParseError(
                    self.source,
                    last_brief.line,
                    f"the brief that starts on line {last_brief.line} has no 'Article:' title line, "
                    "unlike the others; the file looks truncated",
                )
            return  # policy_record keeps it, with a warning
        article = join_wrapped(last_brief.sections["article"])
        if article.count("(") + article.count("\uff08") > article.count(")") + article.count(
            "\uff09"
        ):
            raise ParseError(
                self.source,
                last_line,
                f"the brief that starts on line {last_brief.line} stops inside its 'Article:' "
                "title; the file looks truncated",
            )
        dated = [b for b in self.briefs[:-1] if "date" in b.sections]
        if dated and "date" not in last_brief.sections and not last_brief.links:
            raise ParseError(
                self.source,
                last_line,
                f"the brief that starts on line {last_brief.line} has no 'Date:' line, unlike "
                "the others; the file looks truncated",
            )

    # -- building records ----------------------------------------------------------
    def issue_date(self) -> date | None:
        for text in self.top_header:
            found = parse_date(text)
            if found:
                return found.replace(day=1)
        match = _ISSUE_NAME_DATE.search(Path(self.source).name)
        if match:
            return date(int(match["year"]), int(match["month"]), 1)
        return None

    def publication(self) -> str | None:
        """The newsletter's name: its header without the issue's date and numbering
        ("China Industrial Policy Tracker | November 2024"), else the file's name."""
        for text in self.top_header:
            name = _strip_dates(text)
            if sum(c.isalpha() for c in name) >= 4:
                return name[:300]
        stem = _strip_dates(Path(self.source).stem.replace("-", " ").replace("_", " "))
        return stem.title()[:300] if sum(c.isalpha() for c in stem) >= 4 else None

    def _warn(self, record: BriefRecord, message: str) -> None:
        record.warnings.append(message)
        self.warnings.append(f"line {record.line}: {message}")

    def policy_record(self, draft: _BriefDraft) -> BriefRecord | None:
        article = join_wrapped(draft.sections.get("article", []))
        summary = join_paragraphs(draft.sections.get("glance", []))
        title, original = split_title(article) if article else ("", None)
        comment = join_paragraphs(draft.sections.get("comment", []))
        if not title:
            # Kept, with the summary's first sentence standing in for the title.
            title = _shorten(first_sentence(summary.replace("\n", " ")) or first_sentence(comment))
            if not title:
                self.warnings.append(
                    f"line {draft.line}: a brief with neither a title nor a summary was skipped"
                )
                return None
        record = BriefRecord(kind=BriefKind.POLICY, title=title, line=draft.line)
        if not article:
            self._warn(record, f"brief {title!r} has no title line; its summary names it")
        date_text = join_wrapped(draft.sections.get("date", []))
        published = parse_date(date_text)
        if published is None:
            self._warn(record, f"brief {title!r} has {undated_reason(date_text)}{UNDATED}")
        bodies, more, full_names = split_bodies(join_wrapped(draft.sections.get("bodies", [])))
        if not bodies:
            self._warn(record, f"brief {title!r} names no issuing body")
        if not summary:
            self._warn(record, f"brief {title!r} has no summary")
        glance = draft.sections.get("glance", [])
        lead_in = last_sentence(join_paragraphs(glance[: draft.lead_in_end or len(glance)]))
        # A deadline in the lead-in ("By mid-2026, the plan aims to:", "Important goals for
        # 2027 include:") applies, with its precision, to each bullet that states none.
        shared: Deadline | None = None
        if _LEAD_IN_END.search(lead_in):
            shared = extract_deadline(lead_in, published_on=published)
            year = lead_in_year(lead_in)
            if shared is None and year is not None:
                shared = extract_deadline("", published_on=published, default_year=year)
        goals = [
            GoalRecord(text, extract_deadline(text, published_on=published) or shared)
            for text in (join_wrapped(g) for g in draft.goals)
            if text
        ]
        if not goals:
            goals = sentence_goals(summary, published)
        record.title_original = original
        record.bodies = bodies
        record.bodies_more = more
        record.body_full_names = full_names
        record.published_on = published
        record.summary = summary
        record.comment = comment
        record.comment_author = draft.comment_author if comment else None
        record.links = _unique(draft.links)
        record.goals = goals
        return record

    def news_record(self, draft: _NewsDraft, reference: date | None) -> BriefRecord:
        text = draft.text
        label = _source_label(text)
        label_match = _TRAILING_LABEL.search(text)
        body_text = text[: label_match.start()].rstrip() if label_match else text
        record = BriefRecord(
            kind=BriefKind.NEWS,
            title=first_sentence(body_text),
            line=draft.line,
            summary=body_text,
            links=_unique(draft.links),
            source_label=label,
        )
        if draft.month and draft.day:
            year = draft.year or (
                infer_year(draft.month, reference, draft.day) if reference else None
            )
            if year:
                try:
                    record.published_on = date(year, draft.month, draft.day)
                except ValueError:
                    self._warn(
                        record, f"news item {record.title!r} has an impossible date{UNDATED}"
                    )
            else:
                self._warn(
                    record,
                    f"news item {record.title!r} has no year, and the issue has no date{UNDATED}",
                )
        else:
            self._warn(record, f"news item {record.title!r} has no date{UNDATED}")
        kind = news_goal_kind(label, body_text)
        record.goals = [
            GoalRecord(goal.text, goal.deadline, kind)
            for goal in sentence_goals(body_text, record.published_on)
        ]
        return record


# Said with every warning about a brief stored without a date: it drops out of date views.
UNDATED = ": stored undated, so `latest` and `since:` will not show it"


def undated_reason(date_text: str) -> str:
    """Why a brief's date line gave no date; an ambiguous one is named, not guessed."""
    if not date_text:
        return "no date"
    ambiguous = ambiguous_date(date_text)
    if ambiguous is not None:
        written, day_first, month_first = ambiguous
        return (
            f"an ambiguous date {written!r} ({day_first.day} {day_first:%b} or "
            f"{month_first.day} {month_first:%b %Y}?), not guessed"
        )
    return f"unreadable date {date_text!r}"


def _source_label(text: str) -> str | None:
    """ "... (SAMR notice)" -> "SAMR notice"; "[Source: Xinhua]" -> "Xinhua"."""
    match = _TRAILING_LABEL.search(text)
    return (_LABEL_PREFIX.sub("", match.group(1)).strip() or None) if match else None


def _strip_dates(text: str) -> str:
    """A header or file name without its dates, numbers and separators."""
    text = re.sub(
        rf"\b(?:{'|'.join(sorted(MONTHS, key=len, reverse=True))})\.?\b|\b(?:19|20)\d{{2}}\b",
        " ",
        text,
        flags=re.I,
    )
    return " ".join(_HEADER_NOISE.sub(" ", text).split())


def _shorten(text: str) -> str:
    if len(text) <= _TITLE_MAX:
        return text
    return text[: _TITLE_MAX - 1].rsplit(" ", 1)[0] + "\u2026"


def _unbulleted_item(text: str) -> bool:
    """A dated news item whose bullet glyph the extraction lost ("October 29: The SAMR
    ..."), not a heading ("November 29 – December 5, 2024")."""
    match = NEWS_PREFIX.match(text)
    if match is None or _Parser._looks_like_header(text):
        return False
    rest = text[match.end() :]
    return not re.match(rf"(?:{'|'.join(MONTHS)})\b", rest, re.I)


def _goes_back(previous: _NewsDraft, month: int, day: int, year: int | None) -> bool:
    """A news list runs forward in time; an earlier date starts the next list."""
    if previous.month is None or previous.day is None:
        return False
    if year is not None and previous.year is not None and year != previous.year:
        return year < previous.year
    if previous.month == 12 and month == 1:
        return False  # the turn of the year
    return (month, day) < (previous.month, previous.day)


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


def sentence_goals(text: str, published: date | None) -> list[GoalRecord]:
    """Targets stated in running text ("By 2027, over 100 new standards ...")."""
    goals = []
    for sentence in sentences(text.replace("\n", " ")):
        deadline = extract_deadline(sentence, published_on=published)
        if deadline is not None:
            goals.append(GoalRecord(sentence, deadline))
    return goals


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def prepare_lines(text: str) -> list[Line]:
    """Lines as the parser reads them: furniture dropped (the head of the file, where the
    issue's own title sits, kept), words broken across lines joined again."""
    lines = split_lines(text)
    furniture = furniture_shapes(text)
    if furniture:
        first_label = next(
            (i for i, line in enumerate(lines) if line.bullet or match_label(line.text)),
            len(lines),
        )
        lines = lines[:first_label] + [
            line for line in lines[first_label:] if shape(line.text) not in furniture
        ]
    return repair_hyphenation(lines)


def parse_text(text: str, source: str) -> IssueRecord:
    parser = _Parser(source, prepare_lines(text))
    parser.run()
    parser.check_complete()
    issue_date = parser.issue_date()
    briefs = [r for r in (parser.policy_record(draft) for draft in parser.briefs) if r]
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
    for brief in briefs:  # the official text first: the brief's Source
        brief.links = official_first(brief.links)
    return IssueRecord(
        source=source,
        issue_date=issue_date,
        briefs=briefs,
        unassigned_links=_unique(parser.unassigned_links),
        warnings=parser.warnings,
        publication=parser.publication(),
    )


def parse_bytes(raw: bytes, source: str) -> IssueRecord:
    """A tracker file's bytes: a PDF (its text extracted, its link annotations placed) or
    text in UTF-8/UTF-16."""
    if not is_pdf(raw):
        return parse_text(decode(raw, source), source)
    extracted = read_pdf(raw, source)  # in a child process within memory and time limits
    issue = parse_text(extracted.text, source)
    place_annotation_links(issue, extracted.text, extracted.links)
    issue.warnings[:0] = extracted.warnings  # the extraction's, before the parser's
    return issue


def place_annotation_links(issue: IssueRecord, text: str, links: Sequence[PdfLink]) -> None:
    """Give each link annotation to the brief whose text holds its line: the brief that
    starts last at or before it. A link before the first brief (the issue's header), on
    page furniture (a running footer's website), or printed in the text already (the
    parser placed it) is left alone."""
    if not links:
        return
    lines = text.splitlines()
    furniture = furniture_shapes(text)
    order = sorted(range(len(issue.briefs)), key=lambda i: issue.briefs[i].line)
    starts = [issue.briefs[i].line for i in order]
    known = {_link_key(url) for brief in issue.briefs for url in brief.links}
    known.update(_link_key(url) for url in issue.unassigned_links)
    for link in links:
        at = bisect.bisect_right(starts, link.line) - 1
        on_furniture = 0 < link.line <= len(lines) and shape(lines[link.line - 1]) in furniture
        if at < 0 or on_furniture or _link_key(link.url) in known:
            continue
        brief = issue.briefs[order[at]]
        # The link on the entry itself ("(Link)" after the title) is the document: ahead
        # of the other official links (archived copies, related notices) when official.
        brief.links = official_first([link.url, *brief.links])
        known.add(_link_key(link.url))


def _link_key(url: str) -> str:
    """A URL as compared with another: no scheme, no "www.", no trailing slash."""
    key = re.sub(r"^\s*(?:https?:)?/*(?:www\.)?", "", url.strip(), flags=re.I)
    return key.rstrip("/").casefold()


def parse_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> IssueRecord:
    return parse_bytes(read_tracker_file(path, max_bytes), str(path))
