"""The add-brief form end to end (signed requests to the real HTTP endpoint, Web API calls
to the fake Slack): `/policy add`, body completion, deadlines read as goals are typed,
field errors, the stored brief; the "Add to policybot" message shortcut; and the form's
checks and body completion on both engines."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.bot.add_brief import (
    ACTION_BODIES,
    ACTION_GOALS,
    CALLBACK_ADD,
    SHORTCUT_ADD_MESSAGE,
    plain_message,
)
from policybot.bot.services import Services
from policybot.data.errors import UserError
from policybot.data.ingest.deadlines import Deadline, Precision
from policybot.data.models import Brief
from policybot.handlers.add_brief import (
    BriefForm,
    FormErrors,
    body_choices,
    deadline_text,
    form_from_text,
    parse_deadline,
    record_from_form,
)
from policybot.handlers.message_brief import MAX_AUTO_TITLE
from tests.bot.conftest import LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.bot.test_panel import interactive, opened_view
from tests.fakeslack import FakeSlack, Fault

ADMIN = "U100"  # the user of slash_form and test_panel.interactive
GOALS = "By 2027, build 100 national standards for solid-state batteries.\nCut costs by 20%."


@pytest.fixture(autouse=True)
def people(fake: FakeSlack) -> None:
    fake.set_user(ADMIN, is_admin=True, name="analyst")


def count_briefs(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Brief)) or 0


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def deadline_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("deadline:")]


def text_state(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def filled(view: dict[str, Any], **extra: dict[str, Any]) -> dict[str, Any]:
    """The state of the form as a person filled it in."""
    values: dict[str, Any] = {
        "title": text_state("Solid-State Battery Standards Plan"),
        "title_original": text_state("固态电池标准体系建设指南"),
        "bodies": {
            ACTION_BODIES: {
                "type": "multi_external_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": "MIIT"}, "value": "MIIT"}
                ],
            }
        },
        "date": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "summary": text_state("The MIIT issued a plan for solid-state battery standards."),
        "goals": {ACTION_GOALS: {"type": "plain_text_input", "value": GOALS}},
        "link": text_state("https://www.miit.gov.cn/solid-state"),
        "note": text_state("A first step towards a national system."),
    }
    for block in deadline_blocks(view):
        initial = block["element"].get("initial_value") or ""
        values[block["block_id"]] = text_state(initial)
    values.update(extra)
    return {"values": values}


def submit(live: LiveServer, view: dict[str, Any], state: dict[str, Any]) -> tuple[int, str]:
    body = {
        "type": "view_submission",
        "trigger_id": "2.3.4",
        "view": {**view, "id": "V1", "hash": "h1", "team_id": "T1", "state": state},
    }
    return interactive(live, body)


def typed_goals(live: LiveServer, fake: FakeSlack, view: dict[str, Any]) -> dict[str, Any]:
    """Type the goals: the form comes back with a deadline field per goal."""
    state = filled(view)
    body = {
        "type": "block_actions",
        "trigger_id": "3.4.5",
        "container": {"type": "view", "view_id": "V1"},
        "view": {**view, "id": "V1", "hash": "h1", "state": state},
        "actions": [{"action_id": ACTION_GOALS, "block_id": "goals", "value": GOALS}],
    }
    status, _ = interactive(live, body)
    assert status == 200
    return opened_view(fake, "views.update")


def test_add_opens_the_form_reads_deadlines_as_typed_and_stores_the_brief(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    before = count_briefs(services)
    status, _ = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "add")))
    assert status == 200
    view = opened_view(fake)
    assert view["callback_id"] == CALLBACK_ADD
    blocks = blocks_by_id(view)
    assert {"title", "title_original", "bodies", "date", "summary", "goals", "link", "note"} <= set(
        blocks
    )
    assert blocks["bodies"]["element"]["type"] == "multi_external_select"
    assert blocks["goals"]["dispatch_action"] is True

    # Completion: an alias finds its body.
    status, body = interactive(
        live,
        {
            "type": "block_suggestion",
            "action_id": ACTION_BODIES,
            "block_id": "bodies",
            "value": "工信部",
            "view": {**view, "id": "V1"},
        },
    )
    assert status == 200
    options = json.loads(body)["options"]
    assert options[0]["value"] == "MIIT" and "Ministry of Industry" in options[0]["text"]["text"]

    updated = typed_goals(live, fake, view)
    deadlines = deadline_blocks(updated)
    assert [b["element"].get("initial_value") for b in deadlines] == ["2027", None]
    assert "solid-state" in deadlines[0]["hint"]["text"]
    assert "Saving adds a new brief." in json.dumps(updated)

    # The second goal had no deadline in its text: the analyst gives it one.
    edited = {deadlines[1]["block_id"]: text_state("2026-06")}
    status, body = submit(live, updated, filled(updated, **edited))
    assert status == 200 and not body.strip(), body  # the form closes
    assert count_briefs(services) == before + 1
    with services.sessions() as session:
        brief = session.scalars(select(Brief).where(Brief.title.like("Solid-State%"))).one()
        assert (brief.title_original, brief.published_on, brief.links) == (
            "固态电池标准体系建设指南",
            date(2026, 11, 20),
            ["https://www.miit.gov.cn/solid-state"],
        )
        assert [b.abbreviation for b in brief.bodies] == ["MIIT"]
        assert (brief.comment, brief.comment_author) == (
            "A first step towards a national system.",
            "analyst",
        )
        assert [(g.text, g.due_on, g.precision) for g in brief.goals] == [
            (GOALS.splitlines()[0], date(2027, 12, 31), "year"),  # read from its text
            ("Cut costs by 20%.", date(2026, 6, 30), "month"),  # as edited
        ]
        ref = brief.ref
    assert wait_for(lambda: fake.calls_to("chat.postEphemeral"))
    confirmation = fake.calls_to("chat.postEphemeral")[0].params
    assert confirmation["channel"] == "C100" and f"Added {ref}" in confirmation["text"]

    # Slack retries the submission: the same brief, not a second one.
    status, body = submit(live, updated, filled(updated, **edited))
    assert status == 200 and not body.strip()
    assert count_briefs(services) == before + 1


def test_bad_fields_come_back_under_each_field_and_nothing_is_stored(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    before = count_briefs(services)
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "add")))
    updated = typed_goals(live, fake, opened_view(fake))
    first = deadline_blocks(updated)[0]["block_id"]
    state = filled(
        updated,
        link=text_state("www.miit.gov.cn no scheme"),
        date={"value": {"type": "datepicker", "selected_date": "2031-01-01"}},
        **{first: text_state("soonish")},
    )
    status, body = submit(live, updated, state)
    assert status == 200 and "Traceback" not in body
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"link", "date", first}
    assert "2026-06-30" in answer["errors"][first]  # it says how to write one
    assert count_briefs(services) == before


def test_only_admins_add_briefs(live: LiveServer, services: Services, fake: FakeSlack) -> None:
    fake.set_user(ADMIN, is_admin=False, name="analyst")
    status, body = post(f"{live.url}/slack/events", urlencode(slash_form(fake, "add")))
    assert status == 200
    assert "Only workspace admins" in json.loads(body)["text"]
    assert not fake.calls_to("views.open")


MESSAGE = (
    "Policy name: Guidelines for Hydrogen Refuelling Networks (加氢网络建设指导意见)\n\n"
    "Issuing body: NDRC\n\n"
    "Date: 12 November 2026\n\n"
    "At a glance: The NDRC set out a national hydrogen refuelling network. Key goals include:\n\n"
    "\u2022 By 2030, build 1,000 refuelling stations\n\n"
    "https://www.ndrc.gov.cn/hydrogen\n"
)


def test_the_message_shortcut_opens_the_form_filled_from_the_message(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    before = count_briefs(services)
    body = {
        "type": "message_action",
        "callback_id": SHORTCUT_ADD_MESSAGE,
        "trigger_id": "4.5.6",
        "response_url": fake.response_url("shortcut"),
        "channel": {"id": "C100", "name": "policy"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": MESSAGE},
        "message_ts": "1700000000.000100",
    }
    status, _ = interactive(live, body)
    assert status == 200
    view = opened_view(fake)
    blocks = blocks_by_id(view)
    assert (
        blocks["title"]["element"]["initial_value"] == "Guidelines for Hydrogen Refuelling Networks"
    )
    assert blocks["title_original"]["element"]["initial_value"] == "加氢网络建设指导意见"
    assert blocks["date"]["element"]["initial_date"] == "2026-11-12"
    assert [o["value"] for o in blocks["bodies"]["element"]["initial_options"]] == ["NDRC"]
    assert blocks["link"]["element"]["initial_value"] == "https://www.ndrc.gov.cn/hydrogen"
    [deadline] = deadline_blocks(view)
    assert deadline["element"]["initial_value"] == "2030"

    # Saved as it was read.
    values = {
        block_id: (
            {"value": {"type": "datepicker", "selected_date": block["element"]["initial_date"]}}
            if block_id == "date"
            else {
                ACTION_BODIES: {
                    "type": "multi_external_select",
                    "selected_options": block["element"]["initial_options"],
                }
            }
            if block_id == "bodies"
            else {
                block["element"]["action_id"]: {
                    "type": "plain_text_input",
                    "value": block["element"].get("initial_value"),
                }
            }
        )
        for block_id, block in blocks.items()
        if block["type"] == "input"
    }
    status, answer = submit(live, view, {"values": values})
    assert status == 200 and not answer.strip(), answer
    assert count_briefs(services) == before + 1
    with services.sessions() as session:
        brief = session.scalars(
            select(Brief).where(Brief.title.like("Guidelines for Hydrogen%"))
        ).one()
        assert [(g.due_on, g.precision) for g in brief.goals] == [(date(2030, 12, 31), "year")]
        assert [b.abbreviation for b in brief.bodies] == ["NDRC"]


# ---------------------------------------------------------------- the form's steps


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("2027", Deadline(date(2027, 12, 31), Precision.YEAR)),
        ("2026-06", Deadline(date(2026, 6, 30), Precision.MONTH)),
        ("2026-02-28", Deadline(date(2026, 2, 28), Precision.DAY)),
        ("2026 to 2030", Deadline(date(2030, 12, 31), Precision.WINDOW, date(2026, 1, 1))),
        ("2026-03 to 2027-06", Deadline(date(2027, 6, 30), Precision.WINDOW, date(2026, 3, 1))),
    ],
)
def test_deadlines_read_back_as_shown(text: str, deadline: Deadline) -> None:
    parsed = parse_deadline(text, None)
    assert parsed is not None
    assert (parsed.due_on, parsed.precision, parsed.window_start) == (
        deadline.due_on,
        deadline.precision,
        deadline.window_start,
    )
    assert deadline_text(parsed) == text


def test_deadline_words_and_refusals() -> None:
    by_march = parse_deadline("by March 2026", None)
    assert by_march is not None and by_march.due_on == date(2026, 3, 31)
    assert parse_deadline("  ", None) is None
    for bad in ("2026-13", "2030 to 2026", "whenever"):
        with pytest.raises(ValueError):
            parse_deadline(bad, None)


def test_the_form_checks_every_field_at_once() -> None:
    form = BriefForm(
        title=" ",
        published_on="2026-02-30",
        link="ftp://x",
        goals="a\nb",
        deadlines=[None, "later"],
    )
    with pytest.raises(FormErrors) as caught:
        record_from_form(form, date(2026, 11, 29))
    assert set(caught.value.errors) == {"title", "date", "link", "deadline:1"}


def test_body_completion_uses_the_table_and_aliases(
    factory: sessionmaker[Session], corpus: None
) -> None:
    with factory() as session:
        assert body_choices(session, "工信部")[0][0] == "MIIT"
        assert body_choices(session, "miit")[0][0] == "MIIT"
        assert body_choices(session, "Development and Reform")[0][0] == "NDRC"
        assert body_choices(session, "") == []
        assert body_choices(session, "zzzz") == []


def test_the_shortcut_tells_a_non_admin_why_not(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    fake.set_user(ADMIN, is_admin=False, name="analyst")
    body = {
        "type": "message_action",
        "callback_id": SHORTCUT_ADD_MESSAGE,
        "trigger_id": "4.5.6",
        "channel": {"id": "C100", "name": "policy"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": MESSAGE},
    }
    status, _ = interactive(live, body)
    assert status == 200
    assert wait_for(lambda: fake.calls_to("chat.postEphemeral"))
    refusal = fake.calls_to("chat.postEphemeral")[0].params
    assert refusal["user"] == ADMIN and "Only workspace admins" in refusal["text"]
    assert not fake.calls_to("views.open")


def test_a_stale_update_while_typing_is_not_an_error(
    live: LiveServer, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    post(f"{live.url}/slack/events", urlencode(slash_form(fake, "add")))
    view = opened_view(fake)
    fake.fail_next("views.update", Fault("error", error="hash_conflict"))
    typed_goals(live, fake, view)  # answered hash_conflict: a newer keystroke follows
    assert fake.calls_to("views.update")[0].response["error"] == "hash_conflict"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_unlabelled_message_is_guessed_and_the_guesses_named() -> None:
    form = form_from_text(
        "MIIT plan for humanoid robots\n\nThe MIIT wants mass production by 2027.\n"
        "https://www.miit.gov.cn/robots"
    )
    assert form.title == "MIIT plan for humanoid robots"
    assert form.bodies == ["MIIT"] and form.link == "https://www.miit.gov.cn/robots"
    assert form.deadlines == ["2027"]
    assert any("the title is the first line or sentence" in w for w in form.warnings)
    with pytest.raises(UserError, match="one brief"):
        form_from_text("x" * 30_000)


# ---------------------------------------------------------------- ordinary messages

# (the message as Slack sends it, title, Chinese title, first link, a piece of the summary)
ORDINARY = [
    (
        "MIIT issues guidelines for humanoid robot innovation. The plan wants mass production"
        " by 2025 and a world-leading industry by 2027. <https://www.miit.gov.cn/art_1.html|Full"
        " text>",
        "MIIT issues guidelines for humanoid robot innovation",
        "",
        "https://www.miit.gov.cn/art_1.html",
        "The plan wants mass production by 2025",
    ),
    (
        "Heads up: <https://www.ndrc.gov.cn/t20241107.html> NDRC notice on new energy storage"
        " pricing",
        "NDRC notice on new energy storage pricing",
        "",
        "https://www.ndrc.gov.cn/t20241107.html",
        "",
    ),
    (
        "2024-11-20 MIIT: Guidelines on Computing Power Infrastructure (算力基础设施高质量发展行动计划)."
        " Computing power to reach 300 EFLOPS by 2025.",
        "MIIT: Guidelines on Computing Power Infrastructure",
        "算力基础设施高质量发展行动计划",
        "",
        "Computing power to reach 300 EFLOPS by 2025.",
    ),
    (
        "【工信部：到2027年人形机器人产业规模显著提升】11月5日，工业和信息化部印发《人形机器人创新发展指导意见》。"
        "<https://www.gov.cn/x.htm|gov.cn>",
        "工信部：到2027年人形机器人产业规模显著提升",
        "工信部：到2027年人形机器人产业规模显著提升",
        "https://www.gov.cn/x.htm",
        "11月5日，工业和信息化部印发《人形机器人创新发展指导意见》。",
    ),
    (
        "关于推动未来产业创新发展的实施意见（Implementation Opinions on Promoting Innovation in Future"
        " Industries）\n工业和信息化部等七部门联合印发，到2027年未来产业综合实力显著提升。",
        "Implementation Opinions on Promoting Innovation in Future Industries",
        "关于推动未来产业创新发展的实施意见",
        "",
        "到2027年未来产业综合实力显著提升。",
    ),
    (
        "Nov 7, 2024 \u2014 NDRC and NEA release the action plan for new-type power systems, calling"
        " for grid-forming storage pilots and a unified market by 2029; details:"
        " https://www.nea.gov.cn/a.htm",
        "NDRC and NEA release the action plan for new-type power systems, calling for "
        "grid-forming storage pilots and a unified market by 2029",
        "",
        "https://www.nea.gov.cn/a.htm",
        "",
    ),
    (
        "new energy storage plan out today, pretty big deal imo",
        "new energy storage plan out today, pretty big deal imo",
        "",
        "",
        "",
    ),  # fmt: skip
    (
        "Shared by <@U0123|ann>: State Council opinions on the digital economy &amp; data markets"
        " <https://www.gov.cn/content_1.htm|www.gov.cn/content_1.htm>",
        "State Council opinions on the digital economy & data markets",
        "",
        "https://www.gov.cn/content_1.htm",
        "",
    ),
    (
        "国务院办公厅印发《关于加快构建废弃物循环利用体系的意见》，到2025年初步建成覆盖各领域、各环节的废弃物循环利用体系，"
        "到2030年建成覆盖全面、运转高效、规范有序的废弃物循环利用体系。",
        "关于加快构建废弃物循环利用体系的意见",
        "关于加快构建废弃物循环利用体系的意见",
        "",
        "国务院办公厅印发《关于加快构建废弃物循环利用体系的意见》",
    ),
    (
        "Ministry of Finance (财政部) extends NEV purchase tax exemption to 2027",
        "Ministry of Finance (财政部) extends NEV purchase tax exemption to 2027",
        "",  # a body in brackets is no title
        "",
        "",
    ),
    (
        "NEA: China's installed new-type energy storage capacity topped 44 GW by end-June, up 40%"
        " on the end of 2023, the NEA said on Tuesday, adding that the U.S. and Europe lag behind"
        " and that it expects the capacity to pass 100 GW by 2027 as pilot projects across 18"
        " provinces come online and market reforms take hold",
        "NEA: China's installed new-type energy storage capacity topped 44 GW by end-June, up 40%"
        " on the end of 2023, the NEA said on Tuesday",
        "",
        "",
        "expects the capacity to pass 100 GW by 2027",  # the cut sentence stays whole here
    ),
    (
        "*MIIT* draft rules on L3 autonomous driving pilots\n\n- 9 carmakers selected\n- pilots"
        " run to end-2026\n\n<https://www.miit.gov.cn/l3|MIIT notice> \u00b7"
        " <https://www.reuters.com/l3|Reuters>",
        "MIIT draft rules on L3 autonomous driving pilots",
        "",
        "https://www.miit.gov.cn/l3",
        "- 9 carmakers selected\n- pilots run to end-2026",
    ),
    (
        "2024年11月12日 国家发展改革委印发《关于加快推动氢能产业高质量发展的实施意见》",
        "关于加快推动氢能产业高质量发展的实施意见",
        "关于加快推动氢能产业高质量发展的实施意见",
        "",
        "国家发展改革委印发",
    ),
    (
        "Hydrogen: NDRC guidelines (氢能产业发展中长期规划). Targets: 50,000 fuel-cell vehicles by"
        " 2025.\nSource: https://www.ndrc.gov.cn/h2.html",
        "Hydrogen: NDRC guidelines",
        "氢能产业发展中长期规划",
        "https://www.ndrc.gov.cn/h2.html",
        "Targets: 50,000 fuel-cell vehicles by 2025.",
    ),
    (
        "FYI China's MIIT just published a 3-year action plan for the semiconductor materials"
        " industry, it says domestic supply of key materials should hit 70% by 2026, no English"
        " version yet",
        "China's MIIT just published a 3-year action plan for the semiconductor materials industry",
        "",
        "",
        "should hit 70% by 2026",
    ),
    (
        "Smart factories: MIIT selects 421 demonstration plants (see 智能制造示范工厂揭榜单位名单)",
        "Smart factories: MIIT selects 421 demonstration plants",
        "智能制造示范工厂揭榜单位名单",
        "",
        "",
    ),
    (
        "The State Council's 《新能源汽车产业发展规划（2021—2035年）》 sets out the NEV plan. By 2025 NEVs"
        " should reach 20% of new car sales.",
        "The State Council's 《新能源汽车产业发展规划（2021—2035年）》 sets out the NEV plan",
        "新能源汽车产业发展规划（2021—2035年）",
        "",
        "By 2025 NEVs should reach 20% of new car sales.",
    ),
    (
        "<https://www.miit.gov.cn/a|MIIT> and <https://www.nea.gov.cn/b|NEA> publish a joint"
        " notice on virtual power plants\nIt sets pilots in 10 provinces.",
        "MIIT and NEA publish a joint notice on virtual power plants",
        "",
        "https://www.miit.gov.cn/a",
        "It sets pilots in 10 provinces.",
    ),
]


@pytest.mark.parametrize(
    ("message", "title", "original", "link", "summary"), ORDINARY, ids=[m[0][:30] for m in ORDINARY]
)
def test_an_ordinary_message_is_split_as_a_person_would(
    message: str, title: str, original: str, link: str, summary: str
) -> None:
    form = form_from_text(plain_message(message))
    assert (form.title, form.title_original, form.link) == (title, original, link)
    assert summary in form.summary
    # What every message gives, whatever its shape:
    urls = re.findall(r"https?://[^\s<>|]+", message)
    lines = form.summary.splitlines()
    text = "\n".join(line for line in lines if not line.startswith("More links:"))
    for field in (form.title, form.title_original, text):
        assert "http" not in field and "<" not in field and "&amp;" not in field
    assert 0 < len(form.title) <= MAX_AUTO_TITLE
    assert not form.title.endswith((".", ":", ",", "\u3002"))
    assert {form.link, *form.summary.split("More links: ")[-1:][0].split()} >= set(urls)
    words = plain_message(message)
    for url in urls:
        words = words.replace(url, " ")
    said = " ".join([form.title, form.title_original, form.summary])
    for number in re.findall(r"\d+(?:[.,]\d+)*%?", words[12:]):  # past any leading date
        assert number in said, number


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("<https://a.cn/x|the notice>", "the notice (https://a.cn/x)"),
        ("<https://a.cn/x>", "https://a.cn/x"),
        ("<https://a.cn/x|a.cn>", "https://a.cn/x"),
        ("<mailto:ann@a.cn|ann@a.cn>", "ann@a.cn"),
        ("<@U1|ann> <#C1|general> <!here> <!subteam^S1|@policy>", "@ann #general @here @policy"),
        ("R&amp;D &lt;b&gt; *bold* _it_ ~gone~ art_1_x", "R&D <b> bold it gone art_1_x"),
        ("<!date^1700000000^{date}|Nov 14, 2023>: plan", "Nov 14, 2023: plan"),
    ],
)
def test_slack_markup_becomes_plain_text(slack: str, plain: str) -> None:
    assert plain_message(slack) == plain


def test_the_shortcut_splits_a_one_paragraph_message(
    live: LiveServer, services: Services, fake: FakeSlack
) -> None:
    message, title, _, link, summary = ORDINARY[0]
    body = {
        "type": "message_action",
        "callback_id": SHORTCUT_ADD_MESSAGE,
        "trigger_id": "4.5.7",
        "response_url": fake.response_url("shortcut"),
        "channel": {"id": "C100", "name": "policy"},
        "message": {"type": "message", "ts": "1700000000.000200", "text": message},
        "message_ts": "1700000000.000200",
    }
    status, _ = interactive(live, body)
    assert status == 200
    blocks = blocks_by_id(opened_view(fake))
    assert blocks["title"]["element"]["initial_value"] == title
    assert blocks["link"]["element"]["initial_value"] == link
    assert summary in blocks["summary"]["element"]["initial_value"]
