"""A primary policy document (a Chinese government notice or plan, or its English text) read
as an analyst reads it, into one brief:

- the title is the document's own name: the 《》 name inside a transmittal headline
  (工业和信息化部等四部门关于印发《X》的通知 -> X), not the headline around it; an English
  title where the text gives one;
- the date is the document's: a labelled publication date, the date under the signatures,
  a dateline (11月7日，…, whose year is the page's), else the page's own date;
- the issuing bodies by any of their names, a counted group (等四部门) saying there are more;
- the lead paragraph (after the addressees and the transmittal formula) is the summary;
- every target with its deadline, each step of a plan its own goal (deadlines.target_steps);
- the official URL is the source link.

Used by pasted text (`/policy add`, data/ingest/single.py) and by fetched pages.
"""

from __future__ import annotations

import re
from datetime import date

from ..bodies import bodies_named
from ..models import BriefKind
from ..sources import official_first
from .dates import infer_year, parse_date
from .deadlines import target_steps
from .records import BriefRecord, GoalRecord
from .sentences import sentences
from .text import has_cjk

MAX_GOALS = 60  # a long plan's targets; beyond this a document is more than one brief
_SUMMARY_MAX = 600

_NAME = re.compile(r"《(?P<name>[^《》]{2,120})》")
# The wrapping a transmittal or consultation puts around a document's name.
_TRANSMITTAL = re.compile(
    r"^(?:.*?关于)?(?:印发|发布|公开征求对?|征求)(?P<name>.{2,120}?)(?:的)?(?:通知|公告|意见|函)$"
)
_DRAFT_ZH = re.compile(r"[（(]?\s*(?:征求意见稿|送审稿|草案|草稿|试行草案)\s*[）)]?")
_DRAFT_EN = re.compile(
    r"\s*[(\[]?\s*(?:draft(?: for (?:public )?comments?)?|exposure draft|consultation draft)"
    r"\s*[)\]]?",
    re.I,
)
_CONSULTATION = re.compile(
    r"征求意见|征求.{0,40}意见|draft for (?:public )?comments?|\(draft\)", re.I
)
_DOCUMENT_WORDS_ZH = re.compile(
    r"(?:通知|意见|方案|办法|规划|决定|公告|指南|细则|规定|计划|纲要|措施|指导意见|条例)$"
)
_EN_HEADLINE = re.compile(
    r"^(?:notice|circular|opinions?|announcement|decision|guidelines?|measures|action plan|"
    r"implementation plan|plan|provisions|regulations?)\b.*\b(?:on|for|of|regarding)\b",
    re.I,
)
_EN_ISSUING = re.compile(
    r"\bon (?:issuing|printing and distributing|publishing|releasing|soliciting (?:public )?"
    r"comments on) (?:the )?(?P<name>.+?)\s*$",
    re.I,
)
_EN_TITLE_LABEL = re.compile(r"^(?:english title|title \(en\)|英文标题)\s*[:：]\s*(?P<t>.+)$", re.I)
_LATIN = re.compile(r"[A-Za-z]")
_ISSUER_LEAD = re.compile(
    r"(?P<subject>[^。；]{2,200}?)(?:联合|共同)?(?:印发|发布|出台|公布)(?:了)?《"
    r"|(?P<en>^.{2,200}?)\b(?:released|issued|published)\b",
)
# A news page's lead names the document it reports: "联合印发《X》（征求意见稿）".
_ISSUED_NAME = re.compile(
    r"(?:印发|发布|出台|公布|公开征求对?|制定)(?:了)?《[^《》]{2,120}》(?:[（(]\s*征求意见稿\s*[）)])?"
)
_DOC_NUMBER = re.compile(r"[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]\s*\d+\s*号|^\S{1,12}\d+号$")
_ADDRESSEES = re.compile(
    r"^各.{2,300}[:：]$|^.{2,300}(?:主管部门|人民政府|有关单位)[:：]$|^to .{2,300}:$", re.I
)
_FORMULA = re.compile(
    r"现将|印发给你们|请结合实际|请认真贯彻|遵照执行|认真组织实施|贯彻落实。$|此件公开发布|"
    r"^附件|^\(?此页无正文|^抄送|\bhereby (?:issued|printed|distributed)",
    re.I,
)
_HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[章条节])")
_DATE_LABEL = re.compile(
    r"(?:发布时间|发布日期|成文日期|发文日期|印发日期|日期|时间|published|date)\s*[:：]\s*", re.I
)
_ZH_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月\s*(?P<d>3[01]|[12]\d|0?[1-9])\s*日"
    r"|(?P<y2>(?:19|20)\d{2})[-/.](?P<m2>1[0-2]|0?[1-9])[-/.](?P<d2>3[01]|[12]\d|0?[1-9])(?!\d)"
)
# "11月7日，工业和信息化部…", "新华社北京11月7日电": a dateline without its year.
_DATELINE = re.compile(
    r"^(?:\S{0,12}?(?:社|网|报)\S{0,6}?)?(?P<m>1[0-2]|0?[1-9])\s*月\s*(?P<d>3[01]|[12]\d|0?[1-9])"
    r"\s*日\s*(?:电|讯)?\s*[，,：:\s]"
)
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
_URL = re.compile(r"https?://[^\s<>\"'，。；）)]+")


