"""Hostile PDFs, read the old way (in-process) and the new way (in a limited child).

    python -m benchmarks.hostile_pdfs [--cap-mb 2048] [--cap-seconds 120]

For each file (made by tests/data/hostile_pdf.py, a few KB each, and the demo tracker as
a good file): the in-process read (`pdf_text`, no budgets: what a `serve` process did
before) and the isolated read (`read_pdf_text` with the default limits). The in-process
baseline runs in a throwaway child under a hard RLIMIT_AS of --cap-mb and a CPU/wall cap
of --cap-seconds, so that it cannot take the machine: "died" there means it would have
gone past the cap in the server. Printed per file: peak RSS of the reader (the baseline's
process, or the isolated child) and of this parent, wall time, and the answer.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from policybot.data.ingest.isolation import (
    MB,
    ReadLimits,
    last_report,
    read_pdf_text,
)
from policybot.data.ingest.pdf import pdf_text
from policybot.data.ingest.text import ParseError
from tests.data import hostile_pdf
from tests.data.layout_variants import DEMO
from tests.data.tracker_pdf import tracker_pdf

FILES: list[tuple[str, Callable[[], bytes]]] = [
    ("good: demo tracker (zh)", lambda: tracker_pdf(DEMO.read_text("utf-8"))),
    ("flate bomb, 25 MB of text ops", lambda: hostile_pdf.flate_bomb(25_000_000)),
    ("flate bomb, 100 MB of text ops", lambda: hostile_pdf.flate_bomb(100_000_000)),
    ("XObject fan-out, 2**24 runs", lambda: hostile_pdf.xobject_fanout(24)),
    ("2,000 pages x 200 KB of text", lambda: hostile_pdf.many_pages(2000, 200_000)),
    (
        "2,000 pages x 1 MB of drawing",
        lambda: hostile_pdf.many_pages(2000, 1_000_000, drawing=True),
    ),
    ("arrays nested 100,000 deep", lambda: hostile_pdf.deep_nesting(100_000)),
]

# The old path, in a child that cannot pass the caps: pdf_text in-process, no budgets.
_BASELINE = """
import pickle, resource, sys
memory, seconds = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
raw = sys.stdin.buffer.read()
from policybot.data.ingest.pdf import pdf_text
from policybot.data.ingest.pdf import pdf_text
from policybot.data.ingest.text import ParseError
try:
    answer = f"read {len(pdf_text(raw, 'x.pdf')):,} characters"
except ParseError as error:
    answer = f"ParseError: {error.message[:60]}"
except MemoryError:
    answer = "MemoryError"
sys.stdout.write(answer)
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(raw: bytes, cap_bytes: int, cap_seconds: int) -> tuple[float, float, str]:
    """(peak RSS MB, seconds, answer) of the in-process read, in a capped child."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-c", _BASELINE, str(cap_bytes), str(cap_seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(raw)
    child.stdin.close()
    pidfd = os.pidfd_open(child.pid)
    capped = not select.select([pidfd], [], [], 2 * cap_seconds)[0]
    if capped:
        child.kill()
    os.close(pidfd)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    answer = child.stdout.read().decode() or _death(child.returncode)
    if capped:
        answer = f"still reading at the benchmark's wall cap ({2 * cap_seconds} s): killed"
    return usage.ru_maxrss / 1024, time.monotonic() - started, answer


def _death(code: int) -> str:
    if code < 0:
        return f"died ({signal.Signals(-code).name})"
    return f"exit {code}"


def isolated(raw: bytes, limits: ReadLimits) -> tuple[str, float, float, str]:
    """(reader peak RSS MB, parent peak RSS MB, seconds, answer) of the isolated read."""
    started = time.monotonic()
    try:
        answer = f"read {len(read_pdf_text(raw, 'x.pdf', limits)):,} characters"
    except ParseError as error:
        answer = error.message
    seconds = time.monotonic() - started
    report = last_report.get()
    peak = report.peak_rss_bytes if report else None
    child = "?" if peak is None else f"{peak / MB:.0f}"
    return child, _rss_mb(), seconds, answer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cap-mb", type=int, default=2048, help="the baseline's RLIMIT_AS")
    parser.add_argument("--cap-seconds", type=int, default=120, help="the baseline's CPU cap")
    parser.add_argument("--only", help="run only files whose label contains this")
    args = parser.parse_args()
    limits = ReadLimits()
    print(
        f"limits: memory {limits.memory_bytes // MB} MB, {limits.seconds} s, text "
        f"{limits.text_bytes // MB} MB, inflated {limits.inflated_bytes // MB} MB; baseline "
        f"capped at {args.cap_mb} MB and {args.cap_seconds} s CPU"
    )
    for label, make in FILES:
        if args.only and args.only not in label:
            continue
        raw = make()
        print(f"\n{label} ({len(raw) / 1024:.0f} KB)")
        rss, seconds, answer = baseline(raw, args.cap_mb * MB, args.cap_seconds)
        print(f"  in-process: reader peak {rss:7.0f} MB  {seconds:6.1f} s  {answer}")
        if label.startswith("good"):  # safe to read here: the cost of a child, by itself
            started = time.monotonic()
            pdf_text(raw, "x.pdf")
            print(f"  (in this process, no child: {time.monotonic() - started:.2f} s)")
        child, parent, seconds, answer = isolated(raw, limits)
        print(
            f"  isolated:   reader peak {child:>7} MB  {seconds:6.1f} s  {answer}\n"
            f"              parent peak {parent:7.0f} MB"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
