"""Reading untrusted PDFs in a throwaway child process, within limits.

A PDF of a few kilobytes can expand to gigabytes once read: a flate-compressed content
stream of millions of text operators, thousands of pages sharing one such stream, form
XObjects that draw each other twice over. PDFium then allocates until the machine gives
out (it aborts the process when an allocation fails) or parses for minutes. So every PDF
is read by a fresh `python` child that sets its own limits before it reads anything:

- address space (RLIMIT_AS, `memory_bytes`) and CPU seconds (RLIMIT_CPU) via setrlimit,
  no core dump, files it writes capped (its answer goes to a temporary file);
- a wall-clock deadline (`seconds`): the child reads in a process it forks, kills that
  reader when the deadline passes and reports its exit, peak RSS and CPU time; the parent
  kills the child's whole process group a few seconds later if it has not answered;
- what the streams inflate to (`inflated_bytes`), checked before PDFium sees the file,
  and the extracted text (`text_bytes`), checked page by page: reading stops there;
- at most `parallel` children at once per process, each at a lower CPU priority (nice
  5), and one at a time per workspace (`reads_for`): a second upload is refused at once.

The child is a fresh interpreter (no threads, locks, database connections or open sockets
are inherited) with only harmless environment variables: no token reaches it. Whatever
stops it (a signal, MemoryError, the deadline, a budget) comes back as PdfRefused, a
ParseError whose message names the limit, logged once as a WARNING; never a traceback.
The parent unpickles the child's answer with a short list of allowed types only, and
checks its shape: a reader subverted by the file it read cannot name code to run.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import IO, Any, Literal, NoReturn, ParamSpec, TypeVar

from ..errors import UserError
from .pdf import PdfText
from .text import ParseError

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
MB = 1024 * 1024
Limit = Literal["memory", "time", "text", "inflated", "busy", "queue", "crash"]


@dataclass(frozen=True)
class ReadLimits:
    memory_bytes: int = 1024 * MB  # the child's address space
    seconds: int = 30  # wall clock, from start to answer; CPU time is capped a little above
    text_bytes: int = 10 * MB  # extracted text (UTF-8); a tracker issue has ~50 KB
    inflated_bytes: int = 64 * MB  # what the file's compressed streams inflate to, images aside
    parallel: int = 2  # children at once in this process

    def sentence(self, limit: Limit) -> str:
        """What the uploader is told: the limit, by name and size."""
        return {
            "memory": f"this PDF needs more than {_size(self.memory_bytes)} of memory to read",
            "time": f"this PDF took longer than {self.seconds} s to read",
            "text": f"this PDF expands past {_size(self.text_bytes)} of text",
            "inflated": f"this PDF expands past {_size(self.inflated_bytes)} when decompressed",
            "busy": "I am already reading another PDF from this workspace; send this one again "
            "when that one is done",
            "queue": "too many PDFs are being read at the moment; send this one again in a minute",
            "crash": "the PDF reader failed on this PDF (it may be damaged)",
        }[limit] + ("" if limit in ("busy", "queue") else "; not read")


def _size(count: int) -> str:
    if count >= 1024 * MB and count % (1024 * MB) == 0:
        return f"{count // (1024 * MB)} GB"
    if count % MB == 0:
        return f"{count // MB} MB"
    return f"{count / MB:.1f} MB"


class PdfRefused(ParseError, UserError):
    """A PDF not read because it passed a limit; the message names the limit."""

    def __init__(self, source: str, limit: Limit, message: str) -> None:
        super().__init__(source, None, message)
        self.limit = limit


@dataclass(frozen=True)
class ChildReport:
    """How the last isolated read went (for tests and benchmarks/hostile_pdfs.py)."""

    outcome: str  # "ok", "error" (a ParseError from the reader) or the limit that stopped it
    seconds: float
    peak_rss_bytes: int | None  # the reader's own peak (None: killed before it was told)
    cpu_seconds: float | None  # the reader's user + system time
    exit_status: int  # the reader's exit code, or -signal


_limits = ReadLimits()
_slots = threading.BoundedSemaphore(_limits.parallel)
_busy_keys: set[str] = set()
_busy_lock = threading.Lock()
_reading_for: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pdf_reading_for", default=None
)
last_report: contextvars.ContextVar[ChildReport | None] = contextvars.ContextVar(
    "pdf_last_report", default=None
)


def configure(limits: ReadLimits) -> None:
    """Set the limits for this process (at start, from the settings)."""
    global _limits, _slots
    _limits, _slots = limits, threading.BoundedSemaphore(limits.parallel)


@contextmanager
def reads_for(key: str) -> Iterator[None]:
    """PDFs read inside this block are read for `key` (a workspace): while one is being
    read, another for the same key is refused at once rather than queued, so one member
    cannot keep the reader (or a pool of waiting threads) to themselves."""
    token = _reading_for.set(key)
    try:
        yield
    finally:
        _reading_for.reset(token)


@contextmanager
def _turn(source: str, limits: ReadLimits) -> Iterator[None]:
    key = _reading_for.get()
    if key is not None:
        with _busy_lock:
            if key in _busy_keys:
                raise _refuse(source, "busy", limits, "another read for the same workspace")
            _busy_keys.add(key)
    try:
        # Other workspaces' reads: wait for one to finish, as long as a read may take.
        slots = _slots
        if not slots.acquire(timeout=limits.seconds):
            raise _refuse(source, "queue", limits, f"no free reader in {limits.seconds} s")
        try:
            yield
        finally:
            slots.release()
    finally:
        if key is not None:
            with _busy_lock:
                _busy_keys.discard(key)


def _refuse(source: str, limit: Limit, limits: ReadLimits, detail: str) -> PdfRefused:
    log.warning("PDF %r not read (%s limit): %s", source[:200], limit, detail)
    return PdfRefused(source, limit, limits.sentence(limit))


def read_pdf(raw: bytes, source: str, limits: ReadLimits | None = None) -> PdfText:
    """The PDF's text, link annotations and warnings as pdf.pdf_extract gives them, read in
    a child within the limits."""
    limits = limits or _limits
    answer = run_isolated(
        pdf_extract_within, source, limits, raw, source, limits.text_bytes, limits.inflated_bytes
    )
    if not isinstance(answer, PdfText):  # the unpickler admits any policybot class
        raise _refuse(source, "crash", limits, f"the reader answered {type(answer).__name__}")
    return answer


def read_pdf_text(raw: bytes, source: str, limits: ReadLimits | None = None) -> str:
    """The PDF's text as pdf.pdf_text gives it, read in a child within the limits."""
    return read_pdf(raw, source, limits).text


