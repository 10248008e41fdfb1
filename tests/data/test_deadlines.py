"""Tests for data.ingest.deadlines: the target deadline an analyst reads from a goal sentence."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policybot.data.ingest.deadlines import Deadline, Precision, extract_deadline, lead_in_year

PUB = date(2024, 10, 30)  # the demo brief's publication date

Expected = tuple[date, Precision, date | None] | None


def Y(year: int) -> Expected:
    return date(year, 12, 31), Precision.YEAR, None


def M(year: int, month: int, last_day: int) -> Expected:
    return date(year, month, last_day), Precision.MONTH, None


def D(year: int, month: int, day: int) -> Expected:
    return date(year, month, day), Precision.DAY, None


def W(start: date, due: date) -> Expected:
    return due, Precision.WINDOW, start


# (sentence, published_on, expected)
CASES: list[tuple[str, date | None, Expected]] = [
    # --- real sentences from the demo corpus ---
    (
        "By 2027, data aggregation and circulation will be enhanced, a \u201c1+N\u201d new "
        "materials big data system will be established, creating one main platform and 30+ "
        "data nodes, 30+ tools, and 20+ data-driven applications",
        PUB,
        Y(2027),
    ),
    (
        "By 2035, the new materials big data center system will be fully operational, enabling "
        "comprehensive aggregation, processing and development of materials data, placing it "
        "among global leaders",
        PUB,
        Y(2035),
    ),
    (
        "Develop key technologies and software across the materials R&D chain, with a focus on "
        "applications like aerospace, marine engineering and ICT",
        PUB,
        None,
    ),
    (
        "Over the next five to ten years, promote basic-level smart factories, regional "
        "industry-leading advanced smart factories ...",
        date(2024, 10, 28),
        W(date(2029, 10, 28), date(2034, 10, 28)),
    ),
    (
        "By 2027, over 100 new national industry standards and ten international standards are "
        "to be established.",
        date(2024, 11, 15),
        Y(2027),
    ),
    (
        "Airbus announced it will open a second A320 assembly line in China by 2026.",
        date(2024, 11, 13),
        Y(2026),
    ),
    (
        "Sinopec has signed an agreement with TotalEnergies to purchase two million tons of LNG "
        "annually for 15 years, starting in 2028.",
        PUB,
        None,
    ),
    (
        "China surpassed Germany and Japan in industrial robot adoption density, recording 470 "
        "robots per 10.000 employees in 2023.",
        PUB,
        None,
    ),
    (
        "In energy storage battery production, capacity utilization plunged from 87 percent in "
        "2022 to less than 50 percent.",
        PUB,
        None,
    ),
    (
        "China added 20 gigawatts (GW) in battery energy storage in 2023, helping it to reach "
        "its 2025 goal of installing 30 GW in new energy storage capacity two years early.",
        PUB,
        None,
    ),
    # --- year precision ---
    ("Production capacity will double by 2027.", PUB, Y(2027)),
    ("Subsidies will continue until 2027.", PUB, Y(2027)),
    ("The pilot programme runs through 2030.", PUB, Y(2030)),
    ("Tax breaks apply through the end of 2030.", PUB, Y(2030)),
    ("Coverage will reach 80 percent by the end of 2026.", PUB, Y(2026)),
    ("Capacity should be online by end-2026.", PUB, Y(2026)),
    ("Capacity should be online by end of 2026.", PUB, Y(2026)),
    ("Capacity should be online by year-end 2026.", PUB, Y(2026)),
    ("Rules must be issued no later than 2028.", PUB, Y(2028)),
    ("Trials will finish before the end of 2025.", PUB, Y(2025)),
    ("Five new hubs will open by 2025-end.", PUB, Y(2025)),
    ("Peak emissions before 2030.", PUB, Y(2029)),
    ("Targets will be met by the year 2030.", PUB, Y(2030)),
    ("Targets will be met by the end of the year 2030.", PUB, Y(2030)),
    ("Guidelines are due by the end of this year.", PUB, Y(2024)),
    ("Guidelines are due by year-end.", PUB, Y(2024)),
    ("Guidelines are due by the end of the year.", PUB, Y(2024)),
    ("Guidelines are due by end-year.", PUB, Y(2024)),
    ("Pilots will be expanded by the end of next year.", PUB, Y(2025)),
    ("Pilots will be expanded by next year.", PUB, Y(2025)),
    ("Pilots will be expanded before next year.", PUB, Y(2024)),
    ("Pilots will be expanded by the end of next year.", None, None),
    ("Achieve self-reliance by the end of the 14th Five-Year Plan period.", PUB, Y(2025)),
    ("Achieve self-reliance by the end of the 15th Five-Year Plan.", PUB, Y(2030)),
    ("Achieve self-reliance by the end of the 14th FYP.", PUB, Y(2025)),
    ("Achieve self-reliance by the end of the fifteenth five-year plan (period).", PUB, Y(2030)),
    # A plan period is a window that opens with the plan.
    (
        "During the 15th Five-Year Plan period, build 50 demonstration zones.",
        PUB,
        (date(2030, 12, 31), Precision.WINDOW, date(2026, 1, 1)),
    ),
    (
        "Over the 14th Five-Year Plan, add 30 GW.",
        PUB,
        (date(2025, 12, 31), Precision.WINDOW, date(2021, 1, 1)),
    ),
    ("Reduce reliance on imports before the 15th Five-Year Plan.", PUB, Y(2025)),
    ("The 13th Five-Year Plan introduced the policy in 2016.", PUB, None),
    # --- month precision ---
    ("Draft rules are due by March 2026.", PUB, M(2026, 3, 31)),
    ("Draft rules are due by the end of March 2026.", PUB, M(2026, 3, 31)),
    ("Draft rules are due by end-March 2026.", PUB, M(2026, 3, 31)),
    ("Comments must be filed no later than June 2026.", PUB, M(2026, 6, 30)),
    ("The line will start production by mid-2026.", PUB, M(2026, 6, 30)),
    ("The line will start production by the middle of 2026.", PUB, M(2026, 6, 30)),
    ("Deliveries begin by Q3 2026.", PUB, M(2026, 9, 30)),
    ("Deliveries begin by 3Q 2026.", PUB, M(2026, 9, 30)),
    ("Deliveries begin by the third quarter of 2026.", PUB, M(2026, 9, 30)),
    ("Deliveries begin by the end of Q4 2025.", PUB, M(2025, 12, 31)),
    ("Rollout completes by the first half of 2026.", PUB, M(2026, 6, 30)),
    ("Rollout completes by H1 2026.", PUB, M(2026, 6, 30)),
    ("Rollout completes by H2 2026.", PUB, M(2026, 12, 31)),
    ("Rollout completes by the second half of 2026.", PUB, M(2026, 12, 31)),
    ("The registry opens by Sept. 2026.", PUB, M(2026, 9, 30)),
    ("The registry opens by Mar 2027.", PUB, M(2027, 3, 31)),
    ("The registry opens by Feb 2028.", PUB, M(2028, 2, 29)),
    ("Applications close before March 2026.", PUB, M(2026, 2, 28)),
    ("Applications close before Q3 2026.", PUB, M(2026, 6, 30)),
    ("Applications close by early 2026.", PUB, M(2026, 3, 31)),
    ("Applications close by late 2026.", PUB, M(2026, 12, 31)),
    # --- day precision ---
    ("Submit filings by March 15, 2026.", PUB, D(2026, 3, 15)),
    ("Submit filings by 15 March 2026.", PUB, D(2026, 3, 15)),
    ("Submit filings by the 15th of March, 2026.", PUB, D(2026, 3, 15)),
    ("Submit filings before 2026-03-15.", PUB, D(2026, 3, 14)),
    ("Submit filings by 2026-03-15.", PUB, D(2026, 3, 15)),
    ("Submit filings by 31 December 2025.", PUB, D(2025, 12, 31)),
    ("Submit filings by Dec. 1st, 2025.", PUB, D(2025, 12, 1)),
    ("Submit filings by 2026/06/30.", PUB, D(2026, 6, 30)),
    ("Submit filings by 29 February 2028.", PUB, D(2028, 2, 29)),
    ("Submit filings by February 30, 2026.", PUB, None),
    # --- windows, counted from publication ---
    ("Within the next 15 years, build a modern grid.", PUB, W(PUB, date(2039, 10, 30))),
    ("In the next three years, train 1 million engineers.", PUB, W(PUB, date(2027, 10, 30))),
    ("Localise key parts within three years.", PUB, W(PUB, date(2027, 10, 30))),
    (
        "Over the course of the next five years, upgrade 10,000 plants.",
        PUB,
        W(PUB, date(2029, 10, 30)),
    ),
    ("Over the next 5-10 years, scale up.", PUB, W(date(2029, 10, 30), date(2034, 10, 30))),
    ("Within 3 to 5 years, scale up.", PUB, W(date(2027, 10, 30), date(2029, 10, 30))),
    ("Within the next twenty years, lead globally.", PUB, W(PUB, date(2044, 10, 30))),
    ("Within eighteen months, publish standards.", PUB, W(PUB, date(2026, 4, 30))),
    ("Over the next decade, double output.", PUB, W(PUB, date(2034, 10, 30))),
    (
        "Localise key parts within three years.",
        date(2024, 2, 29),
        W(date(2024, 2, 29), date(2027, 2, 28)),
    ),
    (
        "Over the next four years, localise.",
        date(2024, 2, 29),
        W(date(2024, 2, 29), date(2028, 2, 29)),
    ),
    ("Localise key parts within three years.", None, None),
    ("Output doubled in three years.", PUB, None),
    ("Output doubled in the past three years.", PUB, None),
    ("More plants will follow in the coming years.", PUB, None),
    ("Most machines are over five years old.", PUB, None),
    ("Details will appear in the next five year plan.", PUB, None),
    ("Finish the review within the year.", PUB, None),
    # --- base years, data years, quantities: not deadlines ---
    ("Emissions fell 5 percent compared to 2025.", PUB, None),
    ("Intensity is down 13.5 percent compared with 2020 levels.", PUB, None),
    ("Output was higher than in 2020.", PUB, None),
    ("Sales rose 30 percent in 2023.", PUB, None),
    ("Imports fell sharply 2022 to 2023.", PUB, None),
    ("Exports have grown every year since 2015.", PUB, None),
    ("The 2025 goal was met early.", PUB, None),
    ("Operations start from 2028 onwards.", PUB, None),
    ("Projects selected in the 2024 application round receive funding.", PUB, None),
    ("The policy builds on Made in China 2025.", PUB, None),
    ("Investment of CNY 100 billion and USD 2.7 billion was announced.", PUB, None),
    ("Costs will be cut by 2030 levels of efficiency.", PUB, None),
    ("Output rose by 2000% over a decade.", PUB, None),
    ("Revenue grew by 2,030 million yuan.", PUB, None),
    ("Robot density rose by 1989 units.", PUB, None),
    ("Capacity must grow by 2101 units.", PUB, None),
    ("Demand will keep rising by the 2030s.", PUB, None),
    # --- several deadlines: the earliest wins ---
    ("By 2025, reach 30 GW; by 2030, reach 100 GW.", PUB, Y(2025)),
    ("By 2030, reach 100 GW; by 2025, reach 30 GW.", PUB, Y(2025)),
    ("By 2030, lead globally, and within three years, localise.", PUB, W(PUB, date(2027, 10, 30))),
    ("Finish by the end of 2026, with a pilot by March 2026.", PUB, M(2026, 3, 31)),
    ("Finish by 2026 and start production by mid-2026.", PUB, M(2026, 6, 30)),
    ("Compared with 2020 levels, cut energy use 13.5 percent by 2025.", PUB, Y(2025)),
    # --- PDF extraction noise ---
    ("By\u00a02027, build hubs.", PUB, Y(2027)),
    ("by  2027   ", PUB, Y(2027)),
    ("Hubs will open by\n2027.", PUB, Y(2027)),
    ("Capacity online by end\u20132026.", PUB, Y(2026)),
    ("\u201cDigital\u201d factories by the end of the 14th Five-\nYear Plan.", PUB, Y(2025)),
    ("BY 2027, BUILD HUBS.", PUB, Y(2027)),
    ("Hubs by \uff12\uff10\uff12\uff17.", PUB, Y(2027)),
    ("Hubs by 20\u00ad27.", PUB, Y(2027)),
    ("Hubs by\t the end of\r\n2026.", PUB, Y(2026)),
    ("", PUB, None),
    ("\x00\x01 by \x02", PUB, None),
    # "到 2027 年" is "by 2027", whatever surrounds it.
    ("\u5230 2027 \u5e74 \U0001f680 \u05e2\u05d3", PUB, Y(2027)),
    # Chinese wording.
    ("到2027年，培育3-5家千亿级企业", PUB, Y(2027)),
    ("2025年底前完成试点", PUB, Y(2025)),
    ("到2030年底，建成体系", PUB, Y(2030)),
    ("2026年6月底前出台细则", PUB, M(2026, 6, 30)),
    ("2027年上半年完成评估", PUB, M(2027, 6, 30)),
    (
        "\u201c十四五\u201d期间新增储能30GW",
        PUB,
        (date(2025, 12, 31), Precision.WINDOW, date(2021, 1, 1)),
    ),
    ("到\u201c十五五\u201d末基本实现", PUB, Y(2030)),
    ("在2023年增长了20%", PUB, None),
    ("实现2025年目标", PUB, None),
    ("\u201c十四五\u201d规划提出", PUB, None),
    # Half-years and quarters ahead of the brief are targets; past ones are data.
    ("Launch the platform in the first half of 2027.", PUB, M(2027, 6, 30)),
    ("Output opens in the second half of 2025.", PUB, M(2025, 12, 31)),
    ("In the first half of 2023, exports rose 20 percent.", PUB, None),
    ("Shipments start in Q3 2026.", PUB, M(2026, 9, 30)),
    ("In the third quarter of 2024 sales fell.", PUB, None),
]


@pytest.mark.parametrize(("text", "published_on", "expected"), CASES)
def test_extract_deadline_table(text: str, published_on: date | None, expected: Expected) -> None:
    result = extract_deadline(text, published_on=published_on)
    if expected is None:
        assert result is None
    else:
        assert result is not None
        assert (result.due_on, result.precision, result.window_start) == expected


def test_phrase_is_the_matched_words() -> None:
    result = extract_deadline("By 2027, data aggregation will be enhanced.")
    assert result == Deadline(date(2027, 12, 31), Precision.YEAR, phrase="By 2027")
    window = extract_deadline("Over the next five to ten years, promote.", published_on=PUB)
    assert window is not None and window.phrase == "Over the next five to ten years"


def test_default_year_applies_when_text_has_no_deadline() -> None:
    result = extract_deadline(
        "Cultivate between three to five companies worth CNY 100 billion",
        published_on=PUB,
        default_year=2027,
    )
    assert result is not None
    assert (result.due_on, result.precision, result.window_start) == Y(2027)
    assert "2027" in result.phrase


@pytest.mark.parametrize(
    ("text", "published_on", "expected"),
    [
        ("By 2030, lead globally.", PUB, Y(2030)),
        ("Finish before 2026.", PUB, Y(2025)),
        ("Finish by March 2026.", None, M(2026, 3, 31)),
        ("Within three years, localise.", PUB, W(PUB, date(2027, 10, 30))),
        # The sentence's own relative deadline can't be dated, so the lead-in's doesn't apply.
        ("Within three years, localise.", None, None),
        ("Finish by the end of next year.", None, None),
        # A base year in the sentence is no deadline, so the lead-in's year still applies.
        ("Cut energy use 13.5 percent compared with 2020 levels.", None, Y(2027)),
    ],
)
def test_explicit_deadline_beats_default_year(
    text: str, published_on: date | None, expected: Expected
) -> None:
    result = extract_deadline(text, published_on=published_on, default_year=2027)
    got = None if result is None else (result.due_on, result.precision, result.window_start)
    assert got == expected


@pytest.mark.parametrize(
    ("lead_in", "expected"),
    [
        ("Important goals for 2027 include:", 2027),
        ("Key goals include:", None),
        ("Targets by 2030 include", 2030),
        ("The document outlines eight priority areas, including:", None),
        ("Important goals include:", None),
        ("Main targets for the year 2025 include:", 2025),
        ("Goals for 2024-2027 include:", 2027),
        ("Key 2027 targets include:", 2027),
        ("By 2030, the plan aims to:", 2030),
        ("Goals for the 15th Five-Year Plan period include:", 2030),
        ("Important goals for\u00a02027 include:  ", 2027),
        ("In 2023, the ministry set these goals:", None),
        ("The plan, published in 2024, lists these goals:", None),
        ("Compared with 2020 levels, the targets include:", None),
        ("Goals for the next three years include:", None),
        ("", None),
    ],
)
def test_lead_in_year(lead_in: str, expected: int | None) -> None:
    assert lead_in_year(lead_in) == expected


def test_lead_in_year_feeds_default_year() -> None:
    year = lead_in_year("Important goals for 2027 include:")
    result = extract_deadline("Cultivate three to five leading companies", default_year=year)
    assert result is not None and result.due_on == date(2027, 12, 31)


# --- properties ---

_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(),
    published_on=st.none() | _dates,
    default_year=st.none() | st.integers(min_value=-(10**6), max_value=10**6),
)
def test_never_raises(text: str, published_on: date | None, default_year: int | None) -> None:
    result = extract_deadline(text, published_on=published_on, default_year=default_year)
    assert result is None or isinstance(result, Deadline)
    assert lead_in_year(text) is None or isinstance(lead_in_year(text), int)


_TOKENS = [
    "by", "By", "before", "until", "through", "no later than", "the end of", "end-", "in",
    "since", "from", "compared to", "than", "percent", "%", "Q3", "H1", "mid-", "March",
    "Sept.", "the", "goal", "levels", "Made in China", "CNY", "billion", ",", ".", "-", "+",
    "\u2013", "\u201c", "\n",
]  # fmt: skip
_noise_pieces = st.one_of(
    st.sampled_from(_TOKENS),
    st.integers(min_value=0, max_value=999).map(str),
    st.text(alphabet=string.ascii_letters + " ,;()", max_size=12),
)


@given(
    year=st.integers(min_value=1990, max_value=2100),
    words=st.text(alphabet=string.ascii_letters + " ,;'", max_size=80),
)
def test_by_year_gives_that_years_last_day(year: int, words: str) -> None:
    result = extract_deadline(f"By {year}, {words}")
    assert result is not None
    assert (result.due_on, result.precision) == (date(year, 12, 31), Precision.YEAR)


@given(pieces=st.lists(_noise_pieces, max_size=30))
def test_no_year_and_no_window_gives_none(pieces: list[str]) -> None:
    text = " ".join(pieces)
    assume(not re.search(r"[0-9]{4}", text))
    assert extract_deadline(text) is None


_EXPLICIT = [
    "By {y}, build hubs.",
    "Hubs open by the end of {y}.",
    "Rules are due no later than March {y}.",
    "Launch by Q2 {y}.",
    "Finish before {y}.",
    "File by 15 June {y}.",
    "Pilots run through {y}.",
]


@given(
    template=st.sampled_from(_EXPLICIT),
    year=st.integers(min_value=1991, max_value=2100),
    default_year=st.integers(min_value=1990, max_value=2100),
    published_on=st.none() | _dates,
)
def test_default_year_never_overrides_explicit(
    template: str, year: int, default_year: int, published_on: date | None
) -> None:
    text = template.format(y=year)
    plain = extract_deadline(text, published_on=published_on)
    with_default = extract_deadline(text, published_on=published_on, default_year=default_year)
    assert plain is not None
    assert with_default == plain
    assert plain.due_on.year in (year, year - 1)


@given(
    n=st.integers(min_value=1, max_value=20),
    m=st.integers(min_value=1, max_value=20),
    published_on=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
)
def test_windows_are_well_formed(n: int, m: int, published_on: date) -> None:
    low, high = sorted((n, m))
    assume(low < high)
    result = extract_deadline(
        f"Over the next {low} to {high} years, grow.", published_on=published_on
    )
    assert result is not None and result.precision is Precision.WINDOW
    assert result.window_start is not None
    assert published_on < result.window_start < result.due_on
    assert result.due_on.year == published_on.year + high
    assert result.window_start.year == published_on.year + low


@pytest.mark.parametrize(
    "text",
    [
        "by " * 30000,
        "2027" * 25000,
        "1" * 100_000,
        " " * 100_000,
        "by" + " " * 100_000 + "2027",
        "by the end of the " * 6000,
        "within the next " * 7000,
        "goals for " * 10000,
        "by 2027-" * 12000,
        "by mid-" * 14000,
        "within " + "five to " * 12000 + "years",
        "by March " * 10000,
        "by 15 " * 16000,
        "the 14th Five-" * 7000,
        "Goals" + " a" * 50000,
        "\u2013\u201c" * 50000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_huge_adversarial_input_completes(text: str) -> None:
    result = extract_deadline(text, published_on=PUB, default_year=2027)
    assert result is None or isinstance(result, Deadline)
    assert lead_in_year(text) is None or isinstance(lead_in_year(text), int)
