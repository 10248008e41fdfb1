"""The body-name table a search reads is kept per database while it stays the same: a
read-only session asks for one row of aggregates and reuses the table built before; a new
or renamed alias, once committed, is seen by the next search; a writer's own, uncommitted
(here rolled back) alias never reaches the kept table. Committed data, so each engine gets
its own database: a SQLite file, a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from policybot.data.bodies import normalize_name
from policybot.data.db import make_engine, reading, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import BodyAlias, IssuingBody
from policybot.data.query.compiler import BodyNames
from tests.conftest import DEMO_CORPUS, NOW


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bodies.sqlite3'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW)
    yield engine
    engine.dispose()


def _names(engine: Engine) -> tuple[BodyNames, list[str]]:
    """BodyNames as a search builds it, and the statements it ran on the body tables."""
    statements: list[str] = []

    def on_execute(*args: object) -> None:
        if "body_aliases" in str(args[2]):
            statements.append(str(args[2]))

    with reading(session_factory(engine)) as session:
        bind = session.get_bind()
        event.listen(bind, "before_cursor_execute", on_execute)
        try:
            return BodyNames(session), statements
        finally:
            event.remove(bind, "before_cursor_execute", on_execute)


def _add_alias(session: Session, abbreviation: str, alias: str) -> None:
    body_id = session.scalars(
        select(IssuingBody.id).where(IssuingBody.abbreviation == abbreviation)
    ).one()
    session.add(BodyAlias(body_id=body_id, alias=alias, normalized=normalize_name(alias)))
    session.flush()


def test_the_body_table_is_kept_until_an_alias_changes(filled: Engine) -> None:
    first, _read = _names(filled)
    again, statements = _names(filled)
    assert again.by_name is first.by_name  # kept, not rebuilt
    assert len(statements) == 1 and "body_aliases.alias," not in statements[0]
    assert again.find("Ministry of Zanzibar Affairs") is None

    with session_factory(filled)() as session, session.begin():
        _add_alias(session, "MIIT", "Ministry of Zanzibar Affairs")
    added, _read = _names(filled)
    found = added.find("ministry of zanzibar affairs")
    assert found is not None and found.abbreviation == "MIIT"
    assert "Ministry of Zanzibar Affairs" in found.names

    with session_factory(filled)() as session, session.begin():
        session.execute(
            update(BodyAlias)
            .where(BodyAlias.alias == "Ministry of Zanzibar Affairs")
            .values(alias="Zanzibar Ministry", normalized=normalize_name("Zanzibar Ministry"))
        )
    renamed, _read = _names(filled)
    assert renamed.find("Zanzibar Ministry") is not None
    assert renamed.find("Ministry of Zanzibar Affairs") is None


def test_a_writers_uncommitted_alias_is_not_kept(filled: Engine) -> None:
    _names(filled)
    with session_factory(filled)() as session, session.begin():
        _add_alias(session, "MIIT", "Bureau of Pemba Works")
        # The writer sees its own alias; then it rolls back.
        assert BodyNames(session).find("Bureau of Pemba Works") is not None
        session.rollback()
    # The same table size, ids (SQLite reuses a rolled-back id) and name lengths, other
    # names: had the writer's table been kept, the next search would read the rolled-back one.
    with session_factory(filled)() as session, session.begin():
        _add_alias(session, "MIIT", "Bureau of Mafia Works")
    later, _read = _names(filled)
    assert later.find("Bureau of Mafia Works") is not None
    assert later.find("Bureau of Pemba Works") is None