def pdf_extract_within(raw: bytes, source: str, text_bytes: int, inflated_bytes: int) -> PdfText:
    """In the child: the streams' inflated size first (cheap, bounded), then PDFium."""
    from .pdf import pdf_extract

    if inflated_size(raw, inflated_bytes) > inflated_bytes:
        raise _ChildLimit("inflated")
    return pdf_extract(raw, source, max_text_bytes=text_bytes)


_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_INFLATE_CHUNK = 1024 * 1024


def inflated_size(raw: bytes, budget: int) -> int:
    """What the file's zlib streams inflate to, counted without keeping the output and
    given up once past `budget`. Image data is skipped (text extraction does not decode
    it); streams in other encodings count for nothing here (the child's memory and time
    limits still hold them)."""
    view, total, position = memoryview(raw), 0, 0
    while total <= budget and (match := _STREAM_START.search(raw, position)):
        start = match.end()
        end = raw.find(b"endstream", start)
        end = len(raw) if end < 0 else end
        head = raw[max(0, match.start() - 2048) : match.start()]
        if b"/Image" not in head[head.rfind(b"obj") + 1 :]:
            total += _inflated(view[start:end], budget - total)
        position = end
    return total


def _inflated(data: memoryview, budget: int) -> int:
    inflater, count = zlib.decompressobj(), 0
    try:
        pending: bytes | memoryview = data
        while pending and not inflater.eof and count <= budget:
            count += len(inflater.decompress(pending, _INFLATE_CHUNK))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # not zlib, or damaged: what inflated so far counts
    return count


class _ChildLimit(Exception):
    """In the child: a budget was reached (the parent says which, in its own words)."""

    def __init__(self, limit: Limit) -> None:
        super().__init__(limit)
        self.limit = limit


def run_isolated(
    function: Callable[P, T], source: str, limits: ReadLimits, *args: P.args, **kwargs: P.kwargs
) -> T:
    """`function(*args, **kwargs)` in a fresh child within `limits`; its picklable result,
    or PdfRefused naming the limit that stopped it. `function` must be importable by name
    (a module's top-level function); its result may hold builtin containers, scalars,
    dates and policybot's own classes."""
    with _turn(source, limits):
        return _run(function, source, limits, args, kwargs)


