"""Text clean-up for PDF-extracted tracker issues: decoding, bullets, joining wrapped lines."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


class ParseError(ValueError):
    """A tracker file that cannot be ingested; names the file and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line number in the file
    text: str  # trailing white space removed, bullet glyph removed
    bullet: bool  # the line started with a bullet glyph or list number


# Private-use glyphs (Wingdings/Symbol bullets such as U+F0A1), common bullet characters,
# "-"/"*" and list numbers ("1.", "2)", "(3)") mark a list item. An en dash does not: in
# PDF text it usually opens a wrapped line ("– such as AI – being implemented ...").
_BULLET = re.compile(
    r"^\s*(?:[\ue000-\uf8ff\u2022\u25cf\u25aa\u25a0\u25e6\u2023\u2043\u2219\u00b7\u27a2\-\*]"
    r"|\(?\d{1,2}[.)](?=\s))\s+"
)
_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{_CJK}]")


def decode(raw: bytes, source: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else fails."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(source, None, f"invalid UTF-16 text ({exc.reason})") from exc
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ParseError(source, line, "this looks like a binary file, not a text tracker issue")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ParseError(
            source, line, "the file is not UTF-8 text; save or extract it as UTF-8"
        ) from exc


def split_lines(text: str) -> list[Line]:
    """Non-blank lines, normalised. Blank lines carry no meaning in PDF extractions."""
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        cleaned = "".join(
            ch for ch in raw if ch == "\t" or unicodedata.category(ch) not in ("Cc", "Cf")
        )
        cleaned = unicodedata.normalize("NFC", cleaned).replace("\u00a0", " ").rstrip()
        if not cleaned.strip():
            continue
        match = _BULLET.match(cleaned)
        if match:
            lines.append(Line(number, cleaned[match.end() :].strip(), True))
        else:
            lines.append(Line(number, cleaned.strip(), False))
    return lines


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def join_wrapped(parts: list[str]) -> str:
    """Join lines wrapped by the PDF layout: no space between CJK characters or after a
    hyphen that ends a line inside a compound ("high-" + "quality"), one space otherwise."""
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if not out:
            out = part
        elif _CJK_CHAR.match(out[-1]) and _CJK_CHAR.match(part[0]):
            out += part
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and part[0].isalpha():
            out += part
        else:
            out += " " + part
    return re.sub(r"[ \t]{2,}", " ", out)


def join_paragraphs(lines: list[str]) -> str:
    """Join a section's lines into paragraphs separated by a blank line.

    PDF extraction loses paragraph breaks; a line that ends a sentence and is clearly
    shorter than the section's full lines was most likely the last line of a paragraph.
    """
    if not lines:
        return ""
    width = max(len(line.rstrip()) for line in lines)
    paragraphs: list[list[str]] = [[]]
    for index, line in enumerate(lines):
        paragraphs[-1].append(line)
        stripped = line.rstrip()
        is_last = index == len(lines) - 1
        ends_sentence = stripped.endswith((".", "!", "?", ".\u201d", "\u3002"))
        if not is_last and ends_sentence and len(stripped) < 0.82 * width:
            paragraphs.append([])
    return "\n\n".join(join_wrapped(p) for p in paragraphs if p)
