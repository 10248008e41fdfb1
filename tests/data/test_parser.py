"""Tests for data.ingest.parser: the demo corpus field by field, and the family of formats.

Expected values were written by reading the corpus file (`cat -A`), not by copying the
parser's output, so that a parser bug shows up as a failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from policybot.data.bodies import split_body_names
from policybot.data.ingest.deadlines import Precision
from policybot.data.ingest.parser import parse_bytes, parse_file, parse_text, split_title
from policybot.data.ingest.records import BriefRecord, IssueRecord
from policybot.data.ingest.text import ParseError

DEMO = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "corpus"
    / ("china-industrial-policy-tracker-2024-11.txt")
)

Due = tuple[date, Precision, date | None] | None


def Y(year: int) -> Due:
    return date(year, 12, 31), Precision.YEAR, None


def due(record: BriefRecord) -> list[Due]:
    return [
        (g.deadline.due_on, g.deadline.precision, g.deadline.window_start) if g.deadline else None
        for g in record.goals
    ]


# ---------------------------------------------------------------------------------------
# The demo corpus
# ---------------------------------------------------------------------------------------

POLICY: list[dict[str, Any]] = [
    {
        "title": "Issuing the Overall Construction Plan for the New Materials Big Data Center "
        "System",
        "title_original": "关于印发《新材料大数据中心总体建设方案》的通知",
        "bodies": ["MIIT", "MOF", "NDB"],
        "bodies_more": False,
        "published_on": date(2024, 10, 30),
        # The official text (an archived gov.cn page, printed last) first: the Source.
        "links": [
            "https://web.archive.org/web/20241127110447/https:/www.gov.cn/zhengce/zhengceku/"
            "202410/content_6983916.htm",
            "https://www.alcimed.com/en/insights/ai-materials/",
            "https://www.exomatter.ai/en/",
            "https://www.technologyreview.com/2024/10/18/1105880/the-race-to-find-new-materials"
            "-with-ai-needs-more-data-meta-is-giving-massive-amounts-away-for-free/",
        ],
        "goals": [
            (
                "By 2027, data aggregation and circulation will be enhanced, a \u201c1+N\u201d new "
                "materials big data system will be established, creating one main platform and "
                "30+ data nodes, 30+ tools, and 20+ data-driven applications",
                Y(2027),
            ),
            (
                "By 2035, the new materials big data center system will be fully operational, "
                "enabling comprehensive aggregation, processing and development of materials "
                "data, placing it among global leaders",
                Y(2035),
            ),
            (
                "Develop key technologies and software across the materials R&D chain, with a "
                "focus on applications like aerospace, marine engineering and ICT, while "
                "integrating advances in frontier technologies such as superconductors and "
                "biomimetic materials",
                None,
            ),
        ],
        "summary_ends": "the application of new materials research outputs. Key goals include:",
        "comment": [
            "The aim is to enhance the productivity",
            "International competitors and similar scientific initiatives",
        ],
        "comment_ends": "could become a long-term competitiveness risk for foreign firms.",
    },
    {
        "title": "Action Plan for the High-Quality Development of the New Energy Storage "
        "Manufacturing Industry (Draft for Comments)",
        "title_original": "公开征求对新型储能制造业高质量发展行动方案（征求意见稿）的意见",
        "bodies": ["MIIT"],
        "bodies_more": False,
        "published_on": date(2024, 11, 6),
        "links": [
            "https://www.ess-news.com/2024/10/11/key-trends-in-battery-energy-storage-in-china/",
            "https://www.energy-storage.news/china-targets-30gw-of-battery-storage-by-2025-as-"
            "bess-output-grows-150/",
            "https://www.energytrend.com/news/20240313-45541.html",
            "https://www.cjoglobal.com/2023/08/23/uncertain-future-for-energy-storage-amidst-"
            "price-wars-and-overcapacity-in-china/",
            "https://merics.org/en/tracker/how-bri-shaping-global-trade-and-what-expect-"
            "initiative-its-second-decade",
            "https://archive.is/TB4nm",
        ],
        # "Important goals for 2027 include:" dates all three goals.
        "goals": [
            ("Cultivate between three to five companies worth CNY 100 billion", Y(2027)),
            (
                "Increase new energy storage manufacturing capacity to match downstream demand "
                "in various sectors, for instance transportation, construction, communications, "
                "and agriculture",
                Y(2027),
            ),
            (
                "Promote international cooperation in the new energy storage industry through "
                "mechanisms such as the Belt and Road Initiative (BRI)",
                Y(2027),
            ),
        ],
        "summary_ends": "and compressed air energy storage. Important goals for 2027 include:",
        "comment": [
            "New energy storage \u2013 which differs from traditional energy storage",
            "However, there are signs that the sector",
            "The action plan addresses this challenge",
            "Beijing might have to resort to additional measures",
        ],
        "comment_ends": "and Ningde New Energy Technology Co. (CNY 48 billion).",
    },
    {
        "title": "Notice on Carrying out the Gradient Cultivation Action of Smart Factories in "
        "2024",
        "title_original": "六部门关于开展 2024 年度智能工厂梯度培育行动的通知",
        "bodies": ["MIIT"],
        "bodies_more": True,
        "published_on": date(2024, 10, 28),
        "links": [
            "https://merics.org/en/report/accelerator-state-how-china-fosters-little-giant-companies",
            "https://archive.is/NYsMd",
        ],
        "goals": [
            (
                "Over the next five to ten years, promote basic-level smart factories, regional "
                "industry-leading advanced smart factories, nationally leading excellent smart "
                "factories, and pilot-level smart factories with global influence",
                (date(2034, 10, 28), Precision.WINDOW, date(2029, 10, 28)),
            ),
            (
                "Achieve breakthroughs in smart manufacturing equipment, industrial software, "
                "system solutions and standard applications",
                None,
            ),
            (
                "Accelerate the integration of new generation information technology and "
                "advanced manufacturing technology",
                None,
            ),
            (
                "Transform and innovate research and development paradigms, production methods, "
                "service systems, and organizational structures",
                None,
            ),
        ],
        "summary_ends": "selecting excellent-level smart factories. Important goals include:",
        "comment": [
            "The notice gives different prerequisites",
            "Foreign companies could come under pressure to participate.",
        ],
        "comment_ends": "of intellectual property and technology leakages.",
    },
    {
        "title": "Notice on the Collection of Typical Application Cases of Smart Technologies in "
        "Biomanufacturing",
        "title_original": "工业和信息化部办公厅关于开展智能技术在生物制造领域"
        "典型应用案例征集工作的通知",
        "bodies": ["MIIT"],
        "bodies_more": False,
        "published_on": date(2024, 10, 30),
        "links": [
            "https://web.archive.org/web/20241125161650/https:/www.miit.gov.cn/zwgk/zcwj/wjfb/tz/"
            "art/2024/art_5f361cae3ad2457d9df5b80a65701710.html",
            "https://merics.org/en/merics-briefs/biotechnology-rd-smes-renewable-energy",
        ],
        "goals": [
            (
                "Discover and design high-performance protein sequences and spatial structures "
                "with the help of machine learning, big language models and other artificial "
                "intelligence",
                None,
            ),
            (
                "Explore the gene expression and enzyme reaction level regulation mechanism of "
                "engineered bacterial strains and cell lines, to improve yield, conversion rate, "
                "and stress resistance",
                None,
            ),
            (
                "Enhance bioreactor mass production methods through smart sensors, online "
                "analysis, digital twins, etc., allowing for monitoring and adjustments in real "
                "time",
                None,
            ),
        ],
        "summary_ends": "The document outlines eight priority areas, including:",
        "comment": [
            "The government\u2019s efforts to compile and promote best practice cases",
            "Local firms could gain from participating",
        ],
        "comment_ends": "insights into their competitors\u2019 manufacturing processes.",
    },
    {
        "title": "Notice on the Selection of Advanced and Applicable Technologies",
        "title_original": "工业和信息化部办公厅关于开展先进适用技术遴选工作的通知",
        "bodies": ["MIIT"],
        "bodies_more": False,
        "published_on": date(2024, 11, 11),
        "links": [
            "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_cacb5f2aea6644f9901079d1395c87ef.html",
            "https://www.miit.gov.cn/jgsj/ghs/wjfb/art/2023/art_d91db786f4d34939ae8b4c6eca43545c.html",
            "https://english.www.gov.cn/policies/latestreleases/202407/21/content_WS669d0255c6d0868f4e8e94f8.html",
            "https://web.archive.org/web/20241125154038/https:/www.miit.gov.cn/zwgk/zcwj/wjfb/tz/"
            "art/2024/art_aa98f1f7521e4da7a96fe48b89ce59f8.html",
        ],
        "goals": [
            (
                "High-end technology: improve the technical content and added value of "
                "industrial products such as basic components or industrial software",
                None,
            ),
            (
                "Smart technology: optimize algorithms, improve data processing capabilities, "
                "and achieve independent decision-making",
                None,
            ),
            (
                "Green technology: promote energy conservation and carbon reduction and improve "
                "environmental protection and resource utilization",
                None,
            ),
            (
                "Industrial base technology: enhance the industrial base, including "
                "measurement, standards, quality, management, digital information technologies",
                None,
            ),
        ],
        "summary_ends": "The notice sets out four technology areas for applicants to choose from:",
        "comment": [
            "The notice reflects China\u2019s ongoing efforts",
            "It is still unclear how tempting it is",
        ],
        "comment_ends": "otherwise they risk losing their competitive edge.",
    },
]

# (date, text, source label); the first eight are policy news, the rest company news.
NEWS = [
    (
        date(2024, 10, 29),
        "The State Administration for Market Regulation announced opinions on guiding online "
        "trading platforms to support the development of SMEs. The main goal is to leverage "
        "platform traffic to support SMEs in their digital transformation.",
        "SAMR notice",
    ),
    (
        date(2024, 10, 29),
        "The NDRC and others announced opinions on implementing renewable energy substitution "
        "to achieve carbon peak and carbon neutrality targets.",
        "NDRC notice",
    ),
    (
        date(2024, 10, 30),
        "The State Council approved the upgrading of four provincial-level development zones, "
        "i.e., Guangzhou Huadu Economic Development Zone, Jiangxi Guixi Economic Development "
        "Zone, Chongqing Fuling Industrial Park, and Shenyang Financial and Trade Development "
        "Zone, to state-level economic and technological development zones.",
        "State Council notice",
    ),
    (
        date(2024, 11, 7),
        "The Ministry of Ecology and the Environment issued a plan for the prevention and "
        "control of soil pollution. The plan also contains stricter ecological requirements for "
        "companies, such as in the oil extraction industry.",
        "MEE notice",
    ),
    (
        date(2024, 11, 8),
        'The MIIT announced the 2024 "Famous Teachers and Excellent Courses", an SME talent '
        "training program, to help SMEs improve production, operation, and management.",
        "MIIT notice",
    ),
    (
        date(2024, 11, 15),
        "The MIIT released guidelines for construction of the national lithium battery industry "
        "standards system. By 2027, over 100 new national industry standards and ten "
        "international standards are to be established.",
        "MIIT Notice",
    ),
    (
        date(2024, 11, 20),
        "The Cyberspace Administration of China (CAC) announced a global cooperation initiative "
        "to promote consensus on cross-border data flow rules between countries and regions, "
        "while balancing innovation, economic development, the protection of national security, "
        "personal privacy, and intellectual property rights.",
        "CAC Notice",
    ),
    (
        date(2024, 11, 25),
        "The MIIT published typical application cases of advanced computing. The document "
        "highlights 35 cases in traditional manufacturing, 20 cases in new manufacturing, and "
        "18 cases in future manufacturing fields.",
        "MIIT notice",
    ),
    (
        date(2024, 10, 29),
        "Siemens Healthineers signed two cooperation agreements with Chinese companies, focusing "
        "on preclinical research of computed tomography spectroscopy cardiovascular imaging, and "
        "on digital healthcare and artificial intelligence.",
        "Yicai Global",
    ),
    (
        date(2024, 10, 29),
        "ByteDance is planning to set up a new R&D center in Europe, expanding its talent and "
        "research base for artificial intelligence and large language models on the European "
        "continent.",
        "Yicai Global",
    ),
    (
        date(2024, 11, 6),
        "Sinopec has signed an agreement with TotalEnergies to purchase two million tons of LNG "
        "annually for 15 years, starting in 2028.",
        "Yicai Global",
    ),
    (
        date(2024, 11, 12),
        "Volkswagen has entered into an agreement with the Chinese company Senior Tech to buy "
        "lithium-ion battery separators over the course of the next five years.",
        "Yicai Global",
    ),
    (
        date(2024, 11, 13),
        "Airbus announced it will open a second A320 assembly line in China by 2026. As of now, "
        "Chinese airlines operate 2,232 Airbus planes, comprising 55 percent of the "
        "country\u2019s fleet.",
        "Yicai Global",
    ),
    (
        date(2024, 11, 13),
        "BioNTech is purchasing the Chinese company Biotheus for USD 800 million. This "
        "acquisition will support BioNTech\u2019s oncology strategy and grant it full global "
        "rights to the bispecific antibody candidate BNT327.",
        "Reuters",
    ),
    (
        date(2024, 11, 14),
        "Merck has entered into a licensing agreement with Shanghai-based LaNova Medicines, "
        "valued at up to USD 3.3 billion, for an early-stage cancer drug. Merck will pay USD 588 "
        "million upfront, with LaNova eligible for up to USD 2.7 billion in milestone payments.",
        "Reuters",
    ),
    (
        date(2024, 11, 15),
        "Merck and five other international pharmaceutical companies have been approved to "
        "offer stem cell and gene therapy services in Shanghai\u2019s Free Trade Zone, following "
        "China\u2019s recent opening to foreign investment in these sectors.",
        "Yicai Global",
    ),
    (
        date(2024, 11, 20),
        "The European chipmaker STMicroelectronics announced plans to partner with Hua Hong, a "
        "Chinese semiconductor foundry. STMicroelectronics, which is the biggest maker of "
        "energy-efficient Silicon Carbide chips used in electric vehicles, argued that "
        "manufacturing locally in China was essential to its competitive position.",
        "Reuters",
    ),
    (
        date(2024, 11, 21),
        "China surpassed Germany and Japan in industrial robot adoption density, recording 470 "
        "robots per 10.000 employees in 2023. This reflects China\u2019s efforts to drive "
        "forward the deployment of automation technologies in manufacturing.",
        "SCMP",
    ),
]

# The company-news URL block has one link per item, in order.
COMPANY_LINK_STARTS = [
    "https://www.yicaiglobal.com/news/germanys-siemens-healthineers-inks-two-deals",
    "https://www.yicaiglobal.com/news/bytedance-is-said-to-set-up-ai-rd-center-in-europe",
    "https://www.yicaiglobal.com/news/chinas-sinopec-frances-totalenergies",
    "https://www.yicaiglobal.com/news/seniors-stock-hit-the-daily-limit-up",
    "https://www.yicaiglobal.com/news/airbuss-second-a320",
    "https://www.reuters.com/markets/deals/biontech-buys-chinas-biotheus",
    "https://www.reuters.com/business/healthcare-pharmaceuticals/merck-signs-33-bln-deal",
    "https://www.yicaiglobal.com/news/merck-five-other-foreign-pharma-firms",
    "https://www.reuters.com/technology/stmicro-partners-with-hua-hong",
    "https://www.scmp.com/tech/tech-trends/article/3287511/china-surpasses-germany",
]
# Nine links for eight policy news items: the NDRC link is printed twice in a row, and the
# two MIIT items of November 8 and 15 share one link. Read from the file: each domain fits
# its item's label (gov.cn carries the State Council's and the ministries' notices; the
# last MIIT item's cases are published by the NCSTI).
POLICY_NEWS_LINKS = [
    "https://www.gov.cn/zhengce/zhengceku/202410/content_6984125.htm",
    "https://www.gov.cn/zhengce/zhengceku/202410/content_6983959.htm",
    "https://www.gov.cn/zhengce/content/202410/content_6983864.htm",
    "https://www.mee.gov.cn/xxgk2018/xxgk/xxgk03/202411/t20241108_1093746.html",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_58ab93934dbf46aa8fd393548e34bd16.html",
    "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_58ab93934dbf46aa8fd393548e34bd16.html",
    "https://www.cac.gov.cn/2024-11/20/c_1733706018163028.htm",
    "https://www.ncsti.gov.cn/kjdt/tzgg/202411/t20241127_187371.html",
]


@pytest.fixture(scope="module")
def demo() -> IssueRecord:
    return parse_file(DEMO)


def test_demo_issue(demo: IssueRecord) -> None:
    assert demo.issue_date == date(2024, 11, 1)
    assert len(demo.policy_briefs) == 5
    assert len(demo.news) == 18
    assert demo.unassigned_links == []
    assert demo.warnings == []
    assert demo.publication == "China Industrial Policy Tracker"


@pytest.mark.parametrize("index", range(len(POLICY)))
def test_demo_policy_brief(demo: IssueRecord, index: int) -> None:
    brief, expected = demo.policy_briefs[index], POLICY[index]
    assert brief.title == expected["title"]
    assert brief.title_original == expected["title_original"]
    assert brief.bodies == expected["bodies"]
    assert brief.bodies_more is expected["bodies_more"]
    assert brief.published_on == expected["published_on"]
    assert brief.links == expected["links"]
    assert [g.text for g in brief.goals] == [text for text, _ in expected["goals"]]
    assert due(brief) == [deadline for _, deadline in expected["goals"]]
    assert brief.summary.startswith("The ")
    assert brief.summary.endswith(expected["summary_ends"])
    assert "\uf0a1" not in brief.summary + brief.comment
    paragraphs = brief.comment.split("\n\n")
    assert [p[: len(s)] for p, s in zip(paragraphs, expected["comment"], strict=False)] == expected[
        "comment"
    ]
    assert len(paragraphs) == len(expected["comment"])
    assert brief.comment.endswith(expected["comment_ends"])
    assert brief.source_label is None


def test_demo_first_summary_whole(demo: IssueRecord) -> None:
    assert demo.policy_briefs[0].summary == (
        "The Ministry of Industry and Information Technology (MIIT), the Ministry of Finance "
        "(MOF) and the National Data Bureau released a plan to develop a big data center system "
        "for new materials. The big data system aims to pool industrial data and share it with "
        "research institutes and enterprises, strengthening research and development (R&D) and "
        "the application of new materials research outputs. Key goals include:"
    )


def test_demo_news(demo: IssueRecord) -> None:
    assert [(n.published_on, n.summary, n.source_label) for n in demo.news] == NEWS
    assert all(n.title and n.summary.startswith(n.title) for n in demo.news)
    assert all(n.bodies == [] for n in demo.news)  # the writer maps labels to bodies


def test_demo_news_links(demo: IssueRecord) -> None:
    assert [n.links for n in demo.news[:8]] == [[url] for url in POLICY_NEWS_LINKS]
    company = demo.news[8:]
    assert all(len(n.links) == 1 for n in company)
    for item, start in zip(company, COMPANY_LINK_STARTS, strict=True):
        assert item.links[0].startswith(start)


def test_demo_siemens_item_is_whole_and_single(demo: IssueRecord) -> None:
    siemens = [n for n in demo.news if "Siemens" in n.summary]
    assert len(siemens) == 1
    assert siemens[0].summary.endswith("digital healthcare and artificial intelligence.")
    assert not any(n.summary.startswith("spectroscopy") for n in demo.news)


def test_demo_news_goals(demo: IssueRecord) -> None:
    by_start = {n.summary[:20]: n for n in demo.news}
    lithium = by_start["The MIIT released gu"]
    assert [g.text for g in lithium.goals] == [
        "By 2027, over 100 new national industry standards and ten international standards "
        "are to be established."
    ]
    assert due(lithium) == [Y(2027)]
    airbus = by_start["Airbus announced it "]
    assert due(airbus) == [Y(2026)]
    assert airbus.goals[0].text.endswith("assembly line in China by 2026.")
    # "over the course of the next five years" from the item's date
    volkswagen = by_start["Volkswagen has enter"]
    assert due(volkswagen) == [(date(2029, 11, 12), Precision.WINDOW, date(2024, 11, 12))]
    sinopec = by_start["Sinopec has signed a"]
    assert sinopec.goals == []  # "starting in 2028" is no deadline
    undated = [n for n in demo.news if n not in (lithium, airbus, volkswagen)]
    assert all(n.goals == [] for n in undated)


def test_demo_parse_is_deterministic(demo: IssueRecord) -> None:
    assert parse_file(DEMO) == demo


# ---------------------------------------------------------------------------------------
# The family of formats: a synthetic issue rendered in several layouts
# ---------------------------------------------------------------------------------------

# A layout-free issue: ("t", text), ("b", bullet text), ("u", url), ("p", paragraph break).
Item = tuple[str, str]

HYDROGEN: list[Item] = [
    ("t", "At a glance: The National Development and Reform Commission (NDRC) and the National"),
    ("t", "Energy Administration (NEA) issued guiding opinions on building hydrogen"),
    ("t", "pipeline networks. Main targets for 2030 include:"),
    ("b", "Build 5,000 kilometers of trunk pipelines for hydrogen transport across"),
    ("t", "northern provinces"),
    ("b", "By 2027, complete three pilot corridors in Inner Mongolia, Hebei and Jilin"),
    ("t", "MERICS comment: The opinions show that Beijing sees pipelines as the bottleneck for"),
    ("t", "green hydrogen. Most capacity sits far from demand."),
    ("p", ""),
    ("t", "Foreign suppliers of compressors and sensors may find new customers, but local"),
    ("t", "content rules could limit them."),
    (
        "t",
        "Article: Guiding Opinions on the Construction of Hydrogen Pipeline Networks (关于推进氢能",
    ),
    ("t", "管道网络建设的指导意见) (Link)"),
    ("t", "Issuing bodies: NDRC, NEA"),
    ("t", "Date: December 3, 2024"),
    ("u", "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202412/t20241203_0001.html"),
    ("u", "https://merics.org/en/tracker/hydrogen"),
]

PLATFORMS: list[Item] = [
    (
        "t",
        "Article: Notice on Launching the 2024 Pilot Program for Industrial Internet Platforms (工",
    ),
    ("t", "业和信息化部关于开展2024年工业互联网平台试点工作的通知) (Link)"),
    ("t", "At a glance: The MIIT launched a pilot program for industrial internet platforms. The"),
    ("t", "program aims to certify 50 platforms by 2026."),
    ("t", "Issued by: MIIT"),
    ("t", "Date: 28 November 2024"),
    ("u", "https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2024/art_platforms.html"),
]

POLICY_NEWS: list[Item] = [
    ("b", "December 2: The MIIT issued measures to help SMEs adopt industrial robots. (MIIT"),
    ("t", "notice)"),
    ("b", "December 10: The State Council approved a plan for ten new free trade zones in"),
    ("t", "western provinces. (State Council notice)"),
    ("b", "December 28: The SAMR released rules on recalls of consumer drones. (SAMR notice)"),
    ("u", "https://www.miit.gov.cn/news/robots.html"),
    ("u", "https://www.gov.cn/zhengce/ftz.html"),
    ("u", "https://www.samr.gov.cn/drones.html"),
]

COMPANY_NEWS: list[Item] = [
    ("b", "December 5: BASF opened a new catalyst plant in Zhanjiang. (Reuters)"),
    ("b", "December 19: Tesla said its Shanghai factory will produce a new model for export"),
    ("u", "https://www.reuters.com/business/basf-zhanjiang"),
    ("t", "markets by 2026. (Yicai Global)"),
    ("b", "December 20: Bosch agreed to buy a Chinese sensor maker. (Caixin)"),
    ("u", "https://www.yicaiglobal.com/news/tesla-shanghai"),
    ("u", "https://www.caixinglobal.com/bosch"),
    ("u", "https://www.caixinglobal.com/bosch-extra"),
]

HEADER: list[Item] = [("t", "China Industrial Policy Tracker | December 2024")]

ISSUE = HEADER + HYDROGEN + PLATFORMS + POLICY_NEWS + COMPANY_NEWS


def _bullet_glyph(glyph: str) -> Callable[[int], str]:
    return lambda _n: glyph


TAX_ARTICLE = (
    "Article: Notice on Tax Policies for Integrated Circuits (关于集成电路税收政策的公告) (Link)"
)
DEMO_BULLET = _bullet_glyph("\uf0a1 ")


def _numbered(n: int) -> str:
    return f"{n}. "


def render(
    items: list[Item],
    *,
    bullet: Callable[[int], str] = DEMO_BULLET,
    double_spaced: bool = True,
    eol: str = "\n",
    trailing: str = " ",
) -> str:
    """Lay an issue out as a PDF extraction would: one blank line after every text line (the
    demo's layout) or none, and URL blocks single-spaced between blank lines."""
    out: list[str] = []
    number = 0
    previous = ""
    for kind, text in items:
        if kind == "b":
            number = number + 1 if previous in ("b", "bt") else 1
            out.append(bullet(number) + text + trailing)
        elif kind == "u":
            if previous != "u":
                out.append("")
            out.append(text)
        elif kind == "p":
            if not double_spaced:
                out.append("")
        else:
            if previous == "u":
                out.append("")
            out.append(text + trailing)
        if kind != "u" and double_spaced:
            out.append("")
        previous = "bt" if kind == "t" and previous in ("b", "bt") else kind
    return eol.join(out) + eol


LAYOUTS: dict[str, dict[str, Any]] = {
    "demo layout": {},
    "single-spaced": {"double_spaced": False},
    "CRLF": {"eol": "\r\n"},
    "CRLF single-spaced": {"eol": "\r\n", "double_spaced": False},
    "bullet dot": {"bullet": _bullet_glyph("\u2022 ")},
    "bullet dash": {"bullet": _bullet_glyph("- "), "double_spaced": False},
    "numbered": {"bullet": _numbered},
    "glyph without space": {"bullet": _bullet_glyph("\uf0a7")},
    "no trailing spaces": {"trailing": ""},
    "tab after bullet": {"bullet": _bullet_glyph("\u25aa\t"), "trailing": "  "},
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_parse_alike(layout: str) -> None:
    issue = parse_text(render(ISSUE, **LAYOUTS[layout]), "tracker-december.txt")
    assert issue.issue_date == date(2024, 12, 1)
    hydrogen, platforms = issue.policy_briefs

    assert hydrogen.title == "Guiding Opinions on the Construction of Hydrogen Pipeline Networks"
    assert hydrogen.title_original == "关于推进氢能管道网络建设的指导意见"
    assert hydrogen.bodies == ["NDRC", "NEA"]
    assert hydrogen.published_on == date(2024, 12, 3)
    assert hydrogen.summary.endswith("pipeline networks. Main targets for 2030 include:")
    assert [g.text for g in hydrogen.goals] == [
        "Build 5,000 kilometers of trunk pipelines for hydrogen transport across northern "
        "provinces",
        "By 2027, complete three pilot corridors in Inner Mongolia, Hebei and Jilin",
    ]
    assert due(hydrogen) == [Y(2030), Y(2027)]
    assert hydrogen.comment.split("\n\n") == [
        "The opinions show that Beijing sees pipelines as the bottleneck for green hydrogen. "
        "Most capacity sits far from demand.",
        "Foreign suppliers of compressors and sensors may find new customers, but local content "
        "rules could limit them.",
    ]
    assert hydrogen.links == [
        "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202412/t20241203_0001.html",
        "https://merics.org/en/tracker/hydrogen",
    ]

    # Article before At a glance; no comment; "Issued by:"; "28 November 2024"; a Chinese
    # title wrapped inside a word; no bullets, but "by 2026" in the summary is a goal.
    assert (
        platforms.title
        == "Notice on Launching the 2024 Pilot Program for Industrial Internet Platforms"
    )
    assert platforms.title_original == "工业和信息化部关于开展2024年工业互联网平台试点工作的通知"
    assert platforms.bodies == ["MIIT"]
    assert platforms.published_on == date(2024, 11, 28)
    assert platforms.comment == ""
    assert platforms.summary == (
        "The MIIT launched a pilot program for industrial internet platforms. The program aims "
        "to certify 50 platforms by 2026."
    )
    assert [g.text for g in platforms.goals] == [
        "The program aims to certify 50 platforms by 2026."
    ]
    assert due(platforms) == [Y(2026)]

    assert [(n.published_on, n.source_label) for n in issue.news] == [
        (date(2024, 12, 2), "MIIT notice"),
        (date(2024, 12, 10), "State Council notice"),
        (date(2024, 12, 28), "SAMR notice"),
        (date(2024, 12, 5), "Reuters"),
        (date(2024, 12, 19), "Yicai Global"),
        (date(2024, 12, 20), "Caixin"),
    ]
    # The policy run's block matches its three items: links in order.
    assert [n.links for n in issue.news[:3]] == [
        ["https://www.miit.gov.cn/news/robots.html"],
        ["https://www.gov.cn/zhengce/ftz.html"],
        ["https://www.samr.gov.cn/drones.html"],
    ]
    # The Tesla item continues after the interrupting URL block.
    tesla = issue.news[4]
    assert tesla.summary == (
        "Tesla said its Shanghai factory will produce a new model for export markets by 2026."
    )
    assert due(tesla) == [Y(2026)]
    # The block that cuts the Tesla item belongs to the one complete item before it; the
    # last block has three links for two items: the domains place them (yicaiglobal.com for
    # the Yicai Global item, both caixinglobal.com links for the Caixin one).
    assert issue.news[3].links == ["https://www.reuters.com/business/basf-zhanjiang"]
    assert issue.news[4].links == ["https://www.yicaiglobal.com/news/tesla-shanghai"]
    assert issue.news[5].links == [
        "https://www.caixinglobal.com/bosch",
        "https://www.caixinglobal.com/bosch-extra",
    ]
    assert issue.unassigned_links == []


def test_render_layouts_differ() -> None:
    """The layouts really are different texts (a guard for the parametrized test above)."""
    texts = {render(ISSUE, **options) for options in LAYOUTS.values()}
    assert len(texts) == len(LAYOUTS)


def _issue(*blocks: list[Item], **layout: Any) -> IssueRecord:
    return parse_text(
        render([i for block in blocks for i in block], **layout), "tracker-2024-11.txt"
    )


def test_news_year_from_header_across_new_year() -> None:
    january = [("t", "China Industrial Policy Tracker | January 2025")]
    news: list[Item] = [
        ("b", "December 28: The MOF cut export tax rebates for batteries. (MOF notice)"),
        ("b", "January 3: The NDRC published its list of encouraged industries. (NDRC notice)"),
    ]
    issue = _issue(january, news)
    assert [n.published_on for n in issue.news] == [date(2024, 12, 28), date(2025, 1, 3)]
    december = [("t", "China Industrial Policy Tracker | December 2024")]
    issue = _issue(december, news[:1])
    assert issue.news[0].published_on == date(2024, 12, 28)


def test_issue_date_from_file_name_without_header() -> None:
    news: list[Item] = [("b", "March 3: The MOF cut a tax. (MOF notice)")]
    issue = parse_text(render(news), "china-industrial-policy-tracker-2025-03.txt")
    assert issue.issue_date == date(2025, 3, 1)
    assert issue.news[0].published_on == date(2025, 3, 3)


def test_news_run_without_url_block_then_run_with_matching_block() -> None:
    policy: list[Item] = [
        ("b", "November 4: The MIIT named 20 pilot cities for 5G factories. (MIIT notice)"),
        ("b", "November 18: The NEA issued rules on grid access for storage. (NEA notice)"),
    ]
    company: list[Item] = [
        ("b", "November 2: CATL opened a plant in Hungary. (Reuters)"),
        ("b", "November 9: Siemens expanded its Chengdu factory. (Yicai Global)"),
        ("u", "https://www.reuters.com/catl-hungary"),
        ("u", "https://www.yicaiglobal.com/siemens-chengdu"),
    ]
    issue = _issue(policy, company)
    assert [n.links for n in issue.news] == [
        [],
        [],
        ["https://www.reuters.com/catl-hungary"],
        ["https://www.yicaiglobal.com/siemens-chengdu"],
    ]
    assert issue.unassigned_links == []


def test_news_without_any_url_block() -> None:
    issue = _issue(
        [
            ("b", "November 4: The MIIT named 20 pilot cities for 5G factories. (MIIT notice)"),
            ("b", "November 5: BYD opened a plant in Brazil. (Reuters)"),
        ]
    )
    assert [n.source_label for n in issue.news] == ["MIIT notice", "Reuters"]
    assert all(n.links == [] for n in issue.news) and issue.unassigned_links == []


def test_news_heading_separates_runs() -> None:
    items: list[Item] = [
        ("t", "Policy news"),
        ("b", "November 4: The MIIT named 20 pilot cities for 5G factories. (MIIT notice)"),
        ("t", "Company news"),
        ("b", "November 5: BYD opened a plant in Brazil. (Reuters)"),
        ("u", "https://www.reuters.com/byd-brazil"),
    ]
    issue = _issue(items)
    assert [n.links for n in issue.news] == [[], ["https://www.reuters.com/byd-brazil"]]
    assert "Company news" not in issue.news[0].summary


def test_news_items_whose_bullet_glyph_was_lost() -> None:
    items: list[Item] = [
        ("t", "November 4: The MIIT named 20 pilot cities for 5G factories."),
        ("t", "(MIIT notice)"),
        ("t", "November 5: BYD opened a plant in Brazil. (Reuters)"),
    ]
    issue = _issue(items)
    assert [(n.published_on, n.source_label) for n in issue.news] == [
        (date(2024, 11, 4), "MIIT notice"),
        (date(2024, 11, 5), "Reuters"),
    ]


def test_bullet_glyph_alone_on_its_line() -> None:
    text = "\uf0a1\n\nNovember 4: The MIIT named 20 pilot cities. (MIIT notice)\n\n"
    text += "\uf0a1\n\nNovember 5: BYD opened a plant in Brazil. (Reuters)\n\n"
    issue = parse_text(text, "tracker-2024-11.txt")
    assert [n.source_label for n in issue.news] == ["MIIT notice", "Reuters"]


def test_news_with_source_prefix_and_date_first_day() -> None:
    items: list[Item] = [("b", "4 November: The MIIT named 20 pilot cities. (Source: Xinhua)")]
    issue = _issue(items)
    assert issue.news[0].published_on == date(2024, 11, 4)
    assert issue.news[0].source_label == "Xinhua"


def test_comment_with_bullets_keeps_them_as_a_list() -> None:
    brief: list[Item] = [
        ("t", "At a glance: The MIIT issued a plan for humanoid robots. Key goals include:"),
        ("b", "By 2025, build a humanoid robot innovation system"),
        ("t", "MERICS comment: Three points stand out for foreign firms:"),
        ("b", "Subsidies favour domestic component makers"),
        ("b", "Standards will be set by Chinese consortia with limited foreign"),
        ("t", "participation"),
        ("t", "Article: Guiding Opinions on Humanoid Robots (人形机器人创新发展指导意见) (Link)"),
        ("t", "Issuing body: MIIT"),
        ("t", "Date: November 2, 2023"),
    ]
    issue = _issue(brief)
    (record,) = issue.policy_briefs
    assert [g.text for g in record.goals] == ["By 2025, build a humanoid robot innovation system"]
    assert record.comment == (
        "Three points stand out for foreign firms:\n\n"
        "\u2022 Subsidies favour domestic component makers\n"
        "\u2022 Standards will be set by Chinese consortia with limited foreign participation"
    )


def test_brief_without_links_followed_by_brief_in_other_order() -> None:
    first: list[Item] = [
        ("t", "At a glance: The MOF extended tax breaks for chip makers."),
        (
            "t",
            TAX_ARTICLE,
        ),
        ("t", "Issuing bodies: MOF, STA"),
        ("t", "Date: October 1, 2024"),
    ]
    second: list[Item] = [
        ("t", "Article: Measures on Data Exports (数据出境管理措施) (Link)"),
        ("t", "MERICS comment: A relief for foreign firms."),
        ("t", "At a glance: The CAC eased data export rules."),
        ("t", "Issuing body: CAC"),
        ("t", "Date: October 2, 2024"),
    ]
    issue = _issue(first, second)
    assert [(b.title, b.bodies, b.published_on) for b in issue.policy_briefs] == [
        ("Notice on Tax Policies for Integrated Circuits", ["MOF", "STA"], date(2024, 10, 1)),
        ("Measures on Data Exports", ["CAC"], date(2024, 10, 2)),
    ]
    assert issue.policy_briefs[1].comment == "A relief for foreign firms."


def test_links_inline_after_article_and_wrapped_url() -> None:
    brief: list[Item] = [
        ("t", "At a glance: The MOF extended tax breaks for chip makers."),
        (
            "t",
            TAX_ARTICLE,
        ),
        ("u", "https://www.mof.gov.cn/zhengwuxinxi/zhengcefabu/202410/"),
        ("t", "t20241001_3948572.htm"),
        ("t", "Issuing bodies: Ministry of Finance (MOF) and State Taxation Administration (STA)"),
        ("t", "Date: 01.10.2024"),
    ]
    (record,) = _issue(brief, double_spaced=False).policy_briefs
    assert record.links == [
        "https://www.mof.gov.cn/zhengwuxinxi/zhengcefabu/202410/t20241001_3948572.htm"
    ]
    assert record.bodies == ["MOF", "STA"]
    assert record.body_full_names == {
        "MOF": "Ministry of Finance",
        "STA": "State Taxation Administration",
    }
    assert record.published_on == date(2024, 10, 1)


def test_repeated_page_header_and_page_numbers_are_dropped() -> None:
    brief: list[Item] = [
        ("t", "China Industrial Policy Tracker | November 2024"),
        ("t", "At a glance: The MOF extended tax breaks for chip makers. The breaks run"),
        ("t", "until the end of 2027."),
        ("t", "MERICS comment: The breaks mostly help"),
        ("t", "7"),
        ("t", "China Industrial Policy Tracker | November 2024"),
        ("t", "large foundries."),
        (
            "t",
            TAX_ARTICLE,
        ),
        ("t", "Issuing body: MOF"),
        ("t", "Date: October 1, 2024"),
    ]
    (record,) = _issue(brief).policy_briefs
    assert record.comment == "The breaks mostly help large foundries."
    assert due(record) == [Y(2027)]


def test_lead_in_without_colon_still_dates_goals() -> None:
    brief: list[Item] = [
        ("t", "At a glance: The NEA set targets for offshore wind. Targets for 2030 include"),
        ("b", "Reach 100 GW of installed capacity"),
        ("t", "Article: Offshore Wind Plan (海上风电规划) (Link)"),
        ("t", "Issuing body: NEA"),
        ("t", "Date: May 5, 2024"),
    ]
    (record,) = _issue(brief).policy_briefs
    assert due(record) == [Y(2030)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Date: October 30, 2024", date(2024, 10, 30)),
        ("Date: 30 October 2024", date(2024, 10, 30)),
        ("Date: Oct. 30, 2024", date(2024, 10, 30)),
        ("Date: 2024-10-30", date(2024, 10, 30)),
        ("Date: 30.10.2024", date(2024, 10, 30)),
        ("Date: 2024年10月30日", date(2024, 10, 30)),
        ("Published: October 30, 2024", date(2024, 10, 30)),
        ("Date of publication: October 30, 2024", date(2024, 10, 30)),
    ],
)
def test_date_lines(line: str, expected: date) -> None:
    brief: list[Item] = [
        ("t", "At a glance: The MOF extended tax breaks for chip makers."),
        ("t", "Article: Notice on Tax Policies (关于集成电路税收政策的公告) (Link)"),
        ("t", "Issuing body: MOF"),
        ("t", line),
    ]
    assert _issue(brief).policy_briefs[0].published_on == expected


@pytest.mark.parametrize(
    ("line", "bodies", "more"),
    [
        ("Issuing bodies: MIIT, MOF, NDB", ["MIIT", "MOF", "NDB"], False),
        ("Issuing bodies: MIIT etc.", ["MIIT"], True),
        ("Issuing bodies: MIIT and others", ["MIIT"], True),
        ("Issuing bodies: MIIT, MOF and NDRC", ["MIIT", "MOF", "NDRC"], False),
        ("Issuing bodies: MIIT and five other ministries", ["MIIT"], True),
        (
            "Issued by: Ministry of Industry and Information Technology",
            ["Ministry of Industry and Information Technology"],
            False,
        ),
        ("Issuing bodies: the State Council and NDRC", ["State Council", "NDRC"], False),
        ("Issuing bodies: 工信部、财政部", ["工信部", "财政部"], False),
        ("Issuing bodies: 工信部等六部门", ["工信部"], True),
        ("Issuing authority: MIIT (工信部)", ["MIIT"], False),
    ],
)
def test_bodies_lines(line: str, bodies: list[str], more: bool) -> None:
    brief: list[Item] = [
        ("t", "At a glance: The MOF extended tax breaks for chip makers."),
        ("t", "Article: Notice on Tax Policies (关于集成电路税收政策的公告) (Link)"),
        ("t", line),
        ("t", "Date: October 1, 2024"),
    ]
    record = _issue(brief).policy_briefs[0]
    assert (record.bodies, record.bodies_more) == (bodies, more)


def test_split_body_names_learns_full_names() -> None:
    assert split_body_names("Ministry of Industry and Information Technology (MIIT), MOF") == (
        ["MIIT", "MOF"],
        False,
        {"MIIT": "Ministry of Industry and Information Technology"},
    )


@pytest.mark.parametrize(
    ("article", "title", "original"),
    [
        ("Plan (计划) (Link)", "Plan", "计划"),
        (
            "Plan (Draft for Comments) (计划（征求意见稿）) (Link)",
            "Plan (Draft for Comments)",
            "计划（征求意见稿）",
        ),
        ("Plan （计划） [PDF]", "Plan", "计划"),
        ("Plan (Draft for Comments) (Link)", "Plan (Draft for Comments)", None),
        ("Plan", "Plan", None),
    ],
)
def test_split_title(article: str, title: str, original: str | None) -> None:
    assert split_title(article) == (title, original)


def test_title_wrapped_over_three_lines_with_opening_bracket_at_line_end() -> None:
    brief: list[Item] = [
        ("t", "At a glance: The MOF extended tax breaks for chip makers."),
        ("t", "Article: Notice on Further Improving the Tax Policies for the High-"),
        ("t", "Quality Development of Integrated Circuits ("),
        ("t", "关于进一步完善集成电路产业高质量发展税收政策的公告) (Link)"),
        ("t", "Issuing body: MOF"),
        ("t", "Date: October 1, 2024"),
    ]
    (record,) = _issue(brief).policy_briefs
    assert record.title == (
        "Notice on Further Improving the Tax Policies for the High-Quality Development of "
        "Integrated Circuits"
    )
    assert record.title_original == "关于进一步完善集成电路产业高质量发展税收政策的公告"


def test_utf16_and_bom_variants_parse_like_utf8() -> None:
    text = render(ISSUE)
    expected = parse_text(text, "t.txt")
    for raw in (
        text.encode("utf-8-sig"),
        text.encode("utf-16"),
        b"\xfe\xff" + text.encode("utf-16-be"),
        text.encode("utf-16-le"),  # no BOM
    ):
        assert parse_bytes(raw, "t.txt") == expected


def test_undated_bullets_alone_are_not_news() -> None:
    with pytest.raises(ParseError, match="no briefs found"):
        parse_text("# Shopping\n\n- milk\n- eggs\n- bread\n", "list.md")


def test_a_date_range_heading_is_not_a_news_item() -> None:
    items: list[Item] = [
        ("t", "November 29 \u2013 December 5, 2024"),
        ("b", "December 2: The MIIT issued measures for SMEs. (MIIT notice)"),
    ]
    issue = parse_text(render(items), "weekly.txt")
    assert issue.issue_date == date(2024, 12, 1)
    assert [n.published_on for n in issue.news] == [date(2024, 12, 2)]


def test_cut_item_that_ends_a_sentence_still_waits_for_its_label() -> None:
    """Items in an issue carry source labels, so an item whose first part ends with a full
    stop is not complete until its label: the block that cuts it belongs to the items
    before it."""
    items: list[Item] = [
        ("b", "November 4: The MIIT named 20 pilot cities for 5G factories. (MIIT notice)"),
        ("b", "November 18: The NEA issued rules on grid access for storage. (NEA notice)"),
        ("b", "November 2: BASF opened a catalyst plant in Zhanjiang."),
        ("u", "https://www.miit.gov.cn/5g"),
        ("u", "https://www.nea.gov.cn/grid"),
        ("t", "It supplies chemical makers in southern China. (Reuters)"),
        ("u", "https://www.reuters.com/basf"),
    ]
    issue = _issue(items)
    assert [n.links for n in issue.news] == [
        ["https://www.miit.gov.cn/5g"],
        ["https://www.nea.gov.cn/grid"],
        ["https://www.reuters.com/basf"],
    ]
    assert issue.news[2].summary == (
        "BASF opened a catalyst plant in Zhanjiang. It supplies chemical makers in southern China."
    )


def test_news_labels_and_titles() -> None:
    items: list[Item] = [
        ("b", "November 4: The U.S. Treasury named Chinese firms. Exports fell (year-on-year)."),
        ("b", "November 5: BYD opened a plant in Brazil. [Xinhua]"),
    ]
    first, second = _issue(items).news
    assert first.source_label is None
    assert first.title == "The U.S. Treasury named Chinese firms."
    assert second.source_label == "Xinhua"


def test_unlabelled_news_list_links_by_count() -> None:
    items: list[Item] = [
        ("b", "November 4: The MIIT named 20 pilot cities for 5G factories."),
        ("b", "November 5: BYD opened a plant in Brazil."),
        ("u", "https://www.miit.gov.cn/5g"),
        ("u", "https://www.reuters.com/byd"),
    ]
    issue = _issue(items)
    assert [n.links for n in issue.news] == [
        ["https://www.miit.gov.cn/5g"],
        ["https://www.reuters.com/byd"],
    ]
    assert all(n.source_label is None for n in issue.news)


def test_heading_after_a_cut_item_is_not_part_of_it() -> None:
    items: list[Item] = [
        ("b", "November 4: The MIIT named 20 pilot cities for 5G"),
        ("u", "https://www.miit.gov.cn/other"),
        ("t", "factories. (MIIT notice)"),
        ("t", "Company news"),
        ("b", "November 5: BYD opened a plant in Brazil. (Reuters)"),
    ]
    first, second = _issue(items).news
    assert first.summary == "The MIIT named 20 pilot cities for 5G factories."
    assert second.source_label == "Reuters"


def test_single_spaced_summary_goes_on_after_its_goals() -> None:
    text = (
        "At a glance: The NEA set targets for offshore wind. Goals for 2030 include:\n"
        "\n"
        "- Reach 100 GW of installed capacity in\n"
        "  coastal provinces\n"
        "- Build five export hubs\n"
        "\n"
        "The plan also asks provinces to speed up approvals.\n"
        "MERICS comment: Foreign turbine makers will find it hard to compete.\n"
        "Article: Offshore Wind Plan (海上风电规划) (Link)\n"
        "Issuing body: NEA\n"
        "Date: May 5, 2024\n"
    )
    (record,) = parse_text(text, "wind.txt").policy_briefs
    assert [g.text for g in record.goals] == [
        "Reach 100 GW of installed capacity in coastal provinces",
        "Build five export hubs",
    ]
    assert due(record) == [Y(2030), Y(2030)]
    assert record.summary == (
        "The NEA set targets for offshore wind. Goals for 2030 include:\n\n"
        "The plan also asks provinces to speed up approvals."
    )


def _strip_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


def _numbered_bullets(text: str) -> str:
    """Bullets become "1.", "2.", ...; the count starts again after each lead-in."""
    out, number = [], 0
    for line in text.splitlines():
        if line.startswith("\uf0a1"):
            number += 1
            line = f"{number}." + line[1:]
        elif line.rstrip().endswith(":"):
            number = 0
        out.append(line)
    return "\n".join(out)


DEMO_VARIANTS: dict[str, Callable[[str], str]] = {
    "no blank lines": _strip_blank_lines,
    "CRLF": lambda t: t.replace("\n", "\r\n"),
    "bullet dot": lambda t: t.replace("\uf0a1", "\u2022"),
    "bullet dash, no blank lines": lambda t: _strip_blank_lines(t.replace("\uf0a1", "-")),
    "numbered bullets": _numbered_bullets,
    # Goals need their bullets; dated news items are recognised without them.
    "news glyph lost": lambda t: re.sub("\uf0a1 (?=(?:October|November) )", "", t),
    "no trailing spaces": lambda t: "\n".join(line.rstrip() for line in t.splitlines()),
    "page header and numbers": lambda t: (
        "China Industrial Policy Tracker | November 2024\n\n"
        + t.replace(
            "\nMERICS comment:",
            "\n3\n\nChina Industrial Policy Tracker | November 2024\n\nMERICS comment:",
        )
    ),
}


@pytest.mark.parametrize("variant", DEMO_VARIANTS)
def test_demo_variants_parse_alike(demo: IssueRecord, variant: str) -> None:
    """The demo file re-laid-out gives the same briefs (comment paragraph breaks aside,
    which some layouts lose)."""
    text = DEMO_VARIANTS[variant](DEMO.read_text(encoding="utf-8"))
    issue = parse_text(text, DEMO.name)

    def essentials(record: IssueRecord) -> list[tuple[object, ...]]:
        return [
            (
                b.kind,
                b.title,
                b.title_original,
                b.bodies,
                b.bodies_more,
                b.published_on,
                b.summary.replace("\n\n", " "),
                b.comment.replace("\n\n", " "),
                b.links,
                b.source_label,
                b.goals,
            )
            for b in record.briefs
        ]

    assert essentials(issue) == essentials(demo)
    assert issue.unassigned_links == demo.unassigned_links
    assert issue.issue_date == demo.issue_date


def test_lead_in_deadline_keeps_its_precision_for_every_bullet() -> None:
    text = (
        "At a glance: The NDRC issued a hydrogen plan. By mid-2026, the plan aims to:\n\n"
        "\u2022 Build 50 refuelling stations\n\n"
        "\u2022 By 2030, reach 100,000 fuel-cell vehicles\n\n"
        "Article: Hydrogen Plan (氢能计划) (Link)\n\nIssuing body: NDRC\n\nDate: January 8, 2025\n"
    )
    goals = parse_text(text, "h.txt").briefs[0].goals
    assert [(str(g.deadline.due_on), str(g.deadline.precision)) for g in goals if g.deadline] == [
        ("2026-06-30", "month"),
        ("2030-12-31", "year"),
    ]


def test_dash_bulleted_news_items_are_news_and_keep_their_links() -> None:
    text = (
        "At a glance: The NEA issued a coal notice.\n\n"
        "Article: Coal Notice (煤炭通知) (Link)\n\nIssuing body: NEA\n\nDate: December 20, 2024\n\n"
        "https://example.org/coal\n\n"
        "\u2013 December 30: The MOFCOM announced export controls on gallium. (MOFCOM notice)\n\n"
        "\u2014 December 31: The NDRC published a list of encouraged industries. (NDRC notice)\n\n"
        "https://example.org/mofcom\nhttps://example.org/ndrc\n"
    )
    issue = parse_text(text, "tracker-2024-12.txt")
    assert [b.links for b in issue.policy_briefs] == [["https://example.org/coal"]]
    assert [(str(n.published_on), n.source_label, n.links) for n in issue.news] == [
        ("2024-12-30", "MOFCOM notice", ["https://example.org/mofcom"]),
        ("2024-12-31", "NDRC notice", ["https://example.org/ndrc"]),
    ]
