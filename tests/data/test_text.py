"""Tests for data.ingest.text: decoding, line clean-up, bullets and joining wrapped lines."""

from __future__ import annotations

import pytest

from policybot.data.ingest.text import (
    BULLET_MARK,
    Line,
    ParseError,
    decode,
    has_cjk,
    join_paragraphs,
    join_wrapped,
    split_lines,
)


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (["Big Data Center", "System"], "Big Data Center System"),
        (
            ["关于印发《新材料大数据", "中心总体建设方案》的通知"],
            "关于印发《新材料大数据中心总体建设方案》的通知",
        ),
        (["行动方案（征求", "意见稿）"], "行动方案（征求意见稿）"),
        (["for the High-", "Quality Development"], "for the High-Quality Development"),
        (["30+ data", "nodes"], "30+ data nodes"),
        (["in 2027 -", "and beyond"], "in 2027 - and beyond"),  # a dash, not a wrapped word
        (["Circuits (", "关于集成电路)"], "Circuits (关于集成电路)"),
        (["the \u201c", "little giant\u201d program"], "the \u201clittle giant\u201d program"),
        (["the \u201clittle giant", "\u201d program"], "the \u201clittle giant\u201d program"),
        (["technologies", "\u2013 such as AI \u2013"], "technologies \u2013 such as AI \u2013"),
        (["the term 新质生产力", "is new"], "the term 新质生产力 is new"),
        (["  spaced  ", "", " out   words "], "spaced out words"),
        ([], ""),
    ],
)
def test_join_wrapped(parts: list[str], joined: str) -> None:
    assert join_wrapped(parts) == joined


def test_join_paragraphs_breaks_after_short_sentence_end() -> None:
    lines = [
        "The first paragraph runs over two lines that are both quite long, as",
        "PDF lines are. It ends here.",
        "The second paragraph starts on a new line and is long as well, like",
        "the first one.",
    ]
    assert join_paragraphs(lines) == (
        "The first paragraph runs over two lines that are both quite long, as PDF lines are. "
        "It ends here.\n\nThe second paragraph starts on a new line and is long as well, like "
        "the first one."
    )


def test_join_paragraphs_keeps_a_full_width_sentence_end_inside_the_paragraph() -> None:
    lines = [
        "A sentence ends at the very end of this full line of text, like this.",
        "So the paragraph goes on here.",
    ]
    assert "\n" not in join_paragraphs(lines)


def test_join_paragraphs_empty_string_is_a_known_break() -> None:
    lines = ["This line ends a long sentence but fills the whole width.", "", "Next."]
    assert join_paragraphs(lines) == (
        "This line ends a long sentence but fills the whole width.\n\nNext."
    )
    assert join_paragraphs([]) == "" and join_paragraphs(["", ""]) == ""


def test_join_paragraphs_lists() -> None:
    lines = [
        "Three points stand out:",
        BULLET_MARK + "first point",
        BULLET_MARK + "second point that wraps",
        "onto a second line",
        "",
        "A closing remark.",
    ]
    assert join_paragraphs(lines) == (
        "Three points stand out:\n\n\u2022 first point\n\u2022 second point that wraps onto a "
        "second line\n\nA closing remark."
    )


@pytest.mark.parametrize(
    ("raw", "text", "bullet"),
    [
        ("\uf0a1 October 29: The SAMR", "October 29: The SAMR", True),
        ("\uf0a7October 29: no space", "October 29: no space", True),
        ("\u2022 item", "item", True),
        ("\u25aa\titem", "item", True),
        ("- item", "item", True),
        ("* item", "item", True),
        ("1. item", "item", True),
        ("12) item", "item", True),
        ("(3) item", "item", True),
        ("\u2013 such as AI \u2013 being used", "\u2013 such as AI \u2013 being used", False),
        ("-5% growth", "-5% growth", False),
        ("2024 (六部门关于开展)", "2024 (六部门关于开展)", False),
        ("10.000 employees", "10.000 employees", False),
        ("   indented text   ", "indented text", False),
    ],
)
def test_split_lines_bullets(raw: str, text: str, bullet: bool) -> None:
    (line,) = split_lines(raw + "\n")
    assert (line.text, line.bullet) == (text, bullet)


