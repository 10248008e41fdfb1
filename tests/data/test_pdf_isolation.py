"""PDFs read in a child process within limits (data/ingest/isolation.py): hostile files made
here (tests/data/hostile_pdf.py, a few KB each) are refused with a sentence naming the limit
while the test process stays small; good files read exactly as in-process."""

from __future__ import annotations

import fractions
import logging
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from policybot.data.errors import UserError
from policybot.data.ingest import isolation
from policybot.data.ingest.isolation import (
    MB,
    ChildReport,
    PdfRefused,
    ReadLimits,
    configure,
    inflated_size,
    read_pdf_text,
    reads_for,
    run_isolated,
)
from policybot.data.ingest.parser import parse_bytes
from policybot.data.ingest.pdf import pdf_text
from policybot.data.ingest.text import ParseError
from tests.data import hostile_pdf
from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import tracker_pdf

# Small enough that every bomb here is stopped quickly, large enough for any real tracker.
TIGHT = ReadLimits(memory_bytes=512 * MB, seconds=120, text_bytes=1 * MB, inflated_bytes=64 * MB)


@pytest.fixture(autouse=True)
def default_limits() -> Iterator[None]:
    configure(ReadLimits())
    yield
    configure(ReadLimits())


def report() -> ChildReport:
    found = isolation.last_report.get()
    assert found is not None
    return found


def rss_bytes() -> int:
    """This process's resident set now (not its peak)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def refusal(raw: bytes, limits: ReadLimits) -> tuple[PdfRefused, ChildReport, int]:
    """The refusal of `raw`, how the child went, and how far this process's RSS moved."""
    before = rss_bytes()
    with pytest.raises(PdfRefused) as caught:
        read_pdf_text(raw, "bomb.pdf", limits)
    return caught.value, report(), rss_bytes() - before


def test_a_good_pdf_with_chinese_text_reads_exactly_as_in_process() -> None:
    raw = tracker_pdf(DEMO.read_text("utf-8"))
    isolated = read_pdf_text(raw, "demo.pdf")
    assert isolated == pdf_text(raw, "demo.pdf")
    assert "关于印发《新材料大数据中心总体建设方案》的通知" in isolated
    assert isolated.count("\f") >= 1  # several pages, joined as pdf_text joins them
    assert report().outcome == "ok" and report().exit_status == 0
    # parse_bytes (the CLI, the upload preview, Ingest) goes through the child too.
    assert parse_bytes(raw, "demo.pdf").briefs


@pytest.mark.parametrize(
    ("make", "limit", "sentence"),
    [
        (
            lambda: hostile_pdf.flate_bomb(10_000_000),
            "memory",
            "this PDF needs more than 512 MB of memory to read; not read",
        ),
        (
            lambda: hostile_pdf.xobject_fanout(20),
            "memory",
            "this PDF needs more than 512 MB of memory to read; not read",
        ),
        (
            lambda: hostile_pdf.flate_bomb(100_000_000),
            "inflated",
            "this PDF expands past 64 MB when decompressed; not read",
        ),
        (
            lambda: hostile_pdf.many_pages(40, 100_000),
            "text",
            "this PDF expands past 1 MB of text; not read",
        ),
    ],
    ids=["flate-bomb", "xobject-fanout", "inflates-past-budget", "text-past-budget"],
)
def test_a_bomb_is_refused_by_the_child_s_limit_with_its_sentence(
    make: Callable[[], bytes], limit: str, sentence: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = make()
    assert len(raw) < 1024 * 1024  # small on disk
    with caplog.at_level(logging.WARNING):
        error, child, moved = refusal(raw, TIGHT)
    assert (error.limit, error.message) == (limit, sentence)
    assert str(error) == f"bomb.pdf: {sentence}"
    assert isinstance(error, ParseError) and isinstance(error, UserError)
    assert child.outcome == limit
    if limit == "memory":
        # PDFium aborted when an allocation failed against the reader's address-space
        # limit: a signal, with the reader (not this process) holding hundreds of MB.
        assert child.exit_status in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGTRAP)
        assert child.peak_rss_bytes is not None
        assert 200 * MB < child.peak_rss_bytes <= TIGHT.memory_bytes
    else:
        assert child.exit_status == 0  # a budget the reader checked and stopped at
    assert moved < 64 * MB  # this process stayed flat
    warnings = [r for r in caplog.records if r.name == isolation.__name__]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is None and f"({limit} limit)" in warnings[0].getMessage()


def test_a_slow_pdf_is_killed_at_the_deadline() -> None:
    # 2,000 pages that share one 1 MB stream of drawing: over a minute of CPU, a 20 KB file.
    raw = hostile_pdf.many_pages(2000, 1_000_000, drawing=True)
    limits = ReadLimits(seconds=2, memory_bytes=512 * MB)
    error, child, _ = refusal(raw, limits)
    assert (error.limit, error.message) == (
        "time",
        "this PDF took longer than 2 s to read; not read",
    )
    assert child.exit_status == -signal.SIGKILL  # killed at the deadline, figures known
    assert child.cpu_seconds is not None and child.peak_rss_bytes is not None


