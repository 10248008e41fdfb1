"""`deadlines chart` and `scorecard chart`: PNGs that decode, alt text that names the counts,
the biggest bodies plus "others", Chinese names drawable without a CJK font, and a sentence
(no image) for an empty answer."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.console import ConsoleSession
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.novelty import Novelty
from policybot.handlers import charts, drawing
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.replies import Reply
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("corpus")

GREEK = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa")


def tracker(bodies: list[tuple[str, int]], word: str = "lanthanide") -> bytes:
    """One brief per body, each with `goals` targets due in successive years from 2028."""
    parts = []
    for n, (body, goals) in enumerate(bodies, start=1):
        targets = "\n\n".join(
            f"\uf0a1 By {2028 + g}, reach {word} target {n}-{g}" for g in range(goals)
        )
        parts.append(
            f"At a glance: A plan about {word} number {n}. Key goals include:\n\n{targets}\n\n"
            f"MERICS comment: A comment about {word}.\n\n"
            f"Article: Plan on {word} {n} (Link)\n\n"
            f"Issuing body: {body}\n\n"
            f"Date: November 2, 2026\n\n"
            f"https://example.org/{word}/{n}\n"
        )
    return "\n\n".join(parts).encode()


def ingest(factory: sessionmaker[Session], raw: bytes, name: str) -> None:
    with factory() as session, session.begin():
        ingest_bytes(session, raw, name, NOW, Novelty.NEW)


def run(factory: sessionmaker[Session], text: str, days: int = 0) -> Reply:
    return CommandRunner(factory).run(text, Context(now=NOW + timedelta(days=days), team_id="T1"))


def png_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG"
        image.verify()
        return image.size


def per_body(alt: str) -> dict[str, int]:
    """`MIIT 7, MOF 2` after the colon of a timeline's alt text -> {name: count}."""
    listed = alt.split(": ", 1)[1].split(".")[0]
    return {
        m.group(1).strip(): int(m.group(2)) for m in re.finditer(r"([^,]+?) (\d+)(?:,|$)", listed)
    }


def test_timeline_of_the_demo_deadlines(factory: sessionmaker[Session]) -> None:
    reply = run(factory, "deadlines chart")
    assert reply.attachment is not None
    assert reply.attachment.mime == "image/png"
    width, height = png_size(reply.attachment.content)
    assert 600 <= width <= 2000 and 250 <= height <= 1500
    alt = reply.attachment.alt_text
    # Seven targets; the joint MIIT/MOF/NDB brief counts for each of its bodies.
    assert alt.startswith("Timeline of 7 upcoming targets, due 31 Dec 2027 to 31 Dec 2035")
    assert per_body(alt) == {"MIIT": 7, "MOF": 2, "NDB": 2}
    assert "counts for each of its bodies" in alt
    assert len(alt) <= charts.MAX_ALT_TEXT
    assert reply.text.endswith(f"({charts.TIMELINE_FILE})")


def test_words_and_window_narrow_the_timeline(factory: sessionmaker[Session]) -> None:
    reply = run(factory, "deadlines chart within 24m storage")
    assert reply.attachment is not None
    assert reply.text.startswith("Timeline of 3 upcoming targets in the next 24 months for storage")
    assert sum(per_body(reply.attachment.alt_text).values()) >= 3


def test_many_bodies_are_the_biggest_plus_others(factory: sessionmaker[Session]) -> None:
    bodies = [(f"{name} Office", goals) for name, goals in zip(GREEK, range(1, 11), strict=True)]
    ingest(factory, tracker(bodies), "greek.txt")
    reply = run(factory, "deadlines chart lanthanide")
    assert reply.attachment is not None
    counts = per_body(reply.attachment.alt_text)
    kept = charts.MAX_ROWS - 1
    biggest = sorted(bodies, key=lambda b: -b[1])[:kept]
    assert {name: goals for name, goals in biggest}.items() <= counts.items()
    rest = len(bodies) - kept
    assert counts[f"others ({rest} bodies)"] == sum(g for _, g in bodies) - sum(
        g for _, g in biggest
    )
    assert len(counts) == charts.MAX_ROWS
    # More points than can carry readable labels: drawn without them, still a sane PNG.
    assert sum(g for _, g in bodies) > charts.MAX_LABELLED_POINTS
    width, height = png_size(reply.attachment.content)
    assert height <= 1500


def test_chinese_body_names_are_drawn_or_replaced(factory: sessionmaker[Session]) -> None:
    """Without a CJK font no glyph is missing (pytest turns matplotlib's warning into an
    error); a known Chinese alias is drawn by its English abbreviation."""
    ingest(
        factory,
        tracker([("宁德市人民政府", 2), ("中华人民共和国海关总署", 1)], "gallium"),
        "cn.txt",
    )
    reply = run(factory, "deadlines chart gallium")
    assert reply.attachment is not None
    png_size(reply.attachment.content)
    assert per_body(reply.attachment.alt_text) == {"宁德市人民政府": 2, "中华人民共和国海关总署": 1}
    assert charts._english_name("工信部", "") == "MIIT"
    assert charts._english_name("宁德市人民政府", "Ningde Municipal Government") == (
        "Ningde Municipal Government"
    )
    assert drawing.drawable("宁德市人民政府", "", None) == "(name in Chinese)"
    assert drawing.drawable("储能 plan", "", None) == "plan"
    assert drawing.drawable("储能", "", "Noto Sans CJK SC") == "储能"


def test_no_deadlines_is_a_sentence_not_an_image(factory: sessionmaker[Session]) -> None:
    reply = run(factory, "deadlines chart nosuchword")
    assert reply.attachment is None
    assert reply.text == "No deadlines ahead for nosuchword to chart."


def test_scorecard_chart_counts_answers_per_body(factory: sessionmaker[Session]) -> None:
    later = (date(2036, 6, 1) - NOW.date()).days  # every demo target has passed
    sheet = run(factory, "deadlines csv").attachment
    assert sheet is not None
    ids = [m.group(1) for m in re.finditer(r"\b(g\d+)\b", sheet.content.decode())]
    run(factory, f"status {ids[0]} met", later)
    run(factory, f"status {ids[1]} missed", later)
    text_reply = run(factory, "scorecard", later)
    reply = run(factory, "scorecard chart", later)
    assert reply.attachment is not None
    png_size(reply.attachment.content)
    alt = reply.attachment.alt_text
    assert alt.startswith("Bar chart of ")
    # The picture's counts are the text scorecard's.
    (by_body,) = [s for s in text_reply.sections if s.title == "By issuing body"]
    for line in by_body.lines:
        body, counts = str(line).split(": ", 1)
        assert f"{body}: {counts}" in alt
    assert "1 met" in reply.text and "1 missed" in reply.text


def test_scorecard_chart_with_nothing_scored(factory: sessionmaker[Session]) -> None:
    reply = run(factory, "scorecard chart lanthanide")
    assert reply.attachment is None
    assert reply.text.startswith("No targets for lanthanide to chart yet")


def test_console_saves_the_png_and_says_where(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    console = ConsoleSession(CommandRunner(factory), lambda: NOW, directory=tmp_path)
    said = console.handle("/policy deadlines chart")
    saved = tmp_path / charts.TIMELINE_FILE
    assert f"Saved to {saved.resolve()}" in said
    png_size(saved.read_bytes())
