"""Database fixtures: every store test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL runs when POLICYBOT_TEST_POSTGRES_URL is set (`.ci/run` sets it); under CI=true
it is mandatory. Each test session gets its own PostgreSQL database, so parallel workers and
leftovers from other runs never meet. Each test runs inside a transaction that is rolled back
(SQLAlchemy's "join a Session into an external transaction" recipe).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from policybot.data.db import make_engine, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.novelty import Novelty

DEMO_CORPUS = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "corpus"
    / ("china-industrial-policy-tracker-2024-11.txt")
)
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POSTGRES_ENV = "POLICYBOT_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{POSTGRES_ENV} must be set under CI: the PostgreSQL tests are mandatory")
        return None
    return url


@pytest.fixture(scope="session", autouse=True)
def search_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Search indexes of the tests' databases (and of servers they start) in a temporary
    directory, never in the user's data directory."""
    directory = tmp_path_factory.mktemp("search-index")
    before = os.environ.get("POLICYBOT_INDEX_DIR")
    os.environ["POLICYBOT_INDEX_DIR"] = str(directory)
    yield directory
    if before is None:
        os.environ.pop("POLICYBOT_INDEX_DIR", None)
    else:
        os.environ["POLICYBOT_INDEX_DIR"] = before


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} (as .ci/run does) to run them")
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"policybot_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"PostgreSQL at {url} is not reachable: {exc}")
    engine = make_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "policybot.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that join the test's outer transaction through savepoints."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def corpus(factory: sessionmaker[Session]) -> None:
    """The demo corpus, ingested inside the test's transaction as this month's news (by its
    Nov 2024 date it would be archive at NOW; tests of the archive rule say so themselves)."""
    with factory() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW, Novelty.NEW)


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database for tests that need real commits across
    processes or engines (dropped afterwards)."""
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} (as .ci/run does) to run them")
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"policybot_fresh_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(fresh)
    upgrade(engine)
    engine.dispose()
    yield fresh
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` soak and scale runs only when asked for (`-m slow`); CI runs the short ones."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a long soak or scale run: select it with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
