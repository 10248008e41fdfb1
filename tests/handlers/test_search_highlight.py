"""Matched words are highlighted in search results: bold in Block Kit, *emphasised* in the
console; through the real search handler on both engines."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from policybot.bot.blocks import render_blocks
from policybot.data.search.highlight import emphasise
from policybot.handlers.briefs import search
from policybot.handlers.context import Context
from policybot.handlers.render_text import render_text
from policybot.handlers.request import Request
from tests.conftest import NOW
from tests.data.test_search import add_brief


def test_search_results_highlight_the_matched_words(session: Session) -> None:
    add_brief(
        session,
        "Energy storage standardisation plan",
        summary="Standards for stored energy in 新型储能 and grids.",
    )
    reply = search(Request(session, Context(now=NOW), "storage standardization", 1))
    text = render_text(reply)
    assert "*storage* *standardisation*" in text
    assert "*Standards* for *stored* energy" in text  # the same stems
    assert "*energy*" not in text and "*grids*" not in text
    blocks = json.dumps(render_blocks(reply), ensure_ascii=False)
    assert "*Standards* for *stored* energy" in blocks
    chinese = search(Request(session, Context(now=NOW), "储能", 1))
    # 储能's thesaurus names include 新型储能, which the brief has whole.
    assert "*新型储能*" in json.dumps(render_blocks(chinese), ensure_ascii=False)
    plain = render_text(search(Request(session, Context(now=NOW), "grids", 1)))
    assert "*grids*" in plain and "*新型储能*" not in plain


def test_a_stopword_of_a_matched_phrase_is_not_marked_on_its_own() -> None:
    text = "The Ministry of Industry and Information Technology joins the Belt and Road."
    marked = emphasise(text, {"and", "belt", "road"})
    assert marked == (
        "The Ministry of Industry and Information Technology joins the *Belt* and *Road*."
    )
