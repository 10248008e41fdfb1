"""The reference the tests compare reminder planning with: every row planned in Python, one
goal at a time (what production does only for rules it cannot hand to the database)."""

from __future__ import annotations

from datetime import date

from policybot.scheduler.kinds.alerts_facts import RuleGroup
from policybot.scheduler.kinds.alerts_interval import IntervalBatch
from policybot.scheduler.kinds.alerts_planner import ReminderPlanner


class PythonReminderPlanner(ReminderPlanner):
    """Plans as ReminderPlanner does, except that no rule's interval alerts go to the
    database's INSERT ... SELECT (alerts_interval.py)."""

    def _batch_days(
        self, group: RuleGroup, batch: IntervalBatch, group_no: int
    ) -> list[date] | None:
        return None
