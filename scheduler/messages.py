"""What the scheduler hands to a Poster (the message values of data/messages.py), how a
post fails, and the Poster itself (implemented by the edge: Slack or the console)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ..data.messages import (
    Alert,
    AlertBatch,
    Digest,
    Finalised,
    FollowUp,
    Notice,
    Outgoing,
    SubscriptionLine,
)

__all__ = [
    "Alert",
    "AlertBatch",
    "DeliveryError",
    "Digest",
    "FailureKind",
    "Finalised",
    "FollowUp",
    "Notice",
    "Outgoing",
    "Poster",
    "SubscriptionLine",
]


class FailureKind(StrEnum):
    RETRY = "retry"  # rate limited, 5xx, network before sending: not posted, try again later
    # The request may have reached Slack (a timeout or a reset after sending): never posted
    # again blind; the channel's history decides, as after a crash.
    UNCERTAIN = "uncertain"
    CHANNEL = "channel"  # channel_not_found, not_in_channel, is_archived: pause, tell the owner
    AUTH = "auth"  # invalid_auth, account_inactive, token_revoked: pause the team's deliveries


class DeliveryError(Exception):
    def __init__(
        self, kind: FailureKind, code: str, reason: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {code}")
        self.kind = kind
        self.code = code
        self.reason = reason or "the post was refused"  # for people: why, in a few words
        # Seconds Slack asked us to wait (429 Retry-After): the channel's rows wait that long.
        self.retry_after = retry_after


class Poster(Protocol):
    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        """Post and return the message id (Slack's ts); raise DeliveryError on failure."""
        ...

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        """Which of these ledger rows a message posted since `since` already carries (a
        worker died after posting, or a post timed out, before it was recorded). Empty when
        the history cannot be read at all (no scope, not a member): the rows are posted
        again. Raises DeliveryError(RETRY) when the lookup failed for now (rate limited,
        network): the rows stay uncertain and are looked up again later."""
        ...
