"""Whether a request has arrived whole, read from the bytes gathered so far (the worker reads
requests in its event loop and hands one to a thread only then)."""

from __future__ import annotations

import re

# A request's head may be this large (gunicorn refuses longer lines and fields itself).
MAX_HEAD_BYTES = 64 * 1024

_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)


def request_complete(received: bytearray, max_body: int) -> bool:
    """A whole request head has arrived, and the body it declares (up to `max_body`: a
    larger one is refused from its length, unread). A chunked body is read by its thread,
    up to the limit, under the socket's timeout."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        end = received.find(b"\n\n")
        if end < 0:
            return False
        head, body_at = received[:end], end + 2
    else:
        head, body_at = received[:end], end + 4
    if _CHUNKED.search(head):
        return True
    declared = _CONTENT_LENGTH.search(head)
    if declared is None:
        return True
    length = int(declared.group(1))
    return length > max_body or len(received) - body_at >= length
