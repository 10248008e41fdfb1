"""One way to open a transaction: data.db.unit_of_work. This reads the source tree and fails
on a session or transaction opened any other way (`sessions()`, `factory()`, `Session(...)`,
`reading(...)`, `.begin()`), so a new listener or handler cannot quietly grow its own."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "scheduler", "data")
HELPER = Path("data/db.py")  # where unit_of_work, reading and the engines live
# Calls that hand out a session or start a transaction.
OPENERS = {"Session", "reading", "begin", "sessions", "factory", "sessionmaker"}

# Below sessions, inside data/: work on an engine's own connection that no session holds
# (ANALYZE, giving the search index its identity, the index builder reading rows on the
# connection it already has). Exact counts: a new opening anywhere fails here, and bot/,
# handlers/ and scheduler/ must never appear.
ENGINE_LEVEL: dict[str, int] = {
    "data/backends/sqlite.py": 1,
    "data/search/rows.py": 1,
    "data/search/shared.py": 2,
}


def _opener(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Call):  # session_factory(engine)()
        return _name(func.func) in {"session_factory", "sessionmaker"}
    return _name(func) in OPENERS


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def openings(path: Path) -> int:
    """Lines that open a session or transaction (`with sessions() as s, s.begin():` is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return len({n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and _opener(n)})


def found_openings() -> dict[str, int]:
    found: Counter[str] = Counter()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == HELPER or "migrations" in relative.parts:
                continue
            if count := openings(path):
                found[relative.as_posix()] = count
    return dict(found)


def test_transactions_open_only_through_unit_of_work() -> None:
    found = found_openings()
    assert {p: n for p, n in found.items() if p not in ENGINE_LEVEL} == {}, (
        "open sessions with policybot.data.db.unit_of_work(sessions[, read_only=True])"
    )
    assert found == ENGINE_LEVEL, "an engine-level opening was added or removed: update its entry"


def test_the_guard_sees_each_way_of_opening(tmp_path: Path) -> None:
    """The guard itself can fail: each way of opening is counted, the helper's call is not."""
    source = tmp_path / "sample.py"
    source.write_text(
        "with services.sessions() as s, s.begin(): pass\n"
        "with factory() as s:\n    s.begin()\n"
        "with Session(engine) as s: pass\n"
        "with reading(services.sessions) as s: pass\n"
        "with session_factory(engine)() as s: pass\n"
        "with unit_of_work(services.sessions, read_only=True) as s: pass\n"
        "# sessions() in a comment is not a call\n",
        encoding="utf-8",
    )
    assert openings(source) == 6
