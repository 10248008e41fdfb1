"""What `serve` checks before it forks anything (the Slack token, the port), the search index
warmed in each process, and a worker's start-up failure in one line."""

from __future__ import annotations

import logging
import socket
import time

from sqlalchemy.exc import DBAPIError

from ...data.search.live import warm as warm_search_index
from ..services import Services
from ..settings import Settings

log = logging.getLogger(__name__)


class ServeError(RuntimeError):
    """`serve` cannot start; the message says why in one line (no secret in it)."""


def check_slack(settings: Settings) -> None:
    """The bot token checked once with auth.test, before any worker starts: a refused
    token or an unreachable API is one clear ServeError, not a worker dying in a loop."""
    if not settings.bot_token:
        return  # OAuth: each workspace's token comes from its installation
    from slack_sdk.errors import SlackApiError

    from ..slack_client import make_web_client

    client = make_web_client(settings, settings.bot_token)
    try:
        client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        raise ServeError(
            f"Slack refused the bot token (auth.test answered {code or 'an error'}): "
            "check SLACK_BOT_TOKEN"
        ) from None
    except Exception as error:  # the API unreachable: DNS, refused, TLS, timeout
        reason = getattr(error, "reason", None) or error
        raise ServeError(
            f"Slack's API at {settings.api_url} did not answer auth.test: {reason}"
        ) from None


def check_listen(host: str, port: int) -> None:
    """The port can be bound (else one clear line, not gunicorn's five retries)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def warm_index(services: Services, who: str) -> None:
    """The search index built (or caught up) now: a cold first search would take seconds
    at 100,000 briefs, and the dispatcher would then defer the next several searches. A
    database that does not answer is logged once; the first search catches up instead."""
    started = time.perf_counter()
    try:
        before, now = warm_search_index(services.engine)
    except DBAPIError as error:
        services.outage.record(error)
        return
    log.info(
        "%s: search index at revision %s (%s) in %.0f ms",
        who,
        now,
        "built" if before < 0 else f"caught up from revision {before}",
        (time.perf_counter() - started) * 1000,
    )


def startup_failure(error: BaseException) -> str:
    """Why a worker could not start, in one line (the log's filter masks any secret in it)."""
    if isinstance(error, DBAPIError):
        reason = str(error.orig or error).strip().splitlines()
        return f"the database is unreachable: {reason[0] if reason else type(error).__name__}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}"[:500] if lines else type(error).__name__
