"""Generated primary policy documents (Chinese notices and plans, English translations) in
families, each with what an analyst reads from it: the document's name, date, bodies and
every target with its deadline, and the dated phrases that are no targets.

Used by tests/data/test_primary.py and benchmarks/primary_documents.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

# (abbreviation, full Chinese name, short Chinese name)
BODIES = [
    ("MIIT", "工业和信息化部", "工信部"),
    ("NDRC", "国家发展和改革委员会", "国家发展改革委"),
    ("MOF", "财政部", "财政部"),
    ("MOST", "科学技术部", "科技部"),
    ("MOFCOM", "商务部", "商务部"),
    ("NEA", "国家能源局", "国家能源局"),
    ("SAMR", "国家市场监督管理总局", "市场监管总局"),
    ("MEE", "生态环境部", "生态环境部"),
    ("CAC", "国家互联网信息办公室", "国家网信办"),
    ("NDB", "国家数据局", "国家数据局"),
]
SUBJECTS = ["新材料大数据", "新型储能制造业", "人形机器人", "工业互联网", "绿色低碳产业", "氢能产业",
            "算力基础设施", "智能网联汽车", "生物制造", "数据要素"]  # fmt: skip
KINDS = ["行动方案", "实施方案", "指导意见", "发展规划", "三年行动计划"]
AIMS = ["体系初步建成", "产业规模显著提升", "培育一批领军企业", "关键技术取得突破", "体系全面建成",
        "进入世界前列", "标准体系基本完善", "应用场景全面拓展"]  # fmt: skip
COUNTS = "零一二三四五六七八九"
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]  # fmt: skip


@dataclass
class Target:
    marker: str  # words only this target's goal holds
    due: date
    window_start: date | None = None


@dataclass
class PrimaryDocument:
    text: str
    name: str  # the document's own name (the expected title)
    published_on: date
    bodies: list[str]  # abbreviations an analyst names
    more: bool  # a counted group names fewer than issued it
    targets: list[Target]
    not_targets: list[str] = field(default_factory=list)  # markers of dated non-targets
    draft: bool = False
    family: str = ""


def _year_end(year: int) -> date:
    return date(year, 12, 31)


def _targets_zh(rng: random.Random, published: date, serial: int) -> tuple[list[str], list[Target]]:
    """Sentences holding targets: a plan's 2-4 steps in one sentence, 年底前 and month
    deadlines, centenary goals, plan periods as windows."""
    sentences: list[str] = []
    targets: list[Target] = []
    steps = rng.randint(2, 4)
    years = sorted(rng.sample(range(published.year + 1, published.year + 14), steps))
    parts = []
    for i, year in enumerate(years):
        marker = f"{AIMS[(serial + i) % len(AIMS)]}（第{i + 1}步{serial}）"
        parts.append(f"到{year}年，{marker}")
        targets.append(Target(marker, _year_end(year)))
    sentences.append("（二）主要目标。" + "；".join(parts) + "。")
    form = rng.randrange(9)
    year = published.year + rng.randint(1, 2)
    marker = f"完成试点评估{serial}"
    if form == 0:
        sentences.append(f"{year}年底前，{marker}。")
        targets.append(Target(marker, _year_end(year)))
    elif form == 5:
        day = rng.randint(1, 28)
        sentences.append(f"各地于{year}年3月{day}日前{marker}。")
        targets.append(Target(marker, date(year, 3, day)))
    elif form == 6:
        wide = str(year).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        sentences.append(f"到 {wide} 年底，{marker}。")
        targets.append(Target(marker, _year_end(year)))
    elif form == 7:
        sentences.append(f"到本世纪中叶，{marker}。")
        targets.append(Target(marker, _year_end(2050)))
    elif form == 8:
        sentences.append(f"“十五五”时期，{marker}。")
        targets.append(Target(marker, _year_end(2030), date(2026, 1, 1)))
    elif form == 1:
        month = rng.randint(1, 12)
        year = published.year + 1
        sentences.append(f"{year}年{month}月底前{marker}。")
        following = date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)
        targets.append(Target(marker, date.fromordinal(following.toordinal() - 1)))
    elif form == 2:
        sentences.append(f"力争到新中国成立一百年时，{marker}。")
        targets.append(Target(marker, _year_end(2049)))
    else:
        sentences.append(f"到“十五五”末，{marker}。")
        targets.append(Target(marker, _year_end(2030)))
    first = published.year + 1
    last = first + rng.randint(1, 3)
    dash = rng.choice(["—", "-", "年至"])
    marker = f"每年培育示范企业{serial}家"
    sentences.append(f"{first}{dash}{last}年，{marker}。")
    targets.append(Target(marker, _year_end(last), date(first, 1, 1)))
    return sentences, targets


def _not_targets_zh(
    rng: random.Random, published: date, serial: int
) -> tuple[list[str], list[str]]:
    """Dated sentences that are no targets: base years, retrospectives, launch dates."""
    base = f"单位产值能耗{serial}"
    retro = f"累计建成平台{serial}个"
    plan = f"产业增速{serial}"
    launch = f"本方案{serial}"
    past_first = published.year - 5
    past = published.year - 1
    sentences = [
        rng.choice(
            [
                f"{base}比{past}年下降10%。",
                f"{base}较{past}年底下降10%。",
                f"与{past}年相比，{base}下降10%。",
            ]
        ),
        rng.choice(
            [
                f"{past_first}—{past}年，{retro}。",
                f"截至{past}年底，已{retro}。",
                f"{past_first}年至{past}年，{retro}。",
            ]
        ),
        f"“十四五”期间，{plan}保持在10%以上。",
        rng.choice(
            [
                f"{launch}自{published.year + 1}年1月1日起施行。",
                f"{launch}自印发之日起施行，有效期至{published.year + 5}年12月31日。",
            ]
        ),
    ]
    rng.shuffle(sentences)
    return sentences, [base, retro, plan, launch]


def chinese_document(rng: random.Random, serial: int, draft: bool = False) -> PrimaryDocument:
    published = date.fromordinal(date(2023, 1, 1).toordinal() + rng.randrange(900))
    subject = SUBJECTS[serial % len(SUBJECTS)]
    name = f"{subject}{rng.choice(KINDS)}{serial}"
    issuers = rng.sample(BODIES, rng.randint(1, 4))
    form = rng.choice(["full", "short", "counted"])
    if form == "counted" and len(issuers) > 1:
        head_bodies = f"{issuers[0][1]}等{COUNTS[len(issuers)]}部门"
        signed = rng.random() < 0.5  # the signatures name them all, or only the count does
    else:
        form = "full" if form == "counted" else form
        head_bodies = "、".join(b[1] if form == "full" else b[2] for b in issuers)
        signed = False
    shown_name = f"{name}（征求意见稿）" if draft else name
    targets_text, targets = _targets_zh(rng, published, serial)
    not_text, not_markers = _not_targets_zh(rng, published, serial)
    body = [*targets_text, *not_text]
    rng.shuffle(body)
    lead = f"为贯彻落实党中央、国务院决策部署，推动{subject}高质量发展，制定本方案。"
    date_form = rng.choice(["signature", "label", "dateline"])
    notice = rng.random() < 0.5 or date_form == "dateline"
    signed = signed and notice and date_form != "dateline"  # only a notice has signatures
    if notice:
        headline = (
            f"{head_bodies}关于公开征求对《{name}》意见的通知"
            if draft
            else f"{head_bodies}关于印发《{shown_name}》的通知"
        )
        lines = [headline]
        if date_form == "label":
            lines.append(f"发布时间：{published.isoformat()}")
        if date_form == "dateline":
            lines.append(f"发布时间：{published.isoformat()}")
            lines.append(
                f"{published.month}月{published.day}日，{head_bodies}联合印发《{shown_name}》。"
            )
        else:
            lines += [
                f"工信部联规〔{published.year}〕{serial}号",
                "各省、自治区、直辖市及计划单列市、新疆生产建设兵团有关主管部门：",
                f"现将《{shown_name}》印发给你们，请结合实际，认真贯彻落实。",
            ]
            if signed or form != "counted":
                lines += [b[1] for b in issuers]
            if date_form == "signature":
                lines.append(f"{published.year}年{published.month}月{published.day}日")
        lines += [shown_name, lead, *body]
        family = f"notice/{form}/{date_form}"
    else:
        headline = f"{issuers[0][2]}等发布{subject}新政"  # a news page's own headline
        lines = [
            headline,
            f"发布时间：{published.isoformat()}",
            f"近日，{head_bodies}联合印发《{shown_name}》，{lead}",
            *body,
        ]
        family = f"news/{form}"
    expected_bodies = (
        [issuers[0][0]] if form == "counted" and not signed else [b[0] for b in issuers]
    )
    return PrimaryDocument(
        text="\n".join(lines),
        name=shown_name,
        published_on=published,
        bodies=expected_bodies,
        more=form == "counted" and not signed,
        targets=targets,
        not_targets=not_markers,
        draft=draft,
        family=family + ("/draft" if draft else ""),
    )


def english_document(rng: random.Random, serial: int) -> PrimaryDocument:
    published = date.fromordinal(date(2023, 1, 1).toordinal() + rng.randrange(900))
    name = f"Action Plan for the Development of Sector {serial}"
    years = sorted(rng.sample(range(published.year + 1, published.year + 12), rng.randint(2, 4)))
    lead = rng.choice(["by", "by the end of", "no later than"])
    steps = [f"{lead} {year}, reach milestone {serial}-{i}" for i, year in enumerate(years)]
    targets = [Target(f"milestone {serial}-{i}", _year_end(y)) for i, y in enumerate(years)]
    text = "\n".join(
        [
            "Notice of the Ministry of Industry and Information Technology and Three Other"
            f" Departments on Issuing the {name}",
            f"{MONTHS_EN[published.month - 1]} {published.day}, {published.year}",
            "To the competent departments of all provinces:",
            f"The {name} is hereby issued to you; please implement it conscientiously.",
            "The plan aims to raise the quality of the sector. "
            + steps[0][0].upper()
            + "; ".join(steps)[1:]
            + ".",
            f"Energy use per unit of output fell 5 percent compared with {published.year - 1}"
            f" levels (base {serial}).",
        ]
    )
    return PrimaryDocument(
        text=text,
        name=name,
        published_on=published,
        bodies=["MIIT"],
        more=True,
        targets=targets,
        not_targets=[f"base {serial}"],
        family="english",
    )


def corpus(count: int = 200, seed: int = 24) -> list[PrimaryDocument]:
    rng = random.Random(seed)
    documents = []
    for serial in range(count):
        if serial % 10 == 9:
            documents.append(english_document(rng, serial))
        else:
            documents.append(chinese_document(rng, serial, draft=serial % 7 == 3))
    return documents


@dataclass
class Score:
    targets: int = 0
    right: int = 0  # targets whose goal came out with the right deadline
    false_targets: int = 0  # dated non-targets taken as targets
    titles: int = 0  # documents titled by their own name
    bodies: int = 0  # documents whose issuing bodies were all read
    documents: int = 0

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# (goal text, due date, window start or None) as a reader gives them.
Goal = tuple[str, date | None, date | None]


def score(document: PrimaryDocument, title: str, bodies: list[str], goals: list[Goal]) -> Score:
    found = Score(targets=len(document.targets), documents=1)
    for target in document.targets:
        holding = [g for g in goals if target.marker in g[0]]
        # A goal that holds another target's words too merged two steps into one.
        alone = [g for g in holding if not any(
            t.marker in g[0] for t in document.targets if t is not target
        )]  # fmt: skip
        if any(g[1] == target.due and g[2] == target.window_start for g in alone):
            found.right += 1
    for marker in document.not_targets:
        if any(marker in g[0] and g[1] is not None for g in goals):
            found.false_targets += 1
    found.titles = int(title == document.name)
    found.bodies = int(set(document.bodies) <= set(bodies))
    return found