def is_draft(*titles: str | None) -> bool:
    """Whether a title marks a draft for comments (征求意见稿, "Draft for Comments", "(Draft)")."""
    return any(t and (_CONSULTATION.search(t) or _DRAFT_ZH.search(t)) for t in titles)


def document_name(title: str) -> str:
    """A document's own name without its wrapping or draft marker: "关于印发《X》的通知" -> X,
    "公开征求对X（征求意见稿）的意见" -> X, "Notice on Issuing the X (Draft for Comments)" -> X."""
    text = " ".join(title.split())
    found = _NAME.search(text)
    if found:
        text = found["name"]
    else:
        wrapped = _TRANSMITTAL.match(text)
        if wrapped:
            text = wrapped["name"]
        english = _EN_ISSUING.search(text)
        if english:
            text = english["name"]
    text = _DRAFT_ZH.sub("", text)
    text = _DRAFT_EN.sub("", text) if _LATIN.search(text) else text
    return text.strip(" 　,，.。:：")


def looks_primary(text: str) -> bool:
    """Whether pasted or fetched text is a policy document itself (its headline names a
    notice, plan or opinions, or a 《》 document), rather than a tracker entry or a note."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 3:
        return False  # a chat message, however it names a document (handlers/message_brief)
    head = lines[0]
    if len(head) > 200 or head.endswith(("。", ".")):
        return False  # a sentence, not a headline
    if has_cjk(head):
        return bool(_NAME.search(head) or _DOCUMENT_WORDS_ZH.search(head)) or any(
            _ADDRESSEES.match(line) or _ISSUED_NAME.search(line) for line in lines[1:6]
        )
    return bool(_EN_HEADLINE.match(head)) and len(head.split()) >= 4


def _full_date(text: str) -> date | None:
    for m in _ZH_DATE.finditer(text):
        try:
            if m["y"]:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            return date(int(m["y2"]), int(m["m2"]), int(m["d2"]))
        except ValueError:
            continue
    return None


def _is_date_line(line: str) -> bool:
    return _ZH_DATE.fullmatch(line.strip(" 　")) is not None


_SENTENCE_MARKS = re.compile(r"[，。；：！？,;:!?《》]")


def _is_signed_date_line(line: str) -> bool:
    """A short line of names ending in a full date, with no sentence in it."""
    text = line.strip(" 　")
    found = list(_ZH_DATE.finditer(text))
    if not found or found[-1].end() != len(text):
        return False
    names = text[: found[-1].start()].strip(" 　")
    return 0 < len(names) <= 40 and not _SENTENCE_MARKS.search(names)


def _document_date(lines: list[str], page_date: date | None, warnings: list[str]) -> date | None:
    """The labelled date, the date under the signatures, a dateline (year from the page),
    an English date near the top, else the page's date."""
    for line in lines:
        label = _DATE_LABEL.match(line)
        if label:
            found = _full_date(line[label.end() :]) or parse_date(line[label.end() :])
            if found:
                return found
    for line in lines:
        if _is_date_line(line):
            return _full_date(line)
    for line in lines:  # the signature and its date on one line: "工业和信息化部 2024年11月7日"
        if _is_signed_date_line(line):
            return _full_date(line)
    for line in lines[:8]:
        dateline = _DATELINE.match(line)
        if dateline:
            month, day = int(dateline["m"]), int(dateline["d"])
            if page_date is None:
                warnings.append("a dateline without its year, and no page date to take it from")
                break
            try:
                return date(infer_year(month, page_date, day), month, day)
            except ValueError:
                break
    for line in lines[:6]:
        if not has_cjk(line):
            found = parse_date(line)
            if found:
                return found
    if page_date is not None:
        warnings.append("the date is the page's")
    return page_date


