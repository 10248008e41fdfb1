"""Hostile PDFs made in the test, byte by byte: small on disk, huge once read.

Each is a valid PDF (header, objects, a cross-reference table, a trailer) whose cost lies in
what it expands to: a flate-compressed content stream of millions of text operators, a
page tree of thousands of pages sharing one such stream, form XObjects that each draw the
next one twice (2**depth text runs), arrays nested far deeper than any real file.
"""

from __future__ import annotations

import zlib

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _stream(data: bytes, extra: bytes = b"", *, compress: bool = True, repeat: int = 1) -> bytes:
    """A stream object holding `data` `repeat` times, flate-compressed piece by piece (a
    100 MB bomb never exists uncompressed here)."""
    if compress:
        deflater = zlib.compressobj(9)
        body = b"".join(deflater.compress(data) for _ in range(repeat)) + deflater.flush()
    else:
        body = data * repeat
    flate = b" /Filter /FlateDecode" if compress else b""
    head = b"<< /Length %d%s %s >>" % (len(body), flate, extra)
    return head + b"\nstream\n" + body + b"\nendstream"


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (object 1 is the catalog), numbered from 1 in order."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text_operators(line: bytes = b"Storage subsidies for 2025 ") -> bytes:
    """A block of content-stream text operators: 88 runs of text moved down a page."""
    run = b"BT /F1 9 Tf 40 %d Td (" + line * 4 + b") Tj ET\n"
    return b"".join(run % (800 - 9 * (i % 88)) for i in range(88))


def path_operators() -> bytes:
    """A block of content-stream drawing operators: 100 short stroked lines, no text."""
    return b"".join(b"%d %d m %d %d l S\n" % (i, 2 * i, i + 40, 2 * i + 3) for i in range(100))


def _content_stream(size: int, drawing: bool = False) -> bytes:
    """A compressed stream of about `size` bytes of text (or drawing) operators."""
    block = path_operators() if drawing else text_operators()
    return _stream(block, repeat=max(1, size // len(block)))


def _page(content_ref: int, resources: bytes = b"") -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
        b"/Resources << /Font << /F1 3 0 R >> %s >> >>" % (content_ref, resources)
    )


def flate_bomb(content_bytes: int) -> bytes:
    """One page whose content stream inflates to `content_bytes` of text operators."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            _FONT,
            _page(5),
            _content_stream(content_bytes),
        ]
    )


def many_pages(pages: int, content_bytes: int, *, drawing: bool = False) -> bytes:
    """`pages` pages that all draw one shared content stream of `content_bytes` (text, or
    with `drawing` lines and no text): the file holds the stream once, the reader parses
    it once per page."""
    kids = b" ".join(b"5 0 R" for _ in range(pages))
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
            _FONT,
            _content_stream(content_bytes, drawing),
            _page(4),
        ]
    )


def xobject_fanout(depth: int) -> bytes:
    """Form XObjects Fm0..Fm{depth}: each draws the next twice, the last one a line of
    text, so the page shows 2**depth lines from a file of a few kilobytes."""
    first_form = 6
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        _FONT,
        _page(5, b"/XObject << /Fm0 %d 0 R >>" % first_form),
        _stream(b"/Fm0 Do\n", compress=False),
    ]
    for level in range(depth + 1):
        if level < depth:
            content = b"q 1 0 0 1 0 1 cm /Fm Do Q q 1 0 0 1 1 0 cm /Fm Do Q\n"
            resources = b"/Resources << /XObject << /Fm %d 0 R >> >>" % (first_form + level + 1)
        else:
            content = b"BT /F1 9 Tf 40 400 Td (Storage subsidies for 2025) Tj ET\n"
            resources = b"/Resources << /Font << /F1 3 0 R >> >>"
        extra = b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] " + resources
        objects.append(_stream(content, extra, compress=False))
    return build_pdf(objects)


def deep_nesting(depth: int) -> bytes:
    """A page whose content stream opens `depth` arrays and an info entry nested as deep:
    a recursive reader runs out of stack."""
    nested = b"[" * depth + b"]" * depth
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Nested " + nested + b" >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            _FONT,
            _page(5),
            _stream(b"BT /F1 9 Tf 40 400 Td " + nested + b" TJ (Storage) Tj ET\n"),
        ]
    )


def wait_on_fifo(path: str) -> str:
    """Run in a reader child by the tests: opens the FIFO at `path` (which blocks until the
    test opens it for writing, telling the test the child is running) and answers with
    what the test writes, once it closes its end: a read held open at a named point."""
    with open(path, encoding="utf-8") as fifo:
        return fifo.read()
