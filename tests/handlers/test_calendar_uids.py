"""Calendar UIDs are unique per installation (two databases never share one) and stable
across exports and fetches of one installation."""

from __future__ import annotations

import re
from pathlib import Path

from icalendar import Calendar

from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.novelty import Novelty
from policybot.handlers.context import Context
from policybot.handlers.export import export_deadlines
from tests.conftest import DEMO_CORPUS, NOW


def installation_uids(path: Path) -> list[set[str]]:
    """A new installation with the demo corpus, exported twice."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW, Novelty.NEW)
        exports = []
        for _ in range(2):
            with sessions() as session:
                raw = export_deadlines(session, Context(now=NOW), "ics", "").attachment.content
            exports.append({str(e["UID"]) for e in Calendar.from_ical(raw).walk("VEVENT")})
        return exports
    finally:
        engine.dispose()


def test_uids_differ_across_installations_and_stay_put(tmp_path: Path) -> None:
    first, again = installation_uids(tmp_path / "one.sqlite3")
    other, _ = installation_uids(tmp_path / "two.sqlite3")
    assert first == again and len(first) == 7
    assert not first & other
    # The same goals (ids) in both, each at its installation's own domain.
    goal = re.compile(r"(goal-\d+-due)@([0-9a-f]{32})\.policybot")
    parts = [{goal.fullmatch(u).groups() for u in uids} for uids in (first, other)]  # type: ignore[union-attr]
    assert {g for g, _ in parts[0]} == {g for g, _ in parts[1]}
    assert len({d for _, d in parts[0]}) == 1 and len({d for _, d in parts[1]}) == 1
