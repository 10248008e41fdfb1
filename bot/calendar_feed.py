"""`GET /calendar/<token>.ics`: a channel's live calendar, for calendars that poll it.

Answers `text/calendar` with a strong ETag and Last-Modified, and 304 Not Modified when the
calendar sends back what it has (If-None-Match, else If-Modified-Since), so polling every
few hours costs a hash, not a download. An unknown, malformed or revoked token is 404, the
same answer in each case. The token is a secret: nothing here logs the path or the token,
and the server keeps no access log (bot/server/arbiter.py's GunicornLog).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from wsgiref.types import StartResponse, WSGIEnvironment

from sqlalchemy.exc import DBAPIError

from ..data.db import unit_of_work
from ..handlers.calendar import FeedDocument, feed_document
from .edge import Refused, refuse
from .services import Services

log = logging.getLogger(__name__)

FEED_ROUTE = re.compile(r"/calendar/([^/]{1,200})\.ics")
CONTENT_TYPE = "text/calendar; charset=utf-8"
# Calendars poll on their own schedule; caches between may keep a copy a short while, and
# only for this client (the URL is private).
CACHE_CONTROL = "private, max-age=300"


def calendar_route(
    path: str, environ: WSGIEnvironment, start_response: StartResponse, services: Services
) -> Iterable[bytes] | None:
    """The feed's answer for a calendar path, else None (not ours)."""
    match = FEED_ROUTE.fullmatch(path)
    if match is None:
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        body = b"method not allowed\n"
        start_response(
            "405 Method Not Allowed",
            [
                ("Allow", "GET, HEAD"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]
    try:
        with unit_of_work(services.sessions, read_only=True) as session:
            document = feed_document(session, match.group(1), services.clock())
    except DBAPIError as error:
        services.outage.record(error)
        return refuse(start_response, Refused(503, "the database is not answering; try later"))
    except Exception:
        log.exception("a calendar feed failed")  # the exception, never the path or token
        return refuse(start_response, Refused(500, "something went wrong; try later"))
    if document is None:
        return refuse(start_response, Refused(404, "not found"))
    return _answer(document, environ, start_response, head=method == "HEAD")


def _answer(
    document: FeedDocument, environ: WSGIEnvironment, start_response: StartResponse, head: bool
) -> list[bytes]:
    validators = [
        ("ETag", document.etag),
        ("Last-Modified", format_datetime(document.last_modified, usegmt=True)),
        ("Cache-Control", CACHE_CONTROL),
    ]
    if _not_modified(document, environ):
        start_response("304 Not Modified", validators)
        return []
    start_response(
        "200 OK",
        [
            ("Content-Type", CONTENT_TYPE),
            ("Content-Length", str(len(document.body))),
            ("Content-Disposition", 'inline; filename="policybot-deadlines.ics"'),
            *validators,
        ],
    )
    return [] if head else [document.body]


def _not_modified(document: FeedDocument, environ: WSGIEnvironment) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when sent; If-Modified-Since only without it."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        sent = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in sent or document.etag in sent
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since:
        try:
            since: datetime = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            return False
        return document.last_modified <= since
    return False
