"""How a stopping process drains: its budget (POLICYBOT_DRAIN_SECONDS, then gunicorn's kill)
and the deferred (response_url) replies it still sends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# How long requests in flight and deferred replies may take after SIGTERM (the default of
# POLICYBOT_DRAIN_SECONDS); gunicorn kills a worker still running KILL_GRACE_SECONDS later.
DRAIN_SECONDS = 20.0
KILL_GRACE_SECONDS = 5.0
KILL_AFTER_SECONDS = DRAIN_SECONDS + KILL_GRACE_SECONDS


def finish_deferred_replies(pending: Callable[[], int], deadline: float) -> int:
    """Wait until no deferred (response_url) reply is queued or running, or the deadline;
    one WARNING line if any were left at the end of the requests. Returns how many are
    abandoned (0: all sent)."""
    queued = pending()
    if not queued:
        return 0
    while pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = pending()
    if left:
        log.warning(
            "shutdown: %s of the %s deferred replies still queued when requests stopped are "
            "abandoned (not sent within POLICYBOT_DRAIN_SECONDS)",
            left,
            queued,
        )
    else:
        log.warning(
            "shutdown: %s deferred replies were still queued when requests stopped: all sent",
            queued,
        )
    return left
