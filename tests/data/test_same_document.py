"""One document reached twice is one brief: its official text and a tracker's entry on it,
in either order, again and again; a draft for comments is linked to its final version."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.ingest.primary import read_primary
from policybot.data.ingest.records import IssueRecord
from policybot.data.ingest.same_document import provenance_lines
from policybot.data.ingest.single import single_issue
from policybot.data.ingest.writer import IngestSummary, IssueWriter, ingest_bytes
from policybot.data.models import Brief, BriefPart, Finalisation
from policybot.data.novelty import Novelty
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from tests.data.primary_corpus import PrimaryDocument, chinese_document

NOW = datetime(2024, 11, 20, 9, tzinfo=UTC)
Factory = sessionmaker[Session]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip


def _write(factory: Factory, issue: IssueRecord, raw: str) -> IngestSummary:
    with factory() as session, session.begin():
        digest = hashlib.sha256(raw.encode()).hexdigest()
        return IssueWriter(session, NOW).write(issue, digest, Novelty.NEW)


def _primary(factory: Factory, text: str, url: str | None = None) -> IngestSummary:
    record = read_primary(text, url=url)
    return _write(factory, single_issue(record, url or "page"), text + (url or ""))


def _tracker(factory: Factory, text: str) -> IngestSummary:
    with factory() as session, session.begin():
        return ingest_bytes(session, text.encode(), "tracker-2024-11.txt", NOW, Novelty.NEW)


def _count(factory: Factory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Brief)) or 0


def tracker_entry(document: PrimaryDocument, serial: int) -> str:
    """A tracker's entry on the document: English summary and title, the Chinese headline
    in brackets, an analyst's comment, a date a few days after the document's."""
    day = document.published_on
    return "\n".join(
        [
            f"At a glance: The ministries released plan number {serial} on industry. "
            "Important goals include:",
            f"\u2022 By {document.targets[0].due.year}, reach the first milestone",
            f"MERICS comment: Plan {serial} matters for foreign firms.",
            f"Article: Plan Number {serial} for Industry (关于印发《{document.name}》的通知) (Link)",
            "Issuing bodies: " + ", ".join(document.bodies),
            f"Date: {MONTHS[day.month - 1]} {day.day}, {day.year}",
            "",
        ]
    )


@pytest.mark.parametrize("primary_first", [True, False])
def test_a_document_and_its_tracker_entry_are_one_brief(
    factory: Factory, primary_first: bool
) -> None:
    rng = random.Random(5)
    documents = [chinese_document(rng, serial) for serial in range(6)]
    documents = [d for d in documents if not d.draft]
    steps: list[Callable[[], IngestSummary]] = []
    for serial, document in enumerate(documents):
        url = f"https://www.miit.gov.cn/zwgk/{serial}.html"
        primary = partial(_primary, factory, document.text, url)
        tracker = partial(_tracker, factory, tracker_entry(document, serial))
        steps += [primary, tracker] if primary_first else [tracker, primary]
    for step in steps:
        step()
    assert _count(factory) == len(documents)
    for step in steps:  # again: nothing new, nothing changed
        summary = step()
        assert summary.added == 0 and summary.updated == 0
    assert _count(factory) == len(documents)
    with factory() as session:
        for serial, document in enumerate(documents):
            brief = session.scalars(
                select(Brief).where(Brief.title_original == document.name)
            ).one()
            assert brief.title == f"Plan Number {serial} for Industry"
            assert brief.comment == f"Plan {serial} matters for foreign firms."
            assert brief.comment_author == "MERICS"
            assert brief.links[0] == f"https://www.miit.gov.cn/zwgk/{serial}.html"
            assert brief.published_on == document.published_on
            dues = sorted((g.due_on, g.window_start or g.due_on) for g in brief.goals if g.due_on)
            assert dues == sorted((t.due, t.window_start or t.due) for t in document.targets)
            (line,) = [p for p in provenance_lines(session, brief) if "Primary text" in p]
            assert "miit.gov.cn" in line and "MERICS comment" in line


def test_the_same_url_is_the_same_document(factory: Factory) -> None:
    rng = random.Random(9)
    document = chinese_document(rng, 3)
    url = "https://www.gov.cn/zhengce/content_1.htm"
    _primary(factory, document.text, url)
    # The same page again, its headline reworded: the URL says it is the same document.
    lines = document.text.splitlines()
    _primary(factory, "\n".join(["关于印发有关方案的通知", *lines[1:]]), url)
    assert _count(factory) == 1


def test_demo_briefs_join_their_documents_and_the_draft_its_final(
    factory: Factory, corpus: None
) -> None:
    before = _count(factory)
    # b1's official text: the same 《》 name, signed a day before the tracker's date.
    _primary(
        factory,
        "工业和信息化部 财政部 国家数据局关于印发《新材料大数据中心总体建设方案》的通知\n"
        "各省、自治区、直辖市工业和信息化主管部门：\n"
        "现将《新材料大数据中心总体建设方案》印发给你们，请认真贯彻落实。\n"
        "2024年10月29日\n"
        "为加快新材料大数据中心建设，制定本方案。\n"
        "到2027年，建成“1+N”新材料大数据中心体系；到2035年，体系全面运行，进入世界前列。",
        "https://www.gov.cn/zhengce/zhengceku/202410/content_6983916.htm",
    )
    assert _count(factory) == before
    # b2 is a draft for comments; its final version arrives, one target moved, one added.
    summary = _primary(
        factory,
        "工业和信息化部关于印发《新型储能制造业高质量发展行动方案》的通知\n"
        "各省、自治区、直辖市工业和信息化主管部门：\n"
        "现将《新型储能制造业高质量发展行动方案》印发给你们，请认真贯彻落实。\n"
        "2025年1月10日\n"
        "为推动新型储能制造业高质量发展，制定本方案。\n"
        "到2026年，培育3-5家百亿级企业；到2030年，产业规模全球领先。",
        "https://www.miit.gov.cn/zwgk/zcwj/2025/art_1.html",
    )
    assert summary.added == 1
    with factory() as session:
        draft = session.scalars(
            select(Brief).where(Brief.title.contains("Draft for Comments"))
        ).one()
        assert draft.draft and draft.final_id is not None
        final = session.get(Brief, draft.final_id)
        assert final is not None and final.title == "新型储能制造业高质量发展行动方案"
        (finalised,) = session.scalars(select(Finalisation)).all()
        assert (finalised.draft_id, finalised.final_id, finalised.planned_at) == (
            draft.id, final.id, None
        )  # fmt: skip
        assert any(c.startswith("added:") for c in finalised.changes)
        assert any(c.startswith("removed:") for c in finalised.changes)
        assert any(final.ref in line for line in provenance_lines(session, draft))
        assert any(draft.ref in line for line in provenance_lines(session, final))
        b1 = session.scalars(
            select(Brief).where(Brief.title_original.contains("新材料大数据中心"))
        ).one()
        assert b1.comment_author == "MERICS" and b1.published_on == date(2024, 10, 29)


def test_show_names_the_primary_text_the_coverage_and_the_final(
    factory: Factory, corpus: None
) -> None:
    _primary(
        factory,
        "工业和信息化部关于印发《新型储能制造业高质量发展行动方案》的通知\n"
        "各省、自治区、直辖市工业和信息化主管部门：\n"
        "现将《新型储能制造业高质量发展行动方案》印发给你们，请认真贯彻落实。\n"
        "2025年1月10日\n"
        "到2027年，培育3-5家百亿级企业。",
        "https://www.miit.gov.cn/zwgk/zcwj/2025/art_1.html",
    )
    with factory() as session:
        draft = session.scalars(select(Brief).where(Brief.draft.is_(True))).one()
        ref, final_id = draft.ref, draft.final_id
    shown = render_text(CommandRunner(factory).run(f"show {ref}", Context(now=NOW)))
    assert f"final version: b{final_id}" in shown
    shown = render_text(CommandRunner(factory).run(f"show b{final_id}", Context(now=NOW)))
    assert f"Final version of the draft {ref}" in shown


def test_briefs_stored_before_the_keys_are_found_too(factory: Factory, corpus: None) -> None:
    """Briefs stored before migration 0018 have no key and no parts: they get their keys on
    the next write, and count as a tracker's entries."""
    with factory() as session, session.begin():
        session.execute(delete(BriefPart))
        session.execute(update(Brief).values(document_key=None, document_url=None, draft=False))
    before = _count(factory)
    _primary(
        factory,
        "工业和信息化部等三部门关于印发《新材料大数据中心总体建设方案》的通知\n"
        "各省、自治区、直辖市工业和信息化主管部门：\n"
        "现将《新材料大数据中心总体建设方案》印发给你们，请认真贯彻落实。\n"
        "2024年10月29日\n"
        "到2027年，建成新材料大数据中心体系。",
        "https://www.miit.gov.cn/zwgk/b1.html",
    )
    assert _count(factory) == before
    with factory() as session:
        assert session.scalar(select(func.count()).where(Brief.document_key.is_(None))) == 0
        b1 = session.scalars(select(Brief).where(Brief.title_original.contains("新材料"))).one()
        assert (
            b1.comment_author == "MERICS" and b1.links[0] == "https://www.miit.gov.cn/zwgk/b1.html"
        )
        assert session.scalar(select(Brief.draft).where(Brief.title.contains("Draft for"))) is True