def test_deep_nesting_and_damaged_files_are_answered_not_crashed() -> None:
    assert "Storage" in read_pdf_text(hostile_pdf.deep_nesting(100_000), "nested.pdf", TIGHT)
    with pytest.raises(ParseError) as damaged:
        read_pdf_text(b"%PDF-1.7\n1 0 obj << >> garbage", "damaged.pdf", TIGHT)
    assert not isinstance(damaged.value, PdfRefused)
    assert damaged.value.source == "damaged.pdf"
    assert "cannot read this PDF" in damaged.value.message
    assert report().outcome == "error"


def test_the_streams_inflated_size_is_counted_without_inflating_them() -> None:
    raw = hostile_pdf.flate_bomb(100_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counted = inflated_size(raw, 64 * MB)
    assert 64 * MB < counted < 66 * MB  # stopped about one chunk past the budget
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 16 * 1024  # KB
    assert inflated_size(raw, 200 * MB) == pytest.approx(100_000_000, rel=0.01)


def test_the_child_runs_with_its_limits_and_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-for-the-child")
    limits = ReadLimits(memory_bytes=300 * MB, seconds=7)
    assert run_isolated(resource.getrlimit, "x", limits, resource.RLIMIT_AS) == (
        300 * MB,
        300 * MB,
    )
    assert run_isolated(resource.getrlimit, "x", limits, resource.RLIMIT_CPU) == (8, 9)
    assert run_isolated(resource.getrlimit, "x", limits, resource.RLIMIT_CORE) == (0, 0)
    assert run_isolated(os.getenv, "x", limits, "SLACK_BOT_TOKEN") is None
    assert run_isolated(os.getpid, "x", limits) != os.getpid()


def test_an_answer_naming_other_types_is_refused_not_unpickled() -> None:
    with pytest.raises(PdfRefused) as caught:
        run_isolated(fractions.Fraction, "odd.pdf", ReadLimits(), 1, 3)
    assert caught.value.limit == "crash"
    assert "the PDF reader failed on this PDF" in caught.value.message


class HeldRead:
    """A read whose child waits at a named point (a FIFO) until released."""

    def __init__(self, tmp_path: Path, key: str, limits: ReadLimits) -> None:
        self.fifo = tmp_path / f"hold-{key}"
        os.mkfifo(self.fifo)
        self.result: list[str | BaseException] = []

        def run() -> None:
            try:
                with reads_for(key):
                    self.result.append(
                        run_isolated(hostile_pdf.wait_on_fifo, "held.pdf", limits, str(self.fifo))
                    )
            except BaseException as error:
                self.result.append(error)

        self.thread = threading.Thread(target=run)
        self.thread.start()
        # Opening for writing returns once the child has opened its end: it is running.
        self.writer = open(self.fifo, "w", encoding="utf-8")  # noqa: SIM115 - closed in release

    def release(self) -> str | BaseException:
        self.writer.write("released")
        self.writer.close()
        self.thread.join()
        return self.result[0]


def test_one_read_at_a_time_per_workspace_others_go_ahead(tmp_path: Path) -> None:
    good = tracker_pdf(DEMO.read_text("utf-8"))
    held = HeldRead(tmp_path, "T1", ReadLimits())
    try:
        with reads_for("T1"), pytest.raises(PdfRefused) as busy:
            read_pdf_text(good, "second.pdf")
        assert busy.value.limit == "busy"
        assert busy.value.message == (
            "I am already reading another PDF from this workspace; send this one again when "
            "that one is done"
        )
        with reads_for("T2"):
            assert read_pdf_text(good, "other-team.pdf") == pdf_text(good, "x.pdf")
    finally:
        assert held.release() == "released"
    with reads_for("T1"):  # the workspace's turn is free again
        assert read_pdf_text(good, "third.pdf")


def test_past_the_reader_cap_a_read_waits_then_is_refused(tmp_path: Path) -> None:
    configure(ReadLimits(parallel=1))
    held = HeldRead(tmp_path, "T1", ReadLimits(seconds=60))
    try:
        with reads_for("T2"), pytest.raises(PdfRefused) as queued:
            read_pdf_text(b"%PDF-1.7", "late.pdf", ReadLimits(seconds=1, parallel=1))
        assert queued.value.limit == "queue"
        assert "too many PDFs are being read at the moment" in queued.value.message
    finally:
        assert held.release() == "released"


@pytest.mark.parametrize(
    ("limits", "limit", "sentence"),
    [
        (ReadLimits(), "memory", "this PDF needs more than 1 GB of memory to read; not read"),
        (ReadLimits(seconds=45), "time", "this PDF took longer than 45 s to read; not read"),
        (ReadLimits(), "text", "this PDF expands past 10 MB of text; not read"),
        (
            ReadLimits(inflated_bytes=96 * MB + MB // 2),
            "inflated",
            "this PDF expands past 96.5 MB when decompressed; not read",
        ),
    ],
)
def test_each_sentence_names_its_limit(limits: ReadLimits, limit: str, sentence: str) -> None:
    assert limits.sentence(limit) == sentence  # type: ignore[arg-type]


def test_a_reader_that_crashes_small_is_a_crash_not_a_memory_refusal() -> None:
    with pytest.raises(PdfRefused) as caught:
        run_isolated(os.abort, "crashes.pdf", ReadLimits())
    assert caught.value.limit == "crash"
    assert caught.value.message == (
        "the PDF reader failed on this PDF (it may be damaged); not read"
    )
    child = report()
    assert child.exit_status == -signal.SIGABRT
    assert child.peak_rss_bytes is not None and child.peak_rss_bytes < 256 * MB
