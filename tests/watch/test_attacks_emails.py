"""Attacks on emailed newsletters (bot/emails.py): hostile subjects become safe file names
(no Slack mentions, no paths), texts of the wrong type or size are refused with a sentence."""

from __future__ import annotations

from typing import Any

import pytest

from policybot.bot.emails import email_name, email_text, is_email


@pytest.mark.parametrize(
    "subject",
    [
        "<!channel> ../../etc/passwd",
        "<@U123|boss> <https://evil.example|click>",
        "\x00\x1b[31mred\r\nBcc: x@y.z",
        "政策追踪 " * 2000,
        "",
        None,
        12345,
    ],
)
def test_hostile_subjects_become_safe_names(subject: Any) -> None:
    name = email_name({"subject": subject})
    assert name.endswith(".txt") and len(name) <= 124
    assert not set(name) & set("<>|/\\!@\x00\x1b\r\n`*")
    assert name.strip() == name and name != ".txt"


def test_texts_are_read_only_when_they_are_text_within_the_limit() -> None:
    ok, why = email_text({"subject": "Tracker", "plain_text": "Policy name: x\n"}, 1000)
    assert ok == b"Policy name: x" and why is None
    for info in (
        {"subject": "Empty", "plain_text": "   "},
        {"subject": "Missing"},
        {"subject": "Wrong type", "plain_text": ["a", "list"]},
        {"subject": "Wrong type", "plain_text": {"a": "dict"}},
    ):
        raw, why = email_text(info, 1000)
        assert raw is None and why and why.endswith("Nothing was added.")
    raw, why = email_text({"subject": "Big", "plain_text": "长" * 400}, 1000)  # 1200 bytes
    assert raw is None and why and "too long" in why
    assert is_email({"filetype": "email"}) and is_email({"mode": "email"})
    assert not is_email({"filetype": "pdf", "mode": "hosted"})
