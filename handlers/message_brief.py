"""An ordinary chat message read as a brief, the way a person would split it: the first line
or sentence is the title (cut at a clause when long), a Chinese name in 【】, 《》, （） or ( )
is the Chinese title, the rest is the summary, and the URLs are links, not words.

For messages without the tracker's labels (`Policy name:`, `Date:` ...); the labelled ones
go through the tracker parser as they are. Slack's own markup (`<https://x|label>`) is
turned into plain text by the bot before it gets here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_AUTO_TITLE = 150  # a title longer than this is cut at a clause (or a word)
MAX_CHINESE_TITLE = 60
MIN_CLAUSE_TITLE = 30  # ...but a clause shorter than this is no title
MAX_TITLE_LINE = 200
MAX_LABEL_WORDS = 5  # a line of links whose words are this few holds only their labels  # a first line up to this long, followed by more, is the title

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\uff08\uff09\uff0c\uff1b\u3010\u3011\u300a\u300b]+",
    re.I,
)
_URL_TRAIL = ".,;:!?)]}'\"\u2019\u201d"
# Words that only announce a link ("Read more at <url>", "原文链接：<url>"): they go with it.
_LINK_LEAD = re.compile(
    r"(?:\b(?:read more|more|full text|details|source|link|see|via|here)(?:\s+(?:at|here|in))?"
    r"\s*[:：]?\s*|(?:原文链接|原文|链接|详情|来源|全文)\s*[:：]?\s*)$",
    re.I,
)
# Chat openers that are not part of a title ("FYI", "Heads up:", "Shared by @ann:").
_OPENER = re.compile(
    r"^(?:(?:fyi|heads[- ]up|psa)\s*[:,!\-\u2013\u2014]?\s+"
    r"|(?:shared|posted|forwarded|sent)\s+by\s+@?[\w.\-]+\s*[:,\-\u2013\u2014]\s*"
    r"|(?:new|update|breaking|interesting|worth a read)\s*[:!\-\u2013\u2014]\s*)",
    re.I,
)
_EMPTY_BRACKETS = re.compile(r"\s*(?:\(\s*\)|（\s*）|\[\s*\]|【\s*】|<\s*>)")
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_LEADING_DATE = re.compile(
    r"^\s*[\[(【（]?\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    r"\s*[\])】）]?\s*(?:[:：|\-\u2013\u2014,，]\s*)?",
    re.I,
)
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Co|Corp|Inc|Ltd|No|Nos|Mr|Mrs|Ms|Dr|St|vs|approx|e\.g|i\.e|etc|Art|Sec|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))\.$"
)
_CLAUSE = re.compile(r"(?:[,;:]\s|\s[\u2013\u2014-]\s|[，；：、])")
# Bracket pairs that may hold a Chinese title, in the order they are looked for.
_BRACKETS = (("\u3010", "\u3011"), ("\u300a", "\u300b"), ("\uff08", "\uff09"), ("(", ")"))


# What is left of a sentence that only pointed at links ("Read more here and in the notice.").
_LINK_WORDS = frozenset(
    [
        "read",
        "more",
        "at",
        "and",
        "the",
        "notice",
        "here",
        "see",
        "link",
        "links",
        "full",
        "text",
        "details",
        "source",
        "via",
        "in",
        "on",
        "original",
        "article",
        "document",
        "website",
        "page",
        "for",
        "of",
        "this",
        "its",
    ]
)


def _is_husk(sentence: str) -> bool:
    words = re.findall(r"[a-z]+", sentence.lower())
    return bool(words) and set(words) <= _LINK_WORDS and not re.search(r"\d|[^\x00-\x7f]", sentence)


def _drop_link_husks(text: str) -> str:
    lines = []
    for line in text.splitlines():
        parts = re.split(r"(?<=[.!?])\s+", line)
        lines.append(" ".join(p for p in parts if not _is_husk(p)))
    return "\n".join(lines)


@dataclass(frozen=True)
class MessageBrief:
    title: str
    title_original: str
    summary: str
    links: tuple[str, ...]
    title_cut: bool  # the title is the start of a longer first sentence (kept in the summary)

    @property
    def goal_lines(self) -> list[str]:
        """Where goals are read: the title (unless the summary repeats it) and each line,
        Chinese sentences one by one (they need no space after their full stop)."""
        repeated = self.title_cut or self.title in self.summary or self.title == self.title_original
        lines = ([] if repeated else [self.title]) + self.summary.splitlines()
        return [
            s for line in lines for s in re.split(r"(?<=[\u3002\uff01\uff1f])", line) if s.strip()
        ]


def is_mostly_chinese(text: str) -> bool:
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(_LATIN_WORD.findall(text)) * 3


def _take_links(text: str) -> tuple[str, list[str]]:
    """The text without its URLs (and the words that announce them), and the URLs. A line
    after the first that held links and keeps only a few words (their labels: "MIIT notice
    · Reuters") goes with them."""
    links: list[str] = []
    kept: list[str] = []
    for line in text.splitlines():
        out: list[str] = []
        last = 0
        for match in _URL.finditer(line):
            url = match.group(0)
            stripped = url.rstrip(_URL_TRAIL)
            if url.endswith(")") and stripped.count("(") < url.count("("):  # a URL with ( )
                stripped = url.rstrip(_URL_TRAIL.replace(")", "")) or stripped
            out.append(_LINK_LEAD.sub("", line[last : match.start()]))
            out.append(url[len(stripped) :])  # the sentence's own full stop stays
            if stripped.lower().startswith("www."):
                stripped = "https://" + stripped
            if stripped not in links:
                links.append(stripped)
            last = match.end()
        out.append(line[last:])
        plain = re.sub(r"[ \t]+", " ", _EMPTY_BRACKETS.sub("", "".join(out))).strip()
        plain = re.sub(r"\s+([.,;:!?\u3002\uff0c\uff1b\uff1a\uff01\uff1f])", r"\1", plain)
        if not plain.strip(" .,;:-\u2013\u2014|\u00b7\u2022"):
            continue
        words = _LATIN_WORD.findall(plain)
        if (
            last
            and kept
            and len(words) <= MAX_LABEL_WORDS
            and not re.search(r"\d|[\u3400-\u9fff]", plain)
        ):
            continue  # only the links' labels are left
        kept.append(plain)
    return "\n".join(kept), links


def _first_sentence_end(text: str) -> int | None:
    """Where the first sentence ends (the index after its stop), or None: one sentence."""
    for match in re.finditer(r"[.!?]+[\"'\u201d\u2019)]?(?=\s|$)|[\u3002\uff01\uff1f]+", text):
        end = match.end()
        if end >= len(text.rstrip()):
            return None
        if match.group(0)[0] == "." and _ABBREVIATION.search(text[: match.start() + 1]):
            continue  # "U.S.", "No. 5", "Co."
        return end
    return None


def _cut_title(sentence: str) -> tuple[str, bool]:
    """A title of at most MAX_AUTO_TITLE characters (MAX_CHINESE_TITLE in Chinese, where
    a character says more): at the last clause break that leaves a real title, else at a
    word, with an ellipsis."""
    chinese = is_mostly_chinese(sentence)
    limit = MAX_CHINESE_TITLE if chinese else MAX_AUTO_TITLE
    if len(sentence) <= limit:
        return sentence, False
    head = sentence[:limit]
    shortest = MIN_CLAUSE_TITLE // 3 if chinese else MIN_CLAUSE_TITLE
    clauses = [m.start() for m in _CLAUSE.finditer(head) if m.start() >= shortest]
    if clauses:
        return head[: clauses[-1]].rstrip(), True
    space = head.rfind(" ")
    if space >= shortest:
        return head[:space].rstrip(" ,;:") + "\u2026", True
    return head[: limit - 1] + "\u2026", True


def _chinese_in_brackets(text: str) -> tuple[str, str, str] | None:
    """The first bracketed Chinese name: (its text, the bracketed span as written, the
    opening bracket). 【headline】 and 《document》 win over ( ) wherever they are."""
    found: list[tuple[int, str, str, str]] = []
    for opening, closing in _BRACKETS:
        pattern = (
            re.escape(opening)
            + "([^"
            + re.escape(opening + closing)
            + "]{2,120})"
            + re.escape(closing)
        )
        for match in re.finditer(pattern, text):
            inner = re.sub(r"^(?:[A-Za-z.]+\s+)+", "", match.group(1).strip())  # "see 名单"
            # ( ) and （ ） hold many short things (a body, a place): a title is longer.
            shortest = 6 if opening in ("(", "\uff08") else 2
            if len(_CJK.findall(inner)) >= shortest and is_mostly_chinese(inner):
                found.append((match.start(), inner, match.group(0), opening))
                break
    if not found:
        return None
    named = [f for f in found if f[3] in ("\u3010", "\u300a")]
    _, inner, span, opening = named[0] if named else min(found)
    return inner, span, opening


def _english_in_brackets(title: str) -> tuple[str, str] | None:
    """`国务院关于…的意见（Opinions on …）…` -> ("国务院关于…的意见", "Opinions on …")."""
    match = re.search(r"[(\uff08]([^()\uff08\uff09]{6,200})[)\uff09]", title)
    if match is None or len(_LATIN_WORD.findall(match.group(1))) < 2:
        return None
    if _CJK.search(match.group(1)) or not is_mostly_chinese(title.replace(match.group(0), "")):
        return None
    before = title[: match.start()]
    if named := re.search(r"\u300a([^\u300a\u300b]+)\u300b\s*$", before):  # 《name》（English）
        before = named.group(1)
    else:
        before = re.split(r"[\u3002\uff0c\uff1b\uff1a]", before)[-1]
    return before.strip(), match.group(1).strip()


_DOCUMENT = re.compile(
    r"(?:\u5173\u4e8e|\u300a)[^\uff0c\u3002\uff1b\u300a\u300b]{2,50}?"
    r"(?:\u6307\u5bfc\u610f\u89c1|\u5b9e\u65bd\u610f\u89c1|\u610f\u89c1|\u884c\u52a8\u65b9\u6848|\u65b9\u6848|\u901a\u77e5|\u529e\u6cd5|"
    r"\u89c4\u5212|\u8ba1\u5212|\u51b3\u5b9a|\u6761\u4f8b|\u89c4\u5b9a|\u6307\u5357|\u7eb2\u8981|\u63aa\u65bd|\u7ec6\u5219|\u516c\u544a)"
)


def _document_name(sentence: str) -> str:
    """The name of the document a Chinese sentence announces (关于…的实施意见), or ""."""
    found = _DOCUMENT.search(sentence)
    return found.group(0).lstrip("\u300a") if found else ""


def _tidy(title: str) -> str:
    title = title.strip().strip("\"'\u201c\u201d\u2018\u2019*_ ")
    return title.rstrip(" .,;:\u3002\uff0c\uff1b\uff1a-\u2013\u2014|")


def split_message(text: str) -> MessageBrief:
    """Title, Chinese title, summary and links of a message written for people."""
    plain, links = _take_links(text.strip())
    plain = _LEADING_DATE.sub("", plain, count=1).strip()
    plain = _OPENER.sub("", plain, count=1).strip()
    plain = _LEADING_DATE.sub("", plain, count=1).strip()  # "FYI 2024-11-07: ..."
    title_original = ""
    headline = re.match(r"^\u3010([^\u3010\u3011]{2,120})\u3011\s*", plain)
    if headline and _CJK.search(headline.group(1)):  # 【headline】 then the story
        title_original = headline.group(1).strip()
        plain = plain[headline.end() :].strip()
    lines = plain.splitlines()
    first = lines[0] if lines else ""
    cut = False
    if len(lines) > 1 and len(first) <= MAX_TITLE_LINE:
        sentence, rest = first, "\n".join(lines[1:])
    else:
        end = _first_sentence_end(plain)
        sentence = (plain if end is None else plain[:end]).replace("\n", " ")
        rest = plain[len(sentence) :] if end is not None else ""
    english = _english_in_brackets(sentence)
    if title_original and is_mostly_chinese(title_original + sentence):
        title, rest = title_original, plain  # a Chinese story under its 【headline】
    elif english is not None:
        # 中文标题（English title）: the Chinese before the brackets, the English inside.
        before, title = english
        if sentence.replace(before, "").replace(title, "").strip(" ()\uff08\uff09\u300a\u300b"):
            rest = plain  # the sentence says more than the two names: all of it is summary
        title_original = title_original or (before if len(before) <= MAX_CHINESE_TITLE else "")
    elif is_mostly_chinese(sentence) and (named := _document_name(sentence)):
        # 近日，…印发了关于…的实施意见，…: the document's name is the title.
        title, rest = named, plain
        title_original = title_original or named
    else:
        found = _chinese_in_brackets(sentence)
        if found is not None and found[2] in ("(", "\uff08") and not title_original:
            # English title (中文标题): the brackets hold its Chinese name.
            title_original = found[0]
            sentence, rest = sentence.replace(found[1], " "), rest.replace(found[1], " ")
        title, cut = _cut_title(re.sub(r"\s+([.,;:])", r"\1", sentence))
        if cut:
            rest = plain  # the whole first sentence stays in the summary
    if not title_original:
        found = _chinese_in_brackets(title) or _chinese_in_brackets(rest)
        if found is not None:
            title_original, span, opening = found
            if not is_mostly_chinese(title.replace(span, "")) and opening != "\u300a":
                title = title.replace(span, " ")  # the English title's translation
            if opening in ("(", "\uff08") and not is_mostly_chinese(rest.replace(span, "")):
                rest = rest.replace(span, " ")
    if not title_original and is_mostly_chinese(title):
        title_original = title
    title = _tidy(re.sub(r"\s+", " ", title))
    summary = "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in rest.splitlines())
    summary = re.sub(r" ([.,;:!?])", r"\1", summary)
    summary = _drop_link_husks(summary) if links else summary
    summary = re.sub(r"\n{3,}", "\n\n", summary).strip()
    return MessageBrief(title, _tidy(title_original), summary, tuple(links), cut)
