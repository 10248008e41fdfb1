"""Handlers ask data/ for what they need and hold no query of their own: no `select(` in
handlers/ (text or call), so each query lives in the data module of its concept."""

from __future__ import annotations

import ast
from pathlib import Path

import policybot.handlers

HANDLERS = Path(policybot.handlers.__file__).parent


def queries_in(source: str) -> list[int]:
    """Lines that build a SELECT: the text `select(` or a call to anything named select."""
    lines = {n for n, line in enumerate(source.splitlines(), 1) if "select(" in line}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name == "select":
                lines.add(node.lineno)
    return sorted(lines)


def test_the_detector_finds_a_select_however_it_is_written() -> None:
    assert queries_in("rows = session.scalars(select(Brief))\n") == [1]
    assert queries_in("import sqlalchemy as sa\nq = sa.select (Brief)\n") == [2]
    assert queries_in("q = sqlalchemy.select(\n    Brief\n)\n") == [1]
    assert queries_in("selected = pick(rows)\n") == []


def test_handlers_hold_no_select() -> None:
    files = sorted(HANDLERS.glob("*.py"))
    assert len(files) > 10  # the package was found
    found = {
        f"{path.name}:{line}": path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
        for path in files
        for line in queries_in(path.read_text(encoding="utf-8"))
    }
    assert found == {}, "queries belong in data/: " + repr(found)