# The child is told nothing secret: only what Python and the C library need.
_CHILD_ENV = ("PATH", "PYTHONPATH", "PYTHONHOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
_EXIT_MEMORY = 86  # the reader's own MemoryError, when it could not even say so
_GRACE_SECONDS = 5  # past the deadline, for the child to kill its reader and report
# How a process ends when an allocation fails (PDFium aborts; the kernel's OOM killer kills).
_MEMORY_SIGNALS = {
    signal.SIGABRT,
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGILL,
    signal.SIGTRAP,
    signal.SIGKILL,
}
_CHILD_CODE = "from policybot.data.ingest.isolation import child_main; child_main()"


def _run(
    function: Callable[..., T],
    source: str,
    limits: ReadLimits,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    output_cap = 4 * limits.text_bytes + MB
    with (
        tempfile.TemporaryFile() as request,
        tempfile.TemporaryFile() as answer,
        tempfile.TemporaryFile() as usage,
        tempfile.TemporaryFile() as errors,
    ):
        pickle.dump((limits.memory_bytes, limits.seconds, output_cap, usage.fileno()), request)
        pickle.dump((function, args, kwargs), request, protocol=pickle.HIGHEST_PROTOCOL)
        request.seek(0)
        started = time.monotonic()
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD_CODE],
                stdin=request,
                stdout=answer,
                stderr=errors,
                pass_fds=(usage.fileno(),),
                env={name: os.environ[name] for name in _CHILD_ENV if name in os.environ},
                start_new_session=True,  # its own process group: killed with its reader
            )
        except OSError as error:  # no process to be had (EAGAIN, ENOMEM): try again later
            raise _refuse(source, "queue", limits, f"could not start a reader ({error})") from None
        try:
            timed_out = _wait(child, limits.seconds + _GRACE_SECONDS)
        except BaseException:  # this thread is interrupted: the child must not outlive it
            _kill(child)
            child.wait()
            raise
        usage.seek(0)
        status: int = child.returncode
        peak: int | None = None
        cpu: float | None = None
        try:  # the reader's exit status, peak RSS, CPU time and lateness, from the child
            match _AnswerUnpickler(io.BytesIO(usage.read(4096))).load():
                case (
                    int() as told_status,
                    int() as told_peak,
                    float() as told_cpu,
                    bool() as late,
                ):
                    status, peak, cpu = told_status, told_peak, told_cpu
                    timed_out = timed_out or late
        except Exception:
            pass  # the child itself did not finish (killed with its reader)
        report = ChildReport("ok", time.monotonic() - started, peak, cpu, status)
        if timed_out:
            _fail(report, "time", source, limits, "killed at the deadline")
        answer.seek(0)
        message = answer.read(output_cap + 1)
        if status != 0 or not message or len(message) > output_cap:
            _fail(report, _cause(status, peak, limits), source, limits, _why(status, errors))
        try:
            reply = _AnswerUnpickler(io.BytesIO(message)).load()
        except Exception as error:  # a garbled or hostile answer
            _fail(report, "crash", source, limits, f"unreadable answer ({error})")
    # The answer's shape is checked as well as its types: the child may not be trusted.
    match reply:
        case ("ok", value):
            last_report.set(report)
            return value  # type: ignore[no-any-return]
        case ("limit", "text" | "inflated" as limit):
            _fail(report, limit, source, limits, "reached in the reader")
        case ("parse_error", str() as where, int() | None as line, str() as text):
            last_report.set(replace(report, outcome="error"))
            raise ParseError(where, line, text)
        case ("user_error", str() as text):
            last_report.set(replace(report, outcome="error"))
            raise UserError(text)
        case ("error", str() as name, str() as text):
            _fail(report, "crash", source, limits, f"{name}: {text}")
        case _:
            _fail(report, "crash", source, limits, "an answer of an unknown shape")


def _fail(report: ChildReport, limit: Limit, source: str, limits: ReadLimits, why: str) -> NoReturn:
    last_report.set(replace(report, outcome=limit))
    peak = f"{report.peak_rss_bytes / MB:.0f} MB" if report.peak_rss_bytes else "unknown"
    raise _refuse(source, limit, limits, f"{why}; reader peak RSS {peak}, {report.seconds:.1f} s")


