"""What fixing rule runs' items costs at posting (scheduler/kinds/alerts_runs.py), per claim
of 500 runs, beside planning the same rules: benchmarks/scheduler.py's corpus,
rules (default leads, 09:00, a fifth in Shanghai) and due instant; the runs the planner
writes for yesterday's 09:01 tick to today's 09:00. CPU of this process
and of the PostgreSQL server process serving the transaction (the machine is shared).
The items fixed must be as many as the alerts today's planner plans: printed beside it.

    python -m benchmarks.rule_runs --url sqlite:////tmp/runs.sqlite3 --briefs 20000 --rules 2000
"""

from __future__ import annotations

import argparse

from sqlalchemy import func, select, update

from benchmarks import scheduler as bench
from policybot.data.db import SessionFactory, make_engine, session_factory, unit_of_work, upgrade
from policybot.data.models import AlertItem, Delivery
from policybot.scheduler import ledger
from policybot.scheduler.kinds.alerts_planner import plan_reminders
from policybot.scheduler.kinds.alerts_runs import prepare_runs
from policybot.scheduler.matching import forget_kept_filters
from policybot.scheduler.registry import OWNERS


def planning(factory: SessionFactory) -> tuple[float, int]:
    bench.reset_rules(factory)
    forget_kept_filters()
    with factory() as session, session.begin():
        clock = bench.CpuClock(session)
        started = clock()
        planned = plan_reminders(session, bench.DUE)
        return clock() - started, planned


def preparing(factory: SessionFactory) -> tuple[list[float], int]:
    """CPU of each claim's prepare of the runs the planner wrote, and the items fixed."""
    bench.reset_rules(factory)
    with factory() as session, session.begin():
        plan_reminders(session, bench.DUE)
    forget_kept_filters()  # as in the poster of a fresh process
    claims = []
    while True:
        with unit_of_work(factory) as session:
            claimed = ledger.claim_due(session, bench.DUE, "bench", OWNERS, 500)
        if not claimed:
            break
        with unit_of_work(factory) as session:
            clock = bench.CpuClock(session)
            started = clock()
            prepare_runs(session, claimed, bench.DUE)
            claims.append(clock() - started)
        with unit_of_work(factory) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_([item.id for item in claimed]))
                .values(status="sent")
            )
    with factory() as session:
        items = int(session.scalar(select(func.count()).select_from(AlertItem)) or 0)
    return claims, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="a scratch database (filled if empty)")
    parser.add_argument("--briefs", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=2_000)
    args = parser.parse_args()
    engine = make_engine(args.url)
    upgrade(engine)
    factory = session_factory(engine)
    bench.fill(factory, args.briefs, bench.OLD)
    goals = bench.spread_deadlines(factory)
    bench.add_rules(factory, args.rules)
    print(f"{engine.dialect.name}: {args.rules:,} rules over {goals:,} goals")
    for _ in range(bench.RUNS):
        seconds, planned = planning(factory)
        print(f"  planning the rules: {bench.ms(seconds)}, {planned:,} alerts")
    for _ in range(bench.RUNS):
        claims, items = preparing(factory)
        each = ", ".join(bench.ms(c) for c in claims)
        print(
            f"  prepare of their runs: {bench.ms(sum(claims))} in {len(claims)} claims"
            f" ({each}); {items:,} items"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
