"""/readyz's check: the database (on the probe engine, with its short timeouts), the schema
and the scheduler's role, one probe at a time."""

from __future__ import annotations

import time

from sqlalchemy import text

from ...data.db import pending_migrations
from ..services import Services

# A /readyz probe waiting this long on the database makes the others say "not ready".
PROBE_STALE_SECONDS = 1.0


def readiness(services: Services) -> tuple[bool, dict[str, str]]:
    """Whether this process can serve: the database answers (on the probe engine, with its
    connect and statement timeouts) and its schema is current. One probe at a time: while
    one is waiting on a slow database, others answer with its last result instead of taking
    a request thread each."""
    report = {"scheduler": services.scheduler.role}
    probe = services.probe
    if not probe.lock.acquire(blocking=False):
        waited = time.monotonic() - probe.started
        if waited > PROBE_STALE_SECONDS:
            # The database is slow to answer the probe in flight: not ready, whatever it
            # said before.
            return False, {
                "database": f"not answering (a probe has waited {waited:.0f} s)",
                **report,
            }
        ready, last = probe.last
        return ready, {**last, **report}
    probe.started = time.monotonic()
    try:
        try:
            with probe.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            report["database"] = "ok"
            pending = pending_migrations(probe.engine)
            report["migrations"] = "pending: run `policybot db upgrade`" if pending else "current"
        except Exception as error:
            services.outage.record(error)
            report["database"] = "unreachable"
            probe.last = (False, dict(report))
            return False, report
        ready = report["migrations"] == "current"
        probe.last = (ready, dict(report))
        return ready, report
    finally:
        probe.lock.release()