def test_split_lines_numbers_skip_blanks_and_page_furniture() -> None:
    text = "first \n\n \n7\nPage 3 of 9\n- 4 -\nsecond\u00a0line\u200b\r\nthird\x0cfourth"
    assert [(line.number, line.text) for line in split_lines(text)] == [
        (1, "first"),
        (7, "second line"),
        (8, "third"),
        (9, "fourth"),
    ]


def test_split_lines_lone_bullet_glyph_marks_the_next_line() -> None:
    lines = split_lines("\uf0a1\n\nOctober 29: text\n\nplain\n")
    assert [(line.text, line.bullet) for line in lines] == [
        ("October 29: text", True),
        ("plain", False),
    ]


def test_split_lines_paragraph_ends_double_spaced() -> None:
    # Every line is followed by a blank line, so blank lines mean nothing; two trailing
    # spaces after a sentence end do.
    text = "a line \n\nends here.  \n\nnext line \n\nlast words  \n\nmore \n\n"
    assert [line.para_end for line in split_lines(text)] == [False, True, False, False, False]


def test_split_lines_paragraph_ends_single_spaced() -> None:
    text = "one\ntwo\n\nthree\nfour\n"
    assert [line.para_end for line in split_lines(text)] == [False, True, False, False]


def test_line_defaults() -> None:
    assert Line(1, "x", False).para_end is False


def test_has_cjk() -> None:
    assert has_cjk("Plan (计划)") and has_cjk("（") and not has_cjk("Plan (Draft)")


# -- decoding -----------------------------------------------------------------------------


def test_decode_utf8_with_and_without_bom() -> None:
    assert decode("China\u2019s 储能".encode(), "f.txt") == "China\u2019s 储能"
    assert decode("\ufeffChina".encode(), "f.txt") == "China"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_decode_utf16(encoding: str) -> None:
    text = "At a glance: 储能\nline two\n"
    raw = text.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    assert decode(raw, "f.txt") == text


def _error(raw: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        decode(raw, "issue.txt")
    assert str(info.value).startswith("issue.txt")
    return info.value


def test_decode_cp1252_names_the_line() -> None:
    error = _error("line one\nline two\nChina\u2019s plan\n".encode("cp1252"))
    assert error.line == 3
    assert "not UTF-8" in error.message and "0x92" in error.message
    assert str(error).startswith("issue.txt, line 3: ")


def test_decode_latin1_names_the_line() -> None:
    assert _error("ok\nM\u00fcnchen\n".encode("latin-1")).line == 2


def test_decode_binary_names_the_line_of_the_first_nul() -> None:
    error = _error(b"text\nmore\n\x00\x01\x02\x03binary")
    assert error.line == 3 and "binary" in error.message


def test_decode_control_characters_without_nul_are_binary() -> None:
    assert "binary" in _error(bytes(range(1, 32)) * 20).message


def test_decode_truncated_inside_a_character() -> None:
    raw = "first\n储能".encode()[:-1]
    error = _error(raw)
    assert error.line == 2 and "truncated" in error.message


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_decode_names_other_file_types(raw: bytes, what: str) -> None:
    assert what in _error(raw).message


def test_decode_mojibake_names_the_line() -> None:
    raw = "ok\nChina\u2019s plan\n".encode().decode("cp1252").encode()
    error = _error(raw)
    assert error.line == 2 and "mis-encoded" in error.message


def test_parse_error_without_line() -> None:
    error = ParseError("a.txt", None, "no briefs found")
    assert str(error) == "a.txt: no briefs found"
    assert (error.source, error.line, error.message) == ("a.txt", None, "no briefs found")
