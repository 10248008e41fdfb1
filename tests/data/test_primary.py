"""Primary documents read as an analyst would: generated families of Chinese notices, news
pages and English notices, pasted (the `add` path), as HTML pages and as PDFs."""

from __future__ import annotations

from datetime import date

import pytest

from policybot.data.ingest.deadlines import Precision, target_steps
from policybot.data.ingest.html import brief_from_html, main_text, read_page
from policybot.data.ingest.isolation import read_pdf_text
from policybot.data.ingest.primary import document_name, is_draft, looks_primary, read_primary
from policybot.data.ingest.records import BriefRecord
from policybot.data.ingest.single import parse_single_brief
from policybot.handlers.add_brief import form_from_text
from tests.data.primary_corpus import PrimaryDocument, Score, corpus, score
from tests.data.tracker_pdf import tracker_pdf

DOCUMENTS = corpus(120, seed=7)


def _score(document: PrimaryDocument, record: BriefRecord) -> Score:
    goals = [
        (g.text, g.deadline.due_on if g.deadline else None,
         g.deadline.window_start if g.deadline else None)
        for g in record.goals
    ]  # fmt: skip
    return score(document, record.title, record.bodies, goals)


def _check(document: PrimaryDocument, record: BriefRecord) -> None:
    found = _score(document, record)
    assert found.right == found.targets, (document.family, document.text, record.goals)
    assert found.false_targets == 0, (document.family, record.goals)
    assert record.title == document.name, document.text
    assert set(document.bodies) <= set(record.bodies), (document.text, record.bodies)
    assert record.bodies_more == document.more, document.text
    assert record.published_on == document.published_on, document.text
    assert is_draft(record.title) == document.draft


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=[f"{i}-{d.family}" for i, d in enumerate(DOCUMENTS)]
)
def test_pasted_documents_are_read_as_an_analyst_would(document: PrimaryDocument) -> None:
    assert looks_primary(document.text)
    _check(document, parse_single_brief(document.text))


def test_the_add_form_keeps_what_the_document_reader_read() -> None:
    document = next(d for d in DOCUMENTS if d.family.startswith("notice/counted"))
    form = form_from_text(document.text)
    assert form.title == document.name
    steps = [t for t in document.targets if "第" in t.marker]
    assert len(form.goals.splitlines()) == len(document.targets)
    assert len(steps) >= 2


def _html(document: PrimaryDocument) -> str:
    headline, *rest = document.text.splitlines()
    paragraphs = "".join(f"<p>{line}</p>" for line in rest if not line.startswith("发布时间"))
    return (
        f"<html><head><title>{headline}_政策文件_中国政府网</title>"
        f'<meta name="publishdate" content="{document.published_on.isoformat()}"></head><body>'
        '<div class="nav"><a href="/">首页</a> | <a href="/zc">政策</a> | <a href="/x">新闻</a></div>'
        f'<div class="article"><h1>{headline}</h1>{paragraphs}</div>'
        '<div class="footer">版权所有：中国政府网 | 京ICP备05070218号 | 联系我们 | 网站地图</div>'
        "</body></html>"
    )


HTML_DOCUMENTS = [d for d in DOCUMENTS if not d.family.startswith("english")][:24]


@pytest.mark.parametrize("document", HTML_DOCUMENTS, ids=[d.family for d in HTML_DOCUMENTS])
def test_chinese_html_pages_through_main_text(document: PrimaryDocument) -> None:
    url = "https://www.gov.cn/zhengce/zhengceku/202411/content_1.htm"
    html = _html(document)
    page = read_page(html, url)
    assert page.published_on == document.published_on
    text = main_text(html, url)
    assert "京ICP备" not in text and "网站地图" not in text  # the site's furniture is gone
    record = read_primary(text, url=url)
    _check(document, record)
    assert record.links[0] == url
    assert brief_from_html(html, url) == record


@pytest.mark.parametrize("document", HTML_DOCUMENTS[:8], ids=[d.family for d in HTML_DOCUMENTS[:8]])
def test_pdfs_of_the_same_documents(document: PrimaryDocument) -> None:
    pdf = tracker_pdf(document.text, footer=None, page_numbers=False, whole_cjk=True)
    text = read_pdf_text(pdf, "notice.pdf")
    _check(document, read_primary(text))


