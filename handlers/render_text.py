"""Render a Reply as plain text for the console and `policybot ask`."""

from __future__ import annotations

import textwrap
from dataclasses import replace

from ..data.search.highlight import emphasise
from ..data.views import BriefView, DeadlineView, GoalView, countdown, due_summary
from .reading import (
    brief_parts,
    headline_repeats_detail,
    snippet_source,
    title_repeats_goal,
)
from .replies import Line, Reply

WIDTH = 92


def _wrap(text: str, indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        lines.extend(
            textwrap.wrap(paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent)
            or [indent]
        )
        lines.append("")
    return lines[:-1]


def _goal_line(goal: GoalView, text: str) -> str:
    deadline = goal.deadline_label
    if goal.due_on:
        deadline += f", {countdown(goal.days_left)}"
    status = "" if goal.status == "open" else f" [{goal.status}]"
    return f"{goal.ref} ({deadline}){status}: {text}"


def _brief_heading(brief: BriefView) -> list[str]:
    lines = [f"[{brief.ref}] {brief.title}"]
    if brief.title_original:
        lines.append(f"      {brief.title_original}")
    meta = [brief.kind, brief.date_label]
    if brief.bodies:
        meta.append(brief.bodies_label)
    if brief.source_label:
        meta.append(f"source: {brief.source_label}")
    lines.append("      " + " | ".join(meta))
    return lines


def _brief_item(brief: BriefView) -> list[str]:
    # A search result emphasises the words the search matched (*word*).
    matched = brief.matched_terms
    lines = _brief_heading(replace(brief, title=emphasise(brief.title, matched)))
    if summary := snippet_source(brief):
        snippet = textwrap.shorten(summary, 240, placeholder=" \u2026")
        lines += _wrap(emphasise(snippet, matched), "      ")
    due = due_summary(brief)
    if due:
        lines.append(f"      {due}")
    for note in brief.team_notes[:2]:
        lines += _wrap(f"Note: {note.author}: {note.text}", "      ")
    return lines


def _detail(brief: BriefView) -> list[str]:
    lines = _brief_heading(brief)
    parts = brief_parts(brief)
    if parts.summary:
        lines += ["", "At a glance:", *_wrap(parts.summary)]
    if parts.goals:
        lines += ["", "Goals:"]
        for line in parts.goals:
            lines += textwrap.wrap(
                _goal_line(line.goal, line.text),
                WIDTH,
                initial_indent="  - ",
                subsequent_indent="    ",
            )
    if brief.comment:
        label = f"{brief.comment_author} comment" if brief.comment_author else "Comment"
        lines += ["", f"{label}:", *_wrap(brief.comment)]
    if brief.source:  # the official text when there is one (data/views.py)
        lines += ["", f"Source: {brief.source}"]
    if brief.coverage:
        lines += ["Coverage:", *(f"  {link}" for link in brief.coverage)]
    if brief.issue:
        lines += ["", f"From: {brief.issue}"]
    return lines


def _deadline(item: DeadlineView) -> list[str]:
    goal = item.goal
    note = f"[{item.note}] " if item.note else ""
    title = "" if title_repeats_goal(item) else f" {item.brief.title}"
    head = (
        f"{note}{goal.deadline_label} ({countdown(goal.days_left)}) {goal.ref}"
        f" in [{item.brief.ref}]{title}"
    )
    meta = [item.brief.date_label]
    if item.brief.bodies:
        meta.append(item.brief.bodies_label)
    lines = textwrap.wrap(head, WIDTH, subsequent_indent="    ")
    lines.append("    " + " | ".join(meta))
    lines += textwrap.wrap(goal.text, WIDTH, initial_indent="    ", subsequent_indent="    ")
    return lines


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KiB"


def render_text(reply: Reply) -> str:
    # `show` answers "b8: <title>"; the brief's own heading says it just below.
    shown_below = not reply.is_error and headline_repeats_detail(reply.text, reply.detail)
    lines = [] if shown_below else [("Sorry: " if reply.is_error else "") + reply.text]
    for note in reply.notes:
        lines.append(f"  {note}")
    for brief in reply.briefs:
        lines += ["", *_brief_item(brief)]
    if reply.detail is not None:
        lines += ["", *_detail(reply.detail)] if lines else _detail(reply.detail)
    for item in reply.deadlines:
        lines += ["", *_deadline(item)]
    for section in reply.sections:
        lines += ["", section.title]
        for line in section.lines:
            text = line.plain() if isinstance(line, Line) else line
            lines += textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="    ")
    for entry in reply.help:
        lines += ["", entry.usage, *_wrap(entry.summary, "    ")]
        lines += [f"      e.g. {example}" for example in entry.examples]
    if reply.footer:
        lines += ["", *_wrap(" \u00b7 ".join(reply.footer), "  ")]
    if reply.attachment is not None:
        file = reply.attachment
        lines += ["", f"  File: {file.filename} ({file.mime}, {_size(len(file.content))})"]
    actions = [b for b in reply.buttons]
    if actions:
        lines.append("")
        for button in actions:
            hint = "more" if button.label == "More" else f"/policy {button.command}"
            lines.append(f"  [{button.label}] type: {hint}")
    return "\n".join(lines).rstrip() + "\n"
