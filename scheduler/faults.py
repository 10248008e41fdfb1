"""Named points at which a test makes the scheduler process die, so a crash test proves the
same thing on every run instead of killing at a random time.

`POLICYBOT_KILL_AT=<point>[:<n>]` arms one point: the process SIGKILLs itself the n-th time
(default: the first) it reaches that point. The points:
- after_claim: the claim committed, nothing posted;
- before_post: about to post a message (earlier messages posted and recorded);
- after_post: Slack accepted a message, the ledger has not recorded it (the one window in
  which a message can be posted twice: see scheduler/ledger.py);
- after_mark: rows recorded as sent (a post, or one found in the channel's history), the
  claim's other messages not yet posted: a crash in the middle of a batch.

Unarmed (always, outside such tests) the ticker does not look here again: the variable is
read once at import, the poster is not wrapped, and each point is one test of a constant.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime

from .messages import Outgoing, Poster

ENVIRONMENT = "POLICYBOT_KILL_AT"
POINTS = ("after_claim", "before_post", "after_post", "after_mark")


def _armed(spec: str) -> tuple[str, int] | None:
    if not spec:
        return None
    point, _, count = spec.partition(":")
    if point not in POINTS or not (count or "1").isdecimal() or int(count or "1") < 1:
        raise ValueError(f"{ENVIRONMENT}={spec!r}: expected one of {POINTS}, optionally :<n>")
    return point, int(count or "1")


ARMED = _armed(os.environ.get(ENVIRONMENT, "").strip())
_reached = 0
_lock = threading.Lock()


def reach(point: str) -> None:
    """Die here if this is the armed point's n-th arrival. Call only when ARMED is set."""
    global _reached
    if ARMED is None or ARMED[0] != point:
        return
    with _lock:
        _reached += 1
        if _reached == ARMED[1]:
            os.kill(os.getpid(), signal.SIGKILL)


class _WatchedPoster:
    """The poster with the before_post and after_post points around each post."""

    def __init__(self, poster: Poster) -> None:
        self.poster = poster

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        reach("before_post")
        ts = self.poster.post(team_id, channel_id, message)
        reach("after_post")
        return ts

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        return self.poster.find_posted(team_id, channel_id, since, delivery_ids)


def watched(poster: Poster) -> Poster:
    """The poster itself, or, when a post point is armed, it with the points around posts."""
    if ARMED is None or ARMED[0] not in ("before_post", "after_post"):
        return poster
    return _WatchedPoster(poster)