def test_the_issue_s_example_headline_and_bodies() -> None:
    text = (
        "工业和信息化部等四部门关于印发《新材料大数据体系建设行动方案》的通知\n"
        "各省、自治区、直辖市工业和信息化主管部门：\n"
        "现将《新材料大数据体系建设行动方案》印发给你们，请认真贯彻落实。\n"
        "2024年11月7日\n"
        "为加快构建新材料大数据体系，国家发展改革委会同有关部门制定本方案。\n"
        "到2025年，体系初步建成；到2030年，全面建成；到2035年，进入世界前列。\n"
        "2021-2025年，累计建成平台20个。"
    )
    record = parse_single_brief(text)
    assert record.title == "新材料大数据体系建设行动方案"
    assert record.bodies == ["MIIT"] and record.bodies_more
    assert record.published_on == date(2024, 11, 7)
    assert [g.deadline.due_on.year for g in record.goals if g.deadline] == [2025, 2030, 2035]
    assert record.summary.startswith("为加快构建")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("到2025年，A；到2035年，B。", [2025, 2035]),
        ("到2025年，A；到2030年，B；到2035年，C；到2050年，D。", [2025, 2030, 2035, 2050]),
        ("By 2025, A; by 2030, B.", [2025, 2030]),
        ("到建党一百年时，A；到新中国成立一百年时，B。", [2021, 2049]),
        ("到本世纪中叶，建成强国。", [2050]),
        ("比2023年下降10%。", []),
        ("“十四五”期间，产业增速保持在10%以上。", []),
        ("2021—2025年，累计建成平台20个。", []),
        ("本办法自2025年1月1日起施行。", []),
        ("有效期至2027年12月31日。", []),
        ("截至2023年底，已建成基站300万个。", []),
        ("庆祝建党一百周年。", []),
    ],
)
def test_target_steps(text: str, expected: list[int]) -> None:
    steps = target_steps(text, published_on=date(2024, 6, 1))
    assert [d.due_on.year for _, d in steps] == expected


def test_windows_have_their_start() -> None:
    for text in (
        "2025—2027年，每年培育企业。",
        "2025-2027年，每年培育企业。",
        "2025年至2027年，每年培育企业。",
    ):
        ((_, deadline),) = target_steps(text, published_on=date(2024, 6, 1))
        assert (deadline.precision, deadline.window_start, deadline.due_on) == (
            Precision.WINDOW, date(2025, 1, 1), date(2027, 12, 31)
        )  # fmt: skip


@pytest.mark.parametrize(
    ("title", "name", "draft"),
    [
        (
            "工业和信息化部等四部门关于印发《新材料大数据体系建设行动方案》的通知",
            "新材料大数据体系建设行动方案",
            False,
        ),
        (
            "公开征求对新型储能制造业高质量发展行动方案（征求意见稿）的意见",
            "新型储能制造业高质量发展行动方案",
            True,
        ),
        ("关于公开征求《数据安全管理办法》意见的通知", "数据安全管理办法", True),
        (
            "Action Plan for the New Energy Storage Industry (Draft for Comments)",
            "Action Plan for the New Energy Storage Industry",
            True,
        ),
        ("Notice on Issuing the Action Plan for X (Draft)", "Action Plan for X", True),
        ("Notice on Issuing the Action Plan for X", "Action Plan for X", False),
    ],
)
def test_document_names_and_drafts(title: str, name: str, draft: bool) -> None:
    assert document_name(title) == name
    assert is_draft(title) == draft


@pytest.mark.parametrize(
    "signature",
    [
        "工业和信息化部 2026年11月20日",
        "工业和信息化部、财政部　2026年11月20日",
        "国家发展改革委 国家能源局 2026-11-20",
    ],
)
def test_the_signature_and_its_date_on_one_line_date_the_document(signature: str) -> None:
    text = (
        "关于印发《新型储能制造业高质量发展行动方案》的通知\n\n"
        f"{signature}\n\n"
        "到2027年，新型储能制造业全链条国际竞争优势凸显。\n"
    )
    assert read_primary(text).published_on == date(2026, 11, 20)


def test_a_sentence_ending_in_a_date_is_not_a_signature() -> None:
    text = (
        "关于印发《新型储能制造业高质量发展行动方案》的通知\n\n"
        "方案自印发之日起施行，有效期至2030年12月31日\n\n"
        "到2027年，新型储能制造业全链条国际竞争优势凸显。\n"
    )
    assert read_primary(text).published_on is None