def _english_title(lines: list[str], chinese: bool) -> str | None:
    for line in lines[:8]:
        label = _EN_TITLE_LABEL.match(line)
        if label:
            return label["t"].strip()
    if not chinese:
        return None
    for line in lines[1:6]:  # an English line under a Chinese headline
        letters = len(_LATIN.findall(line))
        if letters >= 0.6 * len(line.replace(" ", "")) and len(line.split()) >= 4:
            return line.strip()
    return None


def _name_of(headline: str, lines: list[str]) -> str:
    """The document's name: the 《》 name of the headline, else the headline if it is a
    document's title, else the first 《》 name of the lead (a news page's headline)."""
    if _NAME.search(headline) or _TRANSMITTAL.match(headline):
        return _keep_draft_marker(headline)
    for line in lines[:6]:
        found = _ISSUED_NAME.search(line)
        if found and line != headline:
            return _keep_draft_marker(found[0])
    return headline


def _keep_draft_marker(headline: str) -> str:
    """The name, with "（征求意见稿）" kept when the headline marks the draft: a draft's
    title says it is one."""
    name = document_name(headline)
    if not is_draft(headline) or is_draft(name):
        return name
    return f"{name} (Draft for Comments)" if not has_cjk(name) else f"{name}（征求意见稿）"


def _lead(lines: list[str], skip: set[str]) -> str:
    """The first paragraph of substance: past the headline, the document number, the
    addressees, the transmittal formula, the signatures, dates and headings."""
    for line in lines:
        if line in skip or _DOC_NUMBER.search(line) or _ADDRESSEES.match(line):
            continue
        if _is_date_line(line) or _DATE_LABEL.match(line):
            continue
        if _FORMULA.search(line):
            # "… is hereby issued to you. By 2027, …": the formula goes, the rest may lead.
            line = "".join(
                s
                for s in (_SENTENCE.findall(line) if has_cjk(line) else sentences(line))
                if not _FORMULA.search(s)
            )
        if _HEADING.match(line) or len(line) < 20 or _URL.fullmatch(line):
            continue
        if bodies_named(line)[0] and len(line) <= 20:
            continue  # a signature
        dateline = _DATELINE.match(line)
        return _first_sentences(line[dateline.end() :] if dateline else line)
    return ""


def _first_sentences(paragraph: str) -> str:
    out = ""
    for sentence in _SENTENCE.findall(paragraph):
        if out and len(out) + len(sentence) > _SUMMARY_MAX:
            break
        out += sentence
    return (out or paragraph)[: _SUMMARY_MAX * 2].strip()


