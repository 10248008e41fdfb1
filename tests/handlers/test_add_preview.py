"""`add <pasted text>` where there is no form: what the text gives as one brief, its line
breaks kept, and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.models import Brief
from policybot.handlers.commands import CommandRunner
from policybot.handlers.context import Context
from tests.conftest import NOW

PASTED = """/policy add Article: Guidelines on Computing Power Infrastructure (算力基础设施指导意见)
Issuing body: MIIT
Date: November 20, 2024
At a glance: The MIIT set targets for computing power. Key goals include:
• By 2026, computing capacity will reach 300 EFLOPS."""


@pytest.mark.usefixtures("corpus")
def test_add_in_the_console_previews_the_pasted_brief_and_writes_nothing(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        before = session.scalar(select(func.count()).select_from(Brief))
    reply = CommandRunner(factory).run(PASTED, Context(now=NOW))
    assert not reply.is_error, reply.text
    (section,) = reply.sections
    assert section.lines[:3] == (
        "Title: Guidelines on Computing Power Infrastructure",
        "Issuing bodies: MIIT",
        "Date: 2024-11-20",
    )
    assert "(2026)" in str(section.lines[3])
    # Dated 20 Nov 2024, read on 29 Nov 2026: a standalone document counts by its own date.
    assert reply.notes == [
        "Saving adds a new brief as archive (dated over 90 days ago): searchable, "
        "not posted as new."
    ]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Brief)) == before


def test_add_without_text_says_what_to_do(factory: sessionmaker[Session]) -> None:
    reply = CommandRunner(factory).run("/policy add", Context(now=NOW))
    assert reply.is_error and "in Slack, `/policy add` opens a form" in reply.text


@pytest.mark.usefixtures("corpus")
def test_add_reads_labels_run_together_on_one_line(factory: sessionmaker[Session]) -> None:
    """A Slack message often arrives as one line: each label still opens its field."""
    one_line = (
        "/policy add Article: Test Issuing body: MIIT Date: 2024-11-07 At a glance: The MIIT "
        "set targets. By 2026, capacity will reach 300 EFLOPS. MERICS comment: A big step."
    )
    reply = CommandRunner(factory).run(one_line, Context(now=NOW))
    assert not reply.is_error, reply.text
    (section,) = reply.sections
    assert section.lines == (
        "Title: Test",
        "Issuing bodies: MIIT",
        "Date: 2024-11-07",
        "Goal: By 2026, capacity will reach 300 EFLOPS. (2026)",
    )
