"""Tests for bot.blocks: escaping, cutting at a word, and Slack's message limits.

`assert_valid_message` is the one definition of "a message Slack accepts" for these tests
and the fuzz test (tests/handlers/test_fuzz.py)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from policybot.bot.blocks import (
    ACTION_LINK,
    ACTION_MENU,
    ACTION_RUN,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_HEADER,
    MAX_SECTION,
    MAX_URL,
    cut,
    escape,
    mention,
    render_blocks,
)
from policybot.data.views import BriefView, DeadlineView, GoalView, NoteLine
from policybot.handlers.render_text import render_text
from policybot.handlers.replies import (
    Button,
    HelpEntry,
    Line,
    Person,
    Reply,
    Section,
    Visibility,
)

SLACK_TOTAL_CHARS = 12000
_LINK = re.compile(r"<https?://[^<>|\s]+\|[^<>]*>")
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")
_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,20}>")  # exactly our mention of a Person


def _assert_escaped(text: str) -> None:
    """No raw < > (a channel ping, a typed mention or link) except our own <url|label> links
    and our own user mentions <@U123>, and no & that is not an entity."""
    rest = _MENTION.sub("", _LINK.sub("", text))
    assert "<" not in rest and ">" not in rest, text[:300]
    assert not _ENTITY.search(text), text[:300]


def _button(element: dict[str, Any], action_ids: list[str]) -> int:
    """A command button, a source-link (URL) button or a brief's overflow menu."""
    action_ids.append(element["action_id"])
    if element["type"] == "overflow":
        assert element["action_id"].startswith(f"{ACTION_MENU}:")
        options = element["options"]
        assert 1 <= len(options) <= 5
        for option in options:
            assert 0 < len(option["text"]["text"]) <= 75 and 0 < len(option["value"]) <= 150
        return sum(len(o["text"]["text"]) + len(o["value"]) for o in options)
    assert element["type"] == "button"
    label = element["text"]["text"]
    assert 0 < len(label) <= MAX_BUTTON_TEXT
    if "url" in element:
        assert element["action_id"].startswith(f"{ACTION_LINK}:")
        assert element["url"].startswith(("http://", "https://"))
        assert len(element["url"]) <= MAX_URL and "value" not in element
        return len(label) + len(element["url"])
    value = element["value"]
    assert 0 < len(value) <= MAX_BUTTON_VALUE
    assert element["action_id"].startswith(f"{ACTION_RUN}:")
    return len(label) + len(value)


def assert_valid_message(payload: dict[str, Any]) -> None:
    """A payload Slack accepts: every field within its limit, at most 50 blocks and about
    12,000 characters in all, every typed or stored text escaped."""
    assert set(payload) == {"text", "blocks", "response_type"}
    assert payload["response_type"] in ("ephemeral", "in_channel")
    fallback = payload["text"]
    assert fallback.strip() and len(fallback) <= 3000
    _assert_escaped(fallback)
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= MAX_BLOCKS
    total = 0
    action_ids: list[str] = []
    for block in blocks:
        # slack_sdk parses the dict back and validates it again.
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
        kind = block["type"]
        if kind == "section":
            text = block["text"]["text"]
            assert block["text"]["type"] == "mrkdwn"
            assert text.strip() and len(text) <= MAX_SECTION
            _assert_escaped(text)
            total += len(text)
            if "accessory" in block:
                total += _button(block["accessory"], action_ids)
        elif kind == "header":
            text = block["text"]["text"]
            assert text.strip() and len(text) <= MAX_HEADER
            total += len(text)
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["text"].strip() and len(element["text"]) <= MAX_SECTION
                _assert_escaped(element["text"])
                total += len(element["text"])
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            total += sum(_button(e, action_ids) for e in block["elements"])
        else:
            assert kind == "divider", kind
    assert total <= SLACK_TOTAL_CHARS, total
    assert len(action_ids) == len(set(action_ids))


