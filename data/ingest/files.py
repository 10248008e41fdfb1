"""Reading a tracker file safely: regular files only, a size limit, no unbounded reads.

A FIFO would block a plain open() forever and /dev/zero never ends; both are refused by
what the path is, before anything is read. The size is checked up front and again while
reading (the file may grow), in chunks, so memory stays bounded by the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .text import ParseError

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_CHUNK = 1024 * 1024


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_tracker_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the mode check below
        # refuses it anyway.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ParseError(source, None, f"cannot read the file ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(
                source, None, f"this is {_kind(info.st_mode)}; only regular files are ingested"
            )
        if info.st_size > max_bytes:
            raise ParseError(
                source,
                None,
                f"the file is {_megabytes(info.st_size)}; the limit is {_megabytes(max_bytes)} "
                "(a tracker issue is far smaller; --max-mb raises the limit)",
            )
        os.set_blocking(fd, True)
        data = bytearray()
        while chunk := os.read(fd, _CHUNK):
            data += chunk
            if len(data) > max_bytes:
                raise ParseError(
                    source,
                    None,
                    f"the file grew past the limit of {_megabytes(max_bytes)} while being read",
                )
        return bytes(data)
    except OSError as exc:
        raise ParseError(source, None, f"cannot read the file ({exc.strerror})") from exc
    finally:
        os.close(fd)
