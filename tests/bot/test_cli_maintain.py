"""`policybot db maintain`: VACUUM ANALYZE of the search table and the ledger, and the
check that says when a bulk write made it worth running."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from policybot.bot.cli import main
from policybot.data.db import make_engine
from policybot.data.maintenance import MAINTAINED_TABLES, needs_maintenance, stale_tables
from policybot.data.models import Delivery, DeliveryStatus

WRITTEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def ledger_rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "dedupe_key": f"digest:bulk:{n}",
            "kind": "digest",
            "team_id": "T1",
            "channel_id": "C1",
            "status": DeliveryStatus.SENT,
            "created_at": WRITTEN,
            "next_attempt_at": WRITTEN,
            "attempts": 1,
        }
        for n in range(count)
    ]


def test_db_maintain_on_sqlite(runner: CliRunner, db: str) -> None:
    assert runner.invoke(main, ["--db", db, "db", "upgrade"]).exit_code == 0
    engine = make_engine(db)
    with engine.begin() as connection:
        connection.execute(insert(Delivery), ledger_rows(50))
    result = runner.invoke(main, ["--db", db, "db", "maintain"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"maintained {', '.join(MAINTAINED_TABLES)}"
    with Session(engine) as session:
        assert not needs_maintenance(session)  # SQLite keeps no write counters to go stale
        statistics = session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar()
    engine.dispose()
    assert statistics is not None and statistics > 0  # ANALYZE ran


@pytest.mark.postgres
def test_bulk_writes_make_postgres_tables_stale_until_maintained(
    runner: CliRunner, fresh_postgres_url: str
) -> None:
    engine = make_engine(fresh_postgres_url)
    with engine.connect() as connection:
        connection.execute(insert(Delivery), ledger_rows(5000))
        connection.commit()
        # Statistics reach the shared counters when a backend goes idle; ask for it now.
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
        connection.commit()
    with Session(engine) as session:
        assert stale_tables(session) == ["deliveries"]
        assert needs_maintenance(session)

    result = runner.invoke(main, ["--db", fresh_postgres_url, "db", "maintain"])
    assert result.exit_code == 0, result.output
    assert "statistics were stale: deliveries" in result.output

    with engine.connect() as connection:
        vacuumed = connection.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE relname = ANY(:t) AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
            ),
            {"t": list(MAINTAINED_TABLES)},
        ).scalars()
        assert sorted(vacuumed) == sorted(MAINTAINED_TABLES)
    with Session(engine) as session:
        assert not needs_maintenance(session)
    engine.dispose()
