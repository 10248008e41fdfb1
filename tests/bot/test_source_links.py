"""Source means the official document. A tracker PDF links it from the "(Link)" after each
title, a link annotation printed nowhere in the text: it is read, placed on the brief whose
text it sits in, and ranked first as the Source, official government sites (gov.cn and its
ministries, other governments' domains) ahead of background reading, which `show` lists as
Coverage (text and Block Kit). Both engines where the store is used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.blocks import render_blocks
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief, BriefKind
from policybot.data.sources import is_official, official_first
from policybot.handlers.briefs import show
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.request import Request
from tests.bot.test_blocks import assert_valid_message, links, texts
from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import tracker_pdf

NOW = datetime(2024, 12, 2, 9, 0, tzinfo=UTC)  # the demo issue's own month: news
# What the five "(Link)" markers of the demo issue point to, in order (the official texts).
OFFICIAL = [
    "https://www.gov.cn/zhengce/zhengceku/202410/content_6983916.htm",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/zh/art/2024/art_storage.html",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_gradient.html",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_biomanufacturing.html",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_advanced.html",
]


@pytest.mark.parametrize(
    ("url", "official"),
    [
        ("https://www.gov.cn/zhengce/content_1.htm", True),
        ("https://www.miit.gov.cn/a.html", True),
        ("http://english.www.gov.cn/policies/x.html", True),
        ("https://web.archive.org/web/2024/https:/www.ndrc.gov.cn/x.html", True),
        ("https://www.commerce.gov/news", True),
        ("https://www.gov.uk/government/x", True),
        ("https://www.meti.go.jp/english/", True),
        ("https://www.legifrance.gouv.fr/x", True),
        ("https://eur-lex.europa.eu/legal-content/EN/TXT/", True),
        ("https://www.dof.gob.mx/x", True),
        ("https://www.ess-news.com/2024/10/11/x/", False),
        ("https://www.alcimed.com/en/insights/ai-materials/", False),
        ("https://www.news.cn/politics/x.htm", False),  # state media, not the document
        ("https://gov.com/x", False),
        ("https://archive.is/TB4nm", False),
        ("not a url", False),
    ],
)
def test_official_sites_are_a_family_of_domains(url: str, official: bool) -> None:
    assert is_official(url) is official


def test_official_first_keeps_each_groups_order() -> None:
    found = official_first(["https://a.com/1", "https://x.gov.cn/1", "https://b.com/2"])
    assert found == ["https://x.gov.cn/1", "https://a.com/1", "https://b.com/2"]


@pytest.mark.parametrize("whole_cjk", [True, False], ids=["embedded-runs", "single-glyph-runs"])
def test_link_annotations_give_each_policy_its_official_document(whole_cjk: bool) -> None:
    text = DEMO.read_text("utf-8")
    issue = parse_bytes(tracker_pdf(text, link_urls=OFFICIAL, whole_cjk=whole_cjk), "d.pdf")
    assert [b.links[0] for b in issue.policy_briefs] == OFFICIAL
    # Placed on the brief whose text holds its "(Link)", not on a neighbour or a news item.
    for index, brief in enumerate(issue.policy_briefs):
        others = OFFICIAL[:index] + OFFICIAL[index + 1 :]
        assert not set(brief.links) & set(others)
    assert not any(set(n.links) & set(OFFICIAL) for n in issue.news)
    # The text's own links stay, after the official ones.
    text_only = parse_bytes(DEMO.read_bytes(), DEMO.name)
    for pdf_brief, text_brief in zip(issue.policy_briefs, text_only.policy_briefs, strict=True):
        assert pdf_brief.links[1:] == [u for u in text_brief.links if u != pdf_brief.links[0]]


def test_a_link_printed_nowhere_is_the_briefs_only_link() -> None:
    text = (
        "At a glance: MIIT issued guidelines on humanoid robots. Key goals include:\n\n"
        "\uf0a1 到2027年，人形机器人产业规模显著扩大\n\n"
        "Article: Guidelines on Humanoid Robots (人形机器人创新发展指导意见) (Link)\n\n"
        "Issuing body: MIIT\n\n"
        "Date: November 2, 2024\n"
    )
    url = "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_robots.html"
    plain = parse_bytes(tracker_pdf(text), "robots.pdf")
    assert plain.briefs[0].links == []  # without the annotation: no link at all
    linked = parse_bytes(tracker_pdf(text, link_urls=[url]), "robots.pdf")
    assert linked.briefs[0].links == [url]


def test_the_demo_text_ranks_its_printed_official_links_first() -> None:
    """The demo TEXT lacks the annotations: three of its five policies print an official
    link (archived gov.cn, miit.gov.cn), which becomes the Source; two print none."""
    issue = parse_bytes(DEMO.read_bytes(), DEMO.name)
    sources = [b.links[0] for b in issue.policy_briefs]
    assert [is_official(s) for s in sources] == [True, False, False, True, True]
    assert "gov.cn/zhengce" in sources[0] and "miit.gov.cn" in sources[3]


def test_show_has_the_official_source_button_and_the_rest_as_coverage(
    factory: sessionmaker[Session],
) -> None:
    raw = tracker_pdf(DEMO.read_text("utf-8"), link_urls=OFFICIAL)
    with factory() as session, session.begin():
        ingest_bytes(session, raw, "tracker-2024-11.pdf", NOW)
    ctx = Context(now=NOW, team_id="T1", channel_id="C1", user_id="U1")
    with factory() as session:
        policies = session.scalars(
            select(Brief).where(Brief.kind == BriefKind.POLICY).order_by(Brief.id)
        ).all()
        assert [b.links[0] for b in policies] == OFFICIAL  # stored official first
        storage = policies[1]  # its text prints only coverage (ess-news.com first)
        reply = show(Request(session, ctx, storage.ref))
    payload = render_blocks(reply)
    assert_valid_message(payload)
    assert links(payload) == [OFFICIAL[1]]  # the Source button
    body = texts(payload)
    assert "*Coverage*" in body and "ess-news.com" in body
    assert OFFICIAL[1] not in body  # the button, not repeated in the list
    text = render_text(reply)
    assert f"Source: {OFFICIAL[1]}" in text
    coverage = text.split("Coverage:", 1)[1]
    assert "ess-news.com" in coverage and OFFICIAL[1] not in coverage