def _bodies(headline: str, lines: list[str]) -> tuple[list[str], bool]:
    """Bodies named in the headline, in the lead's subject (before 印发/发布…) and in the
    signature lines; not every ministry the text mentions."""
    parts = [headline]
    for line in lines[:8]:
        # A news lead names who issued the document: "…工业和信息化部等四部门联合印发《X》".
        issued = _ISSUER_LEAD.search(line)
        if issued and line != headline:
            parts.append(issued["subject"] or issued["en"])
            break
    parts += [
        line
        for line in lines
        if len(line) <= 24 and not _DOC_NUMBER.search(line) and bodies_named(line)[0]
    ]
    names: list[str] = []
    more = False
    for part in parts:
        found, counted = bodies_named(part)
        names += found
        more = more or counted
    names = list(dict.fromkeys(names))
    count = _group_count(headline)
    if count is not None and len(names) >= count:
        more = False  # 等四部门, and the four sign it
    return names, more


_GROUP = re.compile(r"等\s*(?P<n>[\d一二两三四五六七八九十]+)\s*个?(?:部门|部委|单位)")
_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)} | {"两": 2}


def _group_count(text: str) -> int | None:
    """How many bodies "等四部门" / "等10个部门" says issued it (None: no count)."""
    found = _GROUP.search(text)
    if found is None:
        return None
    n = found["n"]
    if n.isdigit():
        return int(n)
    if n == "十":
        return 10
    if n.startswith("十"):
        return 10 + _DIGITS.get(n[1:], 0)
    if n.endswith("十"):
        return 10 * _DIGITS.get(n[0], 0)
    if "十" in n:
        tens, ones = n.split("十", 1)
        return 10 * _DIGITS.get(tens, 0) + _DIGITS.get(ones, 0)
    return _DIGITS.get(n)


def _goals(body: str, published: date | None) -> list[GoalRecord]:
    goals: list[GoalRecord] = []
    seen: set[str] = set()
    for paragraph in body.splitlines():
        pieces = _SENTENCE.findall(paragraph) if has_cjk(paragraph) else sentences(paragraph)
        for sentence in pieces:
            for text, deadline in target_steps(sentence.strip(), published_on=published):
                if text not in seen:
                    seen.add(text)
                    goals.append(GoalRecord(text, deadline))
    return goals[:MAX_GOALS]


def read_primary(
    text: str,
    *,
    url: str | None = None,
    page_date: date | None = None,
    page_title: str | None = None,
    line: int = 1,
) -> BriefRecord:
    """The brief an analyst would write from a primary document's text."""
    lines = [" ".join(raw.split()) for raw in text.splitlines()]
    lines = [item for item in lines if item]
    headline = " ".join((page_title or "").split()) or (lines[0] if lines else "")
    warnings: list[str] = []
    chinese = has_cjk(headline) or has_cjk(text[:500])
    name = _name_of(headline, lines)
    english = _english_title(lines, chinese)
    if not chinese:
        english_name = _EN_ISSUING.search(headline)
        name = _keep_draft_marker(headline) if english_name else headline
    published = _document_date(lines, page_date, warnings)
    bodies, more = _bodies(headline, lines)
    skip = {headline, name, *(lines[:1])}
    if english:
        skip.add(english)
    summary = _lead(lines, skip)
    body_lines = [item for item in lines if item not in (headline, english)]
    goals = _goals("\n".join(body_lines), published)
    links = list(dict.fromkeys([*([url] if url else []), *_URL.findall(text)]))
    title, original = (english, name) if english else (name, None)
    if chinese and not english:
        warnings.append("the title is the document's Chinese name: add an English title")
    if name != headline:
        warnings.append(f"the title is the document's name, not the headline {headline!r}")
    if more:
        warnings.append(
            "more bodies issued it than are named (" + ", ".join(bodies) + " and others)"
        )
    elif not bodies:
        warnings.append("no issuing body named")
    if published is None:
        warnings.append("no date")
    record = BriefRecord(
        kind=BriefKind.POLICY,
        title=title[:300],
        title_original=original,
        line=line,
        bodies=bodies,
        bodies_more=more,
        published_on=published,
        summary=summary,
        links=official_first(links),
        goals=goals,
    )
    # Already split as an analyst would: the add-brief form must not re-split it as a
    # chat message (records.BriefRecord.labelled).
    record.labelled = True
    record.primary = True
    record.warnings += warnings
    return record
