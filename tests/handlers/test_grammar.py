"""Tests for data.query.language: tokenize and parse_query (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from policybot.data.models import BriefKind
from policybot.data.query.language import (
    MAX_QUERY_CHARS,
    Token,
    UserError,
    clean_text,
    parse_date_bound,
    parse_query,
    shortened,
    tokenize,
)

# --- tokenize -----------------------------------------------------------------------------


def test_tokenize_words_and_phrases() -> None:
    tokens, unbalanced = tokenize('storage "smart factory" -battery')
    assert tokens == [
        Token("storage"),
        Token("smart factory", quoted=True),
        Token("-battery"),
    ]
    assert not unbalanced


def test_tokenize_unbalanced_quote_closes_at_the_end() -> None:
    tokens, unbalanced = tokenize('storage "smart factory')
    assert tokens == [Token("storage"), Token("smart factory", quoted=True)]
    assert unbalanced


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("\u201csmart factory\u201d", "smart factory"),  # “…” as phones type them
        ("\u201esmart factory\u201c", "smart factory"),  # „…“
        ("\u201esmart factory\u201d", "smart factory"),  # „…”
        ("\u00absmart factory\u00bb", "smart factory"),  # «…»
        ("\u300c智能工厂\u300d", "智能工厂"),  # 「…」
        ('\u201csmart factory"', "smart factory"),  # mixed curly and straight
        ("'smart factory'", "smart factory"),
    ],
)
def test_tokenize_curly_and_other_quotes(text: str, phrase: str) -> None:
    tokens, unbalanced = tokenize(f"{text} pilot")
    assert tokens == [Token(phrase, quoted=True), Token("pilot")]
    assert not unbalanced


def test_apostrophe_in_a_word_is_not_a_quote() -> None:
    tokens, unbalanced = tokenize("China's storage plan")
    assert tokens == [Token("China's"), Token("storage"), Token("plan")]
    assert not unbalanced
    # A lone apostrophe at a word start, with no closing one, is part of the word.
    assert tokenize("'tis storage")[0] == [Token("'tis"), Token("storage")]


@pytest.mark.parametrize(
    "text",
    [
        'body:"Ministry of Finance"',
        "body:\u201cMinistry of Finance\u201d",
        "body:'Ministry of Finance'",
    ],
)
def test_filter_value_in_quotes_stays_one_token(text: str) -> None:
    tokens, unbalanced = tokenize(f"{text} storage")
    assert tokens == [Token("body:Ministry of Finance"), Token("storage")]
    assert not unbalanced


def test_filter_value_with_unbalanced_quote() -> None:
    tokens, unbalanced = tokenize('storage body:"Ministry of Finance')
    assert tokens == [Token("storage"), Token("body:Ministry of Finance")]
    assert unbalanced


def test_negated_phrase() -> None:
    tokens, _ = tokenize('storage -"smart factory"')
    assert tokens == [Token("storage"), Token("smart factory", quoted=True, negated=True)]


def test_tokenize_whitespace_only() -> None:
    assert tokenize("  \t \n ") == ([], False)


# --- parse_query: words, phrases, exclusions -----------------------------------------------


def test_parse_the_documented_example() -> None:
    query = parse_query(
        'storage "smart factory" -battery body:MIIT since:2024-11 until:2024-12-31 due:2027'
        " kind:news"
    )
    assert list(query.words) == ["storage"]
    assert list(query.phrases) == ["smart factory"]
    assert list(query.excluded) == ["battery"]
    assert list(query.bodies) == ["MIIT"]
    assert query.since == date(2024, 11, 1)
    assert query.until == date(2024, 12, 31)
    assert query.due_year == 2027
    assert query.kind is BriefKind.NEWS
    assert list(query.notes) == []


def test_describe_round_trips() -> None:
    text = (
        'storage "smart factory" -battery -"pilot zone" body:"Ministry of Finance" -body:MIIT'
        " since:2024-11-01 kind:policy"
    )
    query = parse_query(text)
    again = parse_query(query.describe())
    assert again == query


def test_exclusions() -> None:
    query = parse_query('-battery -"smart factory" -body:MIIT')
    assert list(query.excluded) == ["battery"]
    assert list(query.excluded_phrases) == ["smart factory"]
    assert list(query.excluded_bodies) == ["MIIT"]
    assert query.is_empty and query.has_exclusions


@pytest.mark.parametrize("text", ["-", "--", "- -", '""', '-""'])
def test_stray_dashes_and_empty_quotes_are_nothing(text: str) -> None:
    query = parse_query(text)
    assert query.is_empty and not query.has_exclusions


def test_double_dash_word_is_a_word() -> None:
    assert list(parse_query("--verbose").words) == ["--verbose"]


def test_fts_and_sql_syntax_are_plain_words() -> None:
    # AND is what every query means anyway; OR joins its neighbours; the rest are words.
    query = parse_query("NEAR( storage* AND OR ^x {y} '; DROP TABLE briefs; --")
    assert list(query.words) == ["NEAR(", "{y}", "';", "DROP", "TABLE", "briefs;"]
    assert [list(g) for g in query.any_of] == [["storage*", "^x"]]
    assert list(query.excluded) == []


def test_or_not_and_prefix() -> None:
    query = parse_query('storage OR battery OR "pumped hydro" NOT lithium -sodium manuf*')
    assert [list(g) for g in query.any_of] == [["storage", "battery", '"pumped hydro"']]
    assert list(query.excluded) == ["lithium", "sodium"]
    assert list(query.words) == ["manuf*"]
    assert query.describe() == 'manuf* storage OR battery OR "pumped hydro" -lithium -sodium'
    assert list(parse_query("OR storage").words) == ["OR", "storage"]  # nothing to join: a word
    assert list(parse_query("storage NOT").words) == ["storage", "NOT"]


def test_a_word_ending_in_a_colon_is_a_word() -> None:
    query = parse_query("China: storage")
    assert list(query.words) == ["China:", "storage"]


def test_links_are_words_not_filters() -> None:
    query = parse_query("https://example.com/a:b http://x.cn")
    assert list(query.words) == ["https://example.com/a:b", "http://x.cn"]


def test_full_width_filter_key() -> None:
    assert list(parse_query("\uff42\uff4f\uff44\uff59:MIIT").bodies) == ["MIIT"]  # ｂｏｄｙ:MIIT


def test_filter_keys_ignore_case() -> None:
    query = parse_query("BODY:miit Kind:NEWS")
    assert list(query.bodies) == ["miit"]
    assert query.kind is BriefKind.NEWS


# --- filters and their messages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("body:", "body:MIIT"),
        ("since:", "since:2024-11-01"),
        ("until:", "until:2024-12-31"),
        ("due:", "due:2027"),
        ("kind:", "kind:news"),
        ('body:""', "body:MIIT"),
    ],
)
def test_filter_without_value(text: str, example: str) -> None:
    with pytest.raises(UserError) as error:
        parse_query(f"storage {text}")
    assert "needs a value" in str(error.value)
    assert example in str(error.value)


def test_unknown_filter_names_the_filters_and_a_close_one() -> None:
    with pytest.raises(UserError) as error:
        parse_query("bdy:MIIT")
    message = str(error.value)
    assert "`bdy:`" in message and "Did you mean `body:`?" in message
    assert all(f"`{f}:`" in message for f in ("body", "since", "until", "due", "kind"))


def test_unknown_filter_without_a_close_one() -> None:
    with pytest.raises(UserError) as error:
        parse_query("zzzzz:1")
    assert "Did you mean" not in str(error.value)
    assert "`zzzzz:`" in str(error.value)


@pytest.mark.parametrize(
    "value",
    ["notadate", "2024-13", "2024-02-30", "0000", "24-11-01", "2024/11/01", "2024-11-01T00:00"],
)
def test_since_not_a_date(value: str) -> None:
    with pytest.raises(UserError) as error:
        parse_query(f"since:{value}")
    assert f"`{value}` is not a date" in str(error.value)
    assert "2024-11-01, 2024-11 or 2024" in str(error.value)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-11", date(2024, 11, 1), date(2024, 11, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-11-01", date(2024, 11, 1), date(2024, 11, 1)),
        ("2024-1-5", date(2024, 1, 5), date(2024, 1, 5)),
    ],
)
def test_date_bounds(value: str, start: date, end: date) -> None:
    assert parse_date_bound(value, end=False) == start
    assert parse_date_bound(value, end=True) == end
    query = parse_query(f"since:{value} until:{value}")
    assert (query.since, query.until) == (start, end)


def test_since_after_until() -> None:
    with pytest.raises(UserError) as error:
        parse_query("storage since:2025 until:2024-06")
    assert "`since:2025-01-01` is after `until:2024-06-30`" in str(error.value)


def test_since_equal_to_until_is_one_day() -> None:
    query = parse_query("since:2024-11-06 until:2024-11-06")
    assert query.since == query.until == date(2024, 11, 6)


@pytest.mark.parametrize("value", ["27", "20277", "1899", "2201", "next", "2027-01"])
def test_due_takes_a_year(value: str) -> None:
    with pytest.raises(UserError) as error:
        parse_query(f"due:{value}")
    assert "`due:` takes a year" in str(error.value)


def test_kind_values() -> None:
    assert parse_query("kind:policy").kind is BriefKind.POLICY
    with pytest.raises(UserError) as error:
        parse_query("kind:law")
    assert str(error.value).startswith("`kind:` is `kind:policy` or `kind:news`")
    assert "`kind:company`" in str(error.value)
    company = parse_query("kind:company")
    assert company.company and company.kind is None and company.describe() == "kind:company"


@pytest.mark.parametrize("text", ["-since:2024", "-kind:news", "-due:2027"])
def test_only_bodies_can_be_excluded_among_filters(text: str) -> None:
    with pytest.raises(UserError) as error:
        parse_query(text)
    assert "cannot be excluded" in str(error.value)


def test_body_value_in_curly_quotes() -> None:
    query = parse_query("body:\u201cMinistry of Finance\u201d since:2024")
    assert list(query.bodies) == ["Ministry of Finance"]
    assert query.since == date(2024, 1, 1)


# --- hostile text ---------------------------------------------------------------------------


def test_ten_thousand_characters_are_cut_with_a_note() -> None:
    query = parse_query("storage " * 1250)  # 10,000 characters
    assert len(" ".join(query.words)) <= MAX_QUERY_CHARS
    assert query.words[0] == "storage"
    assert any(str(MAX_QUERY_CHARS) in note for note in query.notes)


@pytest.mark.parametrize("unit", ["at a glance, many storage ", "储能 电池 ", "lithium\tbattery "])
def test_a_long_query_is_cut_between_words(unit: str) -> None:
    text = clean_text(unit * (10_000 // len(unit)))  # a tab is a space
    query = parse_query(text)
    kept = shortened(text)
    assert len(kept) <= MAX_QUERY_CHARS and text.startswith(kept)
    assert text[len(kept)].isspace()  # the cut falls between two words
    assert set(query.words) <= {w for w in unit.split()}  # no word cut short
    # A single word longer than the limit still keeps its first characters.
    assert shortened("x" * 900) == "x" * MAX_QUERY_CHARS
    assert shortened("short query") == "short query"


def test_control_characters_separate_words() -> None:
    query = parse_query("storage\x00battery\x1b[31m\r\nsmart\u2028factory\x7f")
    assert list(query.words) == ["storage", "battery", "[31m", "smart", "factory"]


def test_format_characters_are_dropped_and_zero_width_space_separates() -> None:
    assert clean_text("\ufeffsto\u00adrage\u202e") == "storage"
    assert list(parse_query("storage\u200bbattery").words) == ["storage", "battery"]


def test_emoji_and_right_to_left_text_survive() -> None:
    query = parse_query(
        "\U0001f600 \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"
        " \U0001f469\u200d\U0001f52c"
    )
    assert list(query.words) == [
        "\U0001f600",
        "\u05e9\u05dc\u05d5\u05dd",
        "\u0645\u0631\u062d\u0628\u0627",
        "\U0001f469\u200d\U0001f52c",
    ]


def test_lone_surrogates_are_dropped() -> None:
    assert list(parse_query("stor\ud800age").words) == ["storage"]


def test_empty_text() -> None:
    query = parse_query("")
    assert query.is_empty and not query.has_exclusions and list(query.notes) == []


def test_an_unknown_filter_is_suggested_only_when_close() -> None:
    with pytest.raises(UserError) as far:
        parse_query("title:storage")
    assert "Did you mean" not in str(far.value) and "`title:`" in str(far.value)
    with pytest.raises(UserError) as near:
        parse_query("untill:2024")
    assert "Did you mean `until:`?" in str(near.value)
