"""The shared search index on disk (data/search/shared.py): built once from the database,
opened by every process without reading a document, caught up by applying only what
changed, rebuilt when it is missing, unreadable or another database's, and safe with
several processes (and forked workers) at once. On SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from policybot.data import briefs as briefs_data
from policybot.data.db import make_engine, session_factory, upgrade
from policybot.data.ingest.writer import ingest_bytes
from policybot.data.models import Brief, SearchState
from policybot.data.query.compiler import build_filter
from policybot.data.query.language import parse_query
from policybot.data.search import shared
from policybot.data.search.engines import engine_for
from policybot.data.search.live import warm
from tests.conftest import DEMO_CORPUS, NOW
from tests.data.test_search import add_brief


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
        upgrade(engine)
        engine.dispose()
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, NOW)
    yield engine
    engine.dispose()


def another_process(engine: Engine) -> shared.SharedIndex:
    """A handle as a new process would open it (this process's is left alone)."""
    return shared.SharedIndex(engine, shared.database_identity(engine))


def titles(session: Session, text: str) -> list[str]:
    where, _ = build_filter(session, parse_query(text))
    return [b.title for b in briefs_data.search(session, where, 20).briefs]


def revision(engine: Engine) -> int:
    with engine.connect() as connection:
        return shared.database_state(connection)[0]


def test_built_once_then_opened_without_reading_a_document(engine: Engine) -> None:
    first = another_process(engine)
    first.searcher_at(revision(engine))
    assert first.builds == 1
    second = another_process(engine)
    second.searcher_at(revision(engine))
    assert (second.builds, second.applied) == (0, 0)
    assert second.generation == first.generation
    with session_factory(engine)() as session:
        assert titles(session, "储能")


def test_a_process_applies_only_the_documents_that_changed(engine: Engine) -> None:
    before = another_process(engine)
    before.searcher_at(revision(engine))
    with session_factory(engine)() as session, session.begin():
        zeppelin = add_brief(session, "Zeppelin storage plan").id
    late = another_process(engine)
    late.searcher_at(revision(engine))
    assert (late.builds, late.applied) == (0, 1)
    with session_factory(engine)() as session:
        assert titles(session, "zeppelin") == ["Zeppelin storage plan"]
    with session_factory(engine)() as session, session.begin():
        engine_for(session).remove(session, [zeppelin])
        session.delete(session.get_one(Brief, zeppelin))
    with session_factory(engine)() as session:
        assert titles(session, "zeppelin") == []
    # The first handle, behind by two revisions, reloads what another process applied.
    before.searcher_at(revision(engine))
    assert (before.builds, before.applied) == (1, 0)


def test_an_unreadable_index_is_rebuilt(engine: Engine) -> None:
    first = another_process(engine)
    first.searcher_at(revision(engine))
    assert first.generation is not None
    generation = first.directory / first.generation
    for path in generation.iterdir():
        path.write_bytes(b"not an index")
    again = another_process(engine)
    again.searcher_at(revision(engine))
    assert again.builds == 1 and again.generation != first.generation
    assert not generation.exists()
    with session_factory(engine)() as session:
        assert titles(session, "储能")


def test_another_databases_index_is_never_used(engine: Engine, tmp_path: Path) -> None:
    first = another_process(engine)
    first.searcher_at(revision(engine))
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    upgrade(other)
    with session_factory(other)() as session, session.begin():
        add_brief(session, "Zeppelin storage plan")
    # The other database's index directory holds a copy of the first one's index.
    copied = another_process(other)
    shutil.copytree(first.directory, copied.directory, dirs_exist_ok=True)
    copied.searcher_at(revision(other))
    assert copied.builds == 1
    with session_factory(other)() as session:
        assert titles(session, "zeppelin") == ["Zeppelin storage plan"]
        assert titles(session, "储能") == []
    other.dispose()


def test_a_new_identity_means_a_new_index(engine: Engine) -> None:
    """A database that is given another identity (recreated under the same name, say)
    never reads the index built for the old one."""
    first = another_process(engine)
    first.searcher_at(revision(engine))
    with engine.begin() as connection:
        connection.execute(update(SearchState).values(identity=uuid.uuid4().hex))
    fresh = another_process(engine)
    assert fresh.directory != first.directory
    fresh.searcher_at(revision(engine))
    assert fresh.builds == 1


def _search_in_child(url: str, queue: multiprocessing.Queue[object]) -> None:
    engine = make_engine(url)
    try:
        warm(engine)
        with session_factory(engine)() as session:
            queue.put(titles(session, "zeppelin"))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(repr(error))
    finally:
        engine.dispose()


def test_forked_processes_catch_up_at_once(engine: Engine, url: str) -> None:
    """The parent's index is warm; after a commit it is behind, and four forked workers
    open and catch it up at the same time: one applies, the others wait and reload."""
    warm(engine)
    with session_factory(engine)() as session, session.begin():
        add_brief(session, "Zeppelin storage plan")
    engine.dispose()  # no pooled connection crosses the fork
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = context.Queue()
    children = [context.Process(target=_search_in_child, args=(url, queue)) for _ in range(4)]
    for child in children:
        child.start()
    answers = [queue.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    assert answers == [["Zeppelin storage plan"]] * 4
    handle = another_process(engine)
    handle.searcher_at(revision(engine))
    assert (handle.builds, handle.applied) == (0, 0)


def test_where_the_index_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """POLICYBOT_INDEX_DIR when set; else beside the SQLite file, or under the user's data
    directory (one folder per server and database name) for PostgreSQL."""
    from platformdirs import user_data_path

    monkeypatch.delenv("POLICYBOT_INDEX_DIR")
    # What an earlier test's settings configured in this process does not count here.
    monkeypatch.setattr(shared, "_configured", None)
    sqlite = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert shared.index_root(sqlite) == tmp_path / "db.sqlite3.search-index"
    one = make_engine("postgresql://bot:secret@db.example:5432/policy")
    other = make_engine("postgresql://bot:secret@db.example:5432/other")
    root = user_data_path("policybot", appauthor=False) / "search-index"
    assert shared.index_root(one).parent == root
    assert shared.index_root(one) != shared.index_root(other)
    assert "secret" not in str(shared.index_root(one))
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(tmp_path / "indexes"))
    assert shared.index_root(one) == tmp_path / "indexes"
    shared.configure(tmp_path / "configured")
    try:
        assert shared.index_root(sqlite) == tmp_path / "configured"
    finally:
        shared.configure(None)
