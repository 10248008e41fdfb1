"""Text clean-up for PDF-extracted tracker issues: decoding, bullets, joining wrapped lines."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache


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
    # The line ends a paragraph: a blank line follows it in a single-spaced file, or it
    # ends a sentence with two trailing spaces (how PDF extractors mark a block's end).
    para_end: bool = False


# Private-use glyphs (Wingdings/Symbol bullets such as U+F0A1) and bullet characters mark a
# list item even when no space follows them; "-"/"*" and list numbers ("1.", "2)", "(3)")
# only with a space; en and em dashes only before a capital or a digit (see below).
_BULLET = re.compile(
    r"^\s*(?:[\ue000-\uf8ff\u2022\u25cf\u25aa\u25a0\u25a1\u25e6\u25cb\u25ba\u25b6\u2023\u2043"
    r"\u2219\u00b7\u27a2\u27a4\u2794\u2713\u2714\u2756\ufffd]\s*"
    r"|(?:[-*]|\(?\d{1,2}[.)])\s+"
    # An en or em dash opens a list item before a capital or a digit ("– December 30: ...");
    # before a small letter it continues a wrapped sentence ("– such as AI – being ...").
    r"|[\u2013\u2014]\s+(?=[A-Z0-9\u4e00-\u9fff]))"
)
_CJK = (
    r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
# "3", "Page 3", "3 / 12", "- 3 -": page furniture, not text.
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?\d{1,3}(?:\s*(?:/|of)\s*\d{1,3})?$|^[-\u2013]\s*\d{1,3}\s*[-\u2013]$", re.I
)
# Opening brackets and quotes take no space after them, closing ones none before them.
_NO_SPACE_AFTER = ("(", "[", "\u201c", "\u2018", "/")
_NO_SPACE_BEFORE = (")", "]", "\u201d", "\u2019", ",", ";", ":", ".", "!", "?", "/")
_SENTENCE_ENDS = (".", "!", "?", ".\u201d", "\u3002", ".)", ".'", '."')

# Files that are something else than extracted text: name them instead of failing on bytes.
_MAGIC = {
    b"%PDF-": "a PDF file; extract its text first (e.g. `pdftotext -layout`)",
    b"PK\x03\x04": "a ZIP archive (perhaps a .docx); save or extract it as UTF-8 text",
    b"\xd0\xcf\x11\xe0": "an old Office document; save or extract it as UTF-8 text",
    b"\x1f\x8b": "a gzip archive, not a text tracker issue",
    b"{\\rtf": "an RTF document; save it as UTF-8 plain text",
}
# UTF-8 text that was decoded as CP1252 once and encoded again ("Chinaâ€™s").
_MOJIBAKE = re.compile(
    "\u00e2\u20ac|\u00c3[\u0080-\u00bf\u00a9\u00a8\u00b6\u2018-\u201e\u2020\u2021\u2026\u2122]"
    "|\u00c2[\u00a0-\u00bf]"
)


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _looks_like_utf16(raw: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    sample = raw[:4000]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode(raw: bytes, source: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16; anything else fails clearly."""
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise ParseError(source, 1, f"this is {what}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_utf16(raw, source, "utf-16")
    encoding = _looks_like_utf16(raw)
    if encoding is not None:
        return _decode_utf16(raw, source, encoding)
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ParseError(
            source, _line_of(raw, nul), "this looks like a binary file, not a text tracker issue"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        truncated = exc.end == len(raw) and "unexpected end" in exc.reason
        message = (
            "the file ends inside a UTF-8 character; it looks truncated"
            if truncated
            else f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save or extract it as UTF-8"
        )
        raise ParseError(source, _line_of(raw, exc.start), message) from exc
    _check_text(text, source)
    return text


def _decode_utf16(raw: bytes, source: str, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        raise ParseError(source, line, f"invalid UTF-16 text ({exc.reason})") from exc
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ParseError(source, line, "this looks like a binary file, not a text tracker issue")
    _check_text(text, source)
    return text


def _check_text(text: str, source: str) -> None:
    controls = len(_CONTROLS.findall(text))
    if controls > max(8, len(text) // 100):
        raise ParseError(source, None, "this looks like a binary file, not a text tracker issue")
    match = _MOJIBAKE.search(text)
    if match:
        raise ParseError(
            source,
            text.count("\n", 0, match.start()) + 1,
            f"the text is mis-encoded ({match.group()!r}: UTF-8 read as Windows-1252); "
            "extract it again as UTF-8",
        )


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


@cache
def _invisible_characters() -> re.Pattern[str]:
    """Control and format characters (categories Cc, Cf) except tab: PDF extraction leaves
    them in, and they mean nothing to a reader. One regex instead of a per-character test."""
    bmp = (
        chr(c) for c in range(0x10000) if c != 9 and unicodedata.category(chr(c)) in ("Cc", "Cf")
    )
    astral = (
        "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
        "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    )
    return re.compile("[" + "".join(re.escape(c) for c in bmp) + astral + "]")


def _is_double_spaced(raws: list[str]) -> bool:
    """Whether every line is followed by a blank one (then blank lines mean nothing)."""
    filled = [i for i, raw in enumerate(raws) if raw.strip()]
    if len(filled) < 4:
        return False
    followed = sum(1 for i in filled if i + 1 < len(raws) and not raws[i + 1].strip())
    return followed > 0.6 * len(filled)


def split_lines(text: str) -> list[Line]:
    """Non-blank lines, normalised, with the paragraph ends that the layout still shows."""
    invisible = _invisible_characters()
    raws = [
        unicodedata.normalize("NFC", invisible.sub("", raw))
        .replace("\u00a0", " ")
        .replace("\u3000", " ")
        for raw in text.splitlines()
    ]
    blank_breaks = not _is_double_spaced(raws)
    lines: list[Line] = []
    lone_bullet = False  # a bullet glyph alone on its line marks the next line
    for index, raw in enumerate(raws):
        cleaned = raw.rstrip()
        if not cleaned.strip() or _PAGE_NUMBER.match(cleaned.strip()):
            continue
        trailing = len(raw) - len(cleaned)
        para_end = trailing >= 2 and cleaned.endswith(_SENTENCE_ENDS)
        if blank_breaks and index + 1 < len(raws) and not raws[index + 1].strip():
            para_end = True
        match = _BULLET.match(cleaned)
        if match and not cleaned[match.end() :].strip():
            lone_bullet = True
            continue
        text = cleaned[match.end() :] if match else cleaned
        lines.append(Line(index + 1, text.strip(), bool(match) or lone_bullet, para_end))
        lone_bullet = False
    return lines


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def join_wrapped(parts: list[str]) -> str:
    """Join lines wrapped by the PDF layout: no space between CJK characters, after a
    hyphen that ends a line inside a compound ("high-" + "quality") or inside brackets
    and quotes; one space otherwise."""
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if not out:
            out = part
        elif (
            (_CJK_CHAR.match(out[-1]) and _CJK_CHAR.match(part[0]))
            or (out.endswith("-") and len(out) > 1 and out[-2].isalpha() and part[0].isalpha())
            or out.endswith(_NO_SPACE_AFTER)
            or part.startswith(_NO_SPACE_BEFORE)
        ):
            out += part
        else:
            out += " " + part
    return re.sub(r"[ \t]{2,}", " ", out)


BULLET_MARK = "\u2022 "


def join_paragraphs(lines: list[str]) -> str:
    """Join a section's lines into paragraphs separated by a blank line.

    An empty string in `lines` is a known paragraph break. Otherwise PDF extraction has
    lost the breaks; a line that ends a sentence and is clearly shorter than the section's
    full lines was most likely the last line of a paragraph. A line starting with
    BULLET_MARK is a list item; items of one list are separated by a single newline.
    """
    texts = [line.rstrip() for line in lines]
    if not any(texts):
        return ""
    width = max(len(text) for text in texts)
    blocks: list[list[str]] = [[]]
    for index, text in enumerate(texts):
        if not text:
            blocks.append([])
            continue
        if text.startswith(BULLET_MARK) and blocks[-1]:
            blocks.append([])
        blocks[-1].append(text)
        is_last = index == len(texts) - 1
        if not is_last and text.endswith(_SENTENCE_ENDS) and len(text) < 0.82 * width:
            blocks.append([])
    out = ""
    previous_item = False
    for block in blocks:
        if not block:
            continue
        item = block[0].startswith(BULLET_MARK)
        joined = join_wrapped(block)
        if out:
            out += "\n" if item and previous_item else "\n\n"
        out += joined
        previous_item = item
    return out