def _wait(child: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait for the child, at most `seconds`; True when it was killed at the deadline."""
    try:
        child.wait(seconds)
        return False
    except subprocess.TimeoutExpired:
        _kill(child)
        child.wait()
        return True


def _kill(child: subprocess.Popen[bytes]) -> None:
    """The child and its reader: the group the child leads."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(child.pid, signal.SIGKILL)


def _cause(status: int, peak: int | None, limits: ReadLimits) -> Limit:
    """Why a reader ended without an answer. PDFium aborts the process when an allocation
    fails: such an end is taken as that, unless the reader is known to have used little."""
    if status == _EXIT_MEMORY:
        return "memory"
    if status == -signal.SIGXCPU:
        return "time"  # the CPU limit
    if -status in _MEMORY_SIGNALS and (peak is None or peak >= limits.memory_bytes // 4):
        return "memory"
    return "crash"


def _why(status: int, errors: IO[bytes]) -> str:
    name = signal.Signals(-status).name if status < 0 else f"exit code {status}"
    errors.seek(max(0, os.fstat(errors.fileno()).st_size - 300))
    tail = errors.read().decode("utf-8", "replace").strip().splitlines()
    return f"reader ended by {name}" + (f" ({tail[-1][:200]!r})" if tail else "")


class _AnswerUnpickler(pickle.Unpickler):
    """The child may have been subverted by the file it read: its answer may name only
    plain data types and policybot's classes, never a function to call."""

    _BUILTINS = frozenset(
        {"str", "bytes", "int", "float", "bool", "list", "tuple", "dict", "set", "frozenset"}
    )

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in self._BUILTINS:
            return super().find_class(module, name)
        if module == "datetime" and name in ("date", "datetime", "timedelta", "timezone"):
            return super().find_class(module, name)
        if module.startswith("policybot.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"the PDF reader's answer named {module}.{name}")


def child_main() -> None:
    """The child: limits first, then the request from stdin. The read itself runs in a
    process forked from here, so that wait4 gives its own peak RSS and CPU time (a
    process spawned by the server inherits the server's high-water mark); this process
    stays small and reports them on `report_fd`."""
    import resource

    stdin = sys.stdin.buffer
    # The answer goes to the original stdout; anything a library prints goes to stderr.
    answer_file = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    memory, seconds, output_cap, report_fd = pickle.load(stdin)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_cap, output_cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(5)  # under load, the server's own threads come first
    function, args, kwargs = pickle.load(stdin)
    reader = os.fork()
    if reader == 0:
        os.close(report_fd)  # the reader cannot speak for itself
        _answer(answer_file, function, args, kwargs)
    late: list[bool] = []

    def at_deadline(signum: int, frame: object) -> None:
        late.append(True)
        os.kill(reader, signal.SIGKILL)

    # The wall-clock deadline, kept here so that a late reader's figures are known too
    # (the parent kills this whole group a little later if this does not answer).
    signal.signal(signal.SIGALRM, at_deadline)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _, status, usage = os.wait4(reader, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    cpu_time = usage.ru_utime + usage.ru_stime
    with os.fdopen(report_fd, "wb") as report:
        exit_status = os.waitstatus_to_exitcode(status)
        pickle.dump((exit_status, usage.ru_maxrss * 1024, cpu_time, bool(late)), report)


def _answer(
    answer_file: IO[bytes], function: Callable[..., Any], args: Any, kwargs: Any
) -> NoReturn:
    """In the reader: the function's result (or what stopped it) to the answer file."""
    try:
        answer: tuple[Any, ...] = ("ok", function(*args, **kwargs))
    except MemoryError:
        os._exit(_EXIT_MEMORY)
    except _ChildLimit as limit:
        answer = ("limit", limit.limit)
    except ParseError as error:
        from .pdf import TextBudgetExceeded

        if isinstance(error, TextBudgetExceeded):
            answer = ("limit", "text")
        else:
            answer = ("parse_error", error.source, error.line, error.message)
    except UserError as error:
        answer = ("user_error", str(error))
    except Exception as error:  # anything else is told to the parent, which logs it
        answer = ("error", type(error).__name__, str(error)[:300])
    try:
        answer_file.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        answer_file.flush()
    except MemoryError:
        os._exit(_EXIT_MEMORY)
    os._exit(0)