def texts(payload: dict[str, Any]) -> str:
    parts = []
    for block in payload["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def buttons(payload: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for block in payload["blocks"]:
        elements = [block["accessory"]] if "accessory" in block else block.get("elements", [])
        found += [(e["text"]["text"], e["value"]) for e in elements if "value" in e]
    return found


def menus(payload: dict[str, Any]) -> list[list[str]]:
    """The option values of each overflow menu, in order."""
    return [
        [o["value"] for o in e["options"]]
        for block in payload["blocks"]
        for e in block.get("elements", [])
        if isinstance(e, dict) and e.get("type") == "overflow"
    ]


def links(payload: dict[str, Any]) -> list[str]:
    return [
        e["url"]
        for block in payload["blocks"]
        for e in block.get("elements", [])
        if isinstance(e, dict) and "url" in e
    ]


def sentence_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        key = re.sub(r"[\W_]+", " ", sentence.casefold()).strip()
        if len(key) > 20:  # sentences, not labels such as "Goals"
            counts[key] = counts.get(key, 0) + 1
    return counts


def goal(n: int, text: str = "Build things", due: date | None = date(2027, 12, 31)) -> GoalView:
    return GoalView(f"g{n}", text, due, "year" if due else None, None, "open", 397 if due else None)


def brief(**changes: Any) -> BriefView:
    fields: dict[str, Any] = {
        "ref": "b7",
        "kind": "policy",
        "title": "Action plan for new energy storage",
        "title_original": "新型储能制造业高质量发展行动方案",
        "bodies": ("MIIT",),
        "bodies_more": False,
        "published_on": date(2024, 11, 6),
        "summary": "The MIIT released an action plan.",
        "comment": "A booming industry.",
        "links": ("https://example.com/a?x=1&y=2",),
        "source_label": None,
        "goals": (goal(1), goal(2, "Grow", None)),
    }
    fields.update(changes)
    return BriefView(**fields)


# --- escape and cut -------------------------------------------------------------------------------


def test_escape() -> None:
    assert escape("R&D <!channel> a > b") == "R&amp;D &lt;!channel&gt; a &gt; b"
    assert escape("&amp;") == "&amp;amp;"  # text is escaped once, as typed
    assert escape("plain 储能 *bold*") == "plain 储能 *bold*"


def test_cut_short_text_is_unchanged() -> None:
    assert cut("storage plan", 12) == "storage plan"


def test_cut_at_a_word_with_an_ellipsis() -> None:
    assert cut("energy storage manufacturing plan", 20) == "energy storage\u2026"
    assert cut("one, two, three", 10) == "one, two\u2026"  # no dangling comma


def test_cut_a_long_word_mid_word() -> None:
    result = cut("x" * 50, 10)
    assert result == "x" * 9 + "\u2026" and len(result) == 10


def test_cut_never_leaves_half_an_entity() -> None:
    text = escape("a" * 15 + " & " + "b" * 20)  # "...aaa &amp; bbb..."
    for limit in range(16, 25):
        result = cut(text, limit)
        assert len(result) <= limit
        assert not _ENTITY.search(result), result


@pytest.mark.parametrize("limit", [1, 2, 5, 75, 150, 3000])
def test_cut_never_exceeds_the_limit(limit: int) -> None:
    for text in ("word " * 1000, "x" * 5000, "a " * 3000, "储能" * 3000):
        assert len(cut(text, limit)) <= limit


# --- whole messages ----------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|click> & more"
    reply = Reply(
        text=f"No briefs match {hostile}.",
        notes=[f"Did you mean {hostile}?"],
        briefs=[brief(title=hostile, summary=hostile, source_label=hostile)],
        buttons=[Button(f"Search {hostile}", f"search {hostile}")],
    )
    payload = render_blocks(reply)
    assert_valid_message(payload)  # every mrkdwn text escaped
    assert "<!channel>" not in texts(payload)
    assert "&lt;!channel&gt;" in texts(payload)
    assert payload["text"].startswith("No briefs match &lt;!channel&gt;")
    # Button labels are plain text and values are command text: they stay as typed.
    (label, value) = buttons(payload)[-1]
    assert value == f"search {hostile}"
    assert label.startswith("Search <!channel>") and len(label) <= MAX_BUTTON_TEXT


def test_list_of_briefs_with_show_source_and_menu_and_more() -> None:
    reply = Reply(
        text="8 briefs for MIIT",
        briefs=[brief(ref=f"b{n}") for n in range(5)],
        notes=["Showing 1\u20135 of 8."],
        buttons=[Button("More", "MIIT page:2")],
    )
    payload = render_blocks(reply, "MIIT")
    assert_valid_message(payload)
    assert payload["response_type"] == "ephemeral"
    assert [b["type"] for b in payload["blocks"]] == (
        ["section", "context"] + ["section", "actions", "divider"] * 4 + ["section", "actions"]
    ) + ["actions"]
    assert buttons(payload) == [("Show", f"show b{n}") for n in range(5)] + [
        ("More", "MIIT page:2"),
        ("Share", "MIIT share"),
    ]
    assert links(payload) == ["https://example.com/a?x=1&y=2"] * 5
    assert menus(payload)[0] == ["share:b0", "similar:b0", "remind:b0"]
    assert ":dart: 1 goal due by end of 2027" in texts(payload)


def test_shared_answers_have_no_share_button_or_menu_entry() -> None:
    reply = Reply(text="1 brief", briefs=[brief()], visibility=Visibility.IN_CHANNEL)
    payload = render_blocks(reply, "storage share")
    assert_valid_message(payload)
    assert all(label != "Share" for label, _ in buttons(payload))
    assert menus(payload) == [["similar:b7", "remind:b7"]]


def test_errors_and_plain_answers_get_no_share_button() -> None:
    for reply in (Reply(text="bad", is_error=True), Reply(text="Subscribed s1")):
        payload = render_blocks(reply, "whatever")
        assert all(label != "Share" for label, _ in buttons(payload))


def test_a_brief_without_dated_goals_or_web_links_has_a_smaller_menu() -> None:
    payload = render_blocks(
        Reply(text="1 brief", briefs=[brief(goals=(), links=("javascript:alert(1)",))])
    )
    assert_valid_message(payload)
    assert links(payload) == []
    assert menus(payload) == [["share:b7", "similar:b7"]]


def test_in_channel() -> None:
    payload = render_blocks(Reply(text="1 brief", visibility=Visibility.IN_CHANNEL))
    assert payload["response_type"] == "in_channel"


def test_error_is_marked() -> None:
    payload = render_blocks(Reply(text="`body:` needs a value", is_error=True))
    assert_valid_message(payload)
    assert payload["blocks"][0]["text"]["text"].startswith(":warning: ")


def test_show_brief_in_full() -> None:
    two_links = ("https://example.com/a?x=1&y=2", "https://example.com/b")
    payload = render_blocks(Reply(text="b7: Action plan", detail=brief(links=two_links)))
    assert_valid_message(payload)
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds[:4] == ["section", "header", "context", "section"]  # headline, title, meta
    body = texts(payload)
    for part in (
        "At a glance",
        "Goals",
        "`g1` *by end of 2027, 397 days left*",
        "Comment",
        "Coverage",
    ):
        assert part in body
    # The first link is the Source button; the coverage list holds the others.
    assert links(payload) == ["https://example.com/a?x=1&y=2"]
    assert "<https://example.com/b|https://example.com/b>" in body
    assert "example.com/a" not in body
    assert "Show full brief" not in str(payload)


def test_show_says_each_sentence_once() -> None:
    """A news item whose title is its summary and its goal (demo b8, b18): once each."""
    sentence = (
        "The State Council approved the upgrading of four provincial-level development "
        "zones, i.e., Guangzhou Huadu Economic Development Zone, Jiangxi Guixi Economic "
        "Development Zone, Chongqing Fuling Industrial Park, and Shenyang Financial and "
        "Trade Development Zone, to state-level economic and technological development zones."
    )
    news = brief(
        kind="news",
        title=sentence,
        title_original=None,
        summary=sentence + " Zones get tax breaks.",
        comment="",
        goals=(goal(3, sentence),),
    )
    payload = render_blocks(Reply(text=f"b7: {sentence}", detail=news), "show b7")
    assert_valid_message(payload)
    counts = sentence_counts(texts(payload))
    assert counts and max(counts.values()) == 1, counts
    assert "Zones get tax breaks." in texts(payload)
    assert "the target in the title" in texts(payload)


def test_long_title_is_shown_once_in_full() -> None:
    title = "Notice on " + "industrial development " * 20
    payload = render_blocks(Reply(text="b7", detail=brief(title=title)))
    assert_valid_message(payload)
    assert all(b["type"] != "header" for b in payload["blocks"])
    assert texts(payload).count(title.strip()) == 1


def test_empty_title_and_text_still_make_a_valid_message() -> None:
    payload = render_blocks(
        Reply(text="   ", detail=brief(title="", summary="", comment="", goals=()))
    )
    assert_valid_message(payload)


def test_huge_brief_is_cut_with_a_show_full_brief_button() -> None:
    words = "Policy & support <for> industry, " * 700  # about 23,000 characters
    big = brief(
        summary=words,
        comment=words,
        goals=tuple(goal(n, f"Goal {n}: " + "expand capacity " * 40) for n in range(60)),
        links=tuple(f"https://example.com/{n}?a=1&b=2" for n in range(40)),
    )
    payload = render_blocks(Reply(text="b7: big", detail=big, buttons=[Button("More", "x page:2")]))
    assert_valid_message(payload)
    assert ("Show full brief", "show b7") in buttons(payload)
    assert "\u2026" in texts(payload)
    assert ("More", "x page:2") in buttons(payload)


def test_many_briefs_say_how_many_were_left_out() -> None:
    digest = Reply(
        text="Digest", briefs=[brief(ref=f"b{n}", summary="word " * 60) for n in range(40)]
    )
    payload = render_blocks(digest)
    assert_valid_message(payload)
    shown = sum(1 for label, _ in buttons(payload) if label == "Show")
    assert 5 < shown < 40
    assert f"and {40 - shown} more briefs not shown" in texts(payload)


def test_many_deadlines_and_buttons_stay_within_limits() -> None:
    items = [DeadlineView(goal(n, "x " * 400), brief(ref=f"b{n}")) for n in range(80)]
    many_buttons = [Button(f"Button {n} " + "y" * 100, "z" * 1900) for n in range(30)]
    payload = render_blocks(Reply(text="80 deadlines", deadlines=items, buttons=many_buttons))
    assert_valid_message(payload)
    assert "more deadlines not shown" in texts(payload)


def test_a_button_value_over_the_limit_is_dropped_not_sent() -> None:
    payload = render_blocks(
        Reply(text="x", buttons=[Button("More", "y" * 2001), Button("Ok", "ok")])
    )
    assert_valid_message(payload)
    assert buttons(payload) == [("Ok", "ok")]


def test_help_entries() -> None:
    entry = HelpEntry("/policy <words>", "Search & find.", ("/policy storage", "/policy <x>"))
    payload = render_blocks(Reply(text="help", help=[entry]))
    assert_valid_message(payload)
    assert "`/policy &lt;x&gt;`" in texts(payload)


def test_links_that_are_not_plain_urls_are_text() -> None:
    odd = ("javascript:alert(1)", "https://x.example/" + "a" * 1500, "https://x.example/a|b>c")
    payload = render_blocks(Reply(text="b7", detail=brief(links=odd)))
    assert_valid_message(payload)
    body = texts(payload)
    assert "<javascript" not in body
    assert "<https://x.example/a%7Cb&gt;c|" in body


def test_a_deadline_whose_goal_is_the_title_says_it_once() -> None:
    sentence = "Airbus announced it will open a second A320 assembly line in China by 2026."
    item = DeadlineView(goal(20, sentence), brief(title=sentence, kind="news"))
    payload = render_blocks(Reply(text="1 deadline", deadlines=[item]), "deadlines")
    assert_valid_message(payload)
    assert texts(payload).count(sentence) == 1
    assert ("Show", "show b7") in buttons(payload)
    text = render_text(Reply(text="1 deadline", deadlines=[item]))
    assert text.count(sentence) == 1


def test_text_renderer_says_each_sentence_of_show_once() -> None:
    sentence = "Airbus announced it will open a second A320 assembly line in China by 2026."
    news = brief(
        kind="news",
        title=sentence,
        title_original=None,
        summary=sentence + " Chinese airlines operate 2,232 Airbus planes.",
        comment="",
        goals=(goal(20, sentence),),
    )
    text = render_text(Reply(text=f"b7: {sentence}", detail=news))
    assert text.count(sentence) == 1
    assert "Chinese airlines operate 2,232 Airbus planes." in text
    assert "g20 (by end of 2027, 397 days left): the target in the title" in text


# --- people -----------------------------------------------------------------------------------


def test_people_are_mentions_in_slack_and_names_or_ids_in_the_console() -> None:
    typed = "see <@U999> & <!channel> <https://evil.example|click>"  # a note's typed text
    reply = Reply(
        text="1 team note on b7",
        sections=[
            Section(
                "Team notes",
                (
                    Line((Person("U100"), f" on 29 Nov 2026: {typed}")),
                    Line(("b7 \u2014 ", Person("W0ABC", "analyst"), ": ok")),
                    Line((Person("console"), " on 1 Dec 2026: <b>")),
                    "a plain line with <@U555>",
                ),
            )
        ],
    )
    payload = render_blocks(reply)
    assert_valid_message(payload)
    flat = texts(payload)
    assert "<@U100> on 29 Nov 2026: see &lt;@U999&gt; &amp; &lt;!channel&gt;" in flat
    assert "b7 \u2014 <@W0ABC>: ok" in flat
    assert "console on 1 Dec 2026: &lt;b&gt;" in flat  # not a Slack user id: text
    assert "&lt;@U555&gt;" in flat
    assert set(_MENTION.findall(flat)) == {"<@U100>", "<@W0ABC>"}
    console = render_text(reply)
    assert f"U100 on 29 Nov 2026: {typed}" in console
    assert "b7 \u2014 analyst: ok" in console and "<@U100>" not in console
    assert "<@W0ABC>" not in console and "<@U555>" in console  # typed text stays as typed


def test_a_cut_never_leaves_half_a_mention() -> None:
    text = "x " * 10 + mention(Person("U12345678"))
    for limit in range(len(text) - 8, len(text)):
        _assert_escaped(cut(text, limit))


def test_a_digests_team_notes_name_their_authors_as_people() -> None:
    """A note in a digest: in Slack its author is a mention, in the console the id; what
    was typed stays escaped in both."""
    noted = brief(team_notes=(NoteLine("U100", "Check <!channel> & the subsidy rules"),))
    reply = Reply(text="1 new brief", briefs=[noted], visibility=Visibility.IN_CHANNEL)
    payload = render_blocks(reply, "storage")
    assert_valid_message(payload)
    text = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert ":memo: <@U100>: Check &lt;!channel&gt; &amp; the subsidy rules" in text
    assert "Note: U100: Check <!channel> & the subsidy rules" in render_text(reply)
