"""Posters: where scheduled messages go. Slack (chat.postMessage) or the console."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..data.views import countdown
from ..handlers.digests import follow_up_rows, reply_for
from ..handlers.render_text import render_text
from ..handlers.replies import Button
from ..scheduler.messages import DeliveryError, FailureKind, FollowUp, Notice, Outgoing
from .blocks import (
    ACTION_RUN,
    MAX_FALLBACK,
    actions_block,
    button_element,
    context_block,
    cut,
    escape,
    render_blocks,
    section_block,
)

log = logging.getLogger(__name__)

READABLE = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not in the channel",
    "is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected the bot's token",
    "account_inactive": "the bot's account is inactive",
    "token_revoked": "the bot's token was revoked",
    "not_installed": "the app is not installed in the workspace",
}
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "cannot_dm_bot",
        "user_not_found",
    }
)
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "not_authed",
        "team_access_not_granted",
        "missing_scope",
        "ekm_access_denied",
    }
)


# Of a goal's text and its brief's title in a follow-up with several goals, once escaped
# ("&" is five characters then): ten goals with their buttons and the list behind "See the
# other N" stay under Slack's ~12,000 characters a message.
MAX_GOAL_TEXT = 400
MAX_GOAL_TITLE = 150


def follow_up_payload(message: FollowUp) -> dict[str, Any]:
    """Several goals' follow-ups in one message: each goal with its own buttons. Within
    Slack's limits by construction: two blocks a goal for at most MAX_FOLLOW_UPS goals,
    texts cut."""
    rows = follow_up_rows(message)
    buttons = itertools.count(1)

    def element(button: Button) -> dict[str, Any]:
        replace = "replace:" if button.replaces else ""
        return button_element(
            button.label,
            f"{ACTION_RUN}:{replace}{next(buttons)}",
            value=button.command,
            style="primary" if button.primary else None,
        )

    blocks = [section_block(f"*{escape(rows.headline)}*"), context_block(escape(rows.note))]
    for item, row in rows.goals:
        goal, brief = item.goal, item.brief
        text = (
            f"*{escape(goal.deadline_label)}* \u00b7 {countdown(goal.days_left)}"
            f" \u00b7 `{escape(goal.ref)}`\n{cut(escape(goal.text), MAX_GOAL_TEXT)}\n"
            f"_{escape(brief.ref)} \u00b7 {cut(escape(brief.title), MAX_GOAL_TITLE)}"
            f" \u00b7 {escape(brief.date_label)}_"
        )
        blocks += [section_block(text), actions_block([element(b) for b in row])]
    if rows.more is not None:
        blocks.append(context_block(escape(" ".join(rows.more.notes))))
        blocks.append(actions_block([element(b) for b in rows.more.buttons]))
    return {"text": cut(escape(rows.headline), MAX_FALLBACK), "blocks": blocks}


class ChannelPacer:
    """At most one post per `interval` seconds to each channel (Slack's guidance)."""

    def __init__(
        self,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.sleep = sleep
        self.monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._lock:
            now = self.monotonic()
            ready = self._last.get(channel, now - self.interval) + self.interval
            self._last[channel] = max(now, ready)
        if ready > now:
            self.sleep(ready - now)


METADATA_EVENT = "policybot_delivery"
HISTORY_PAGES = 5  # 5 x 200 messages back, at most, when checking for a post a crash hid


def _delivery_ids(message: Outgoing) -> tuple[int, ...]:
    return () if isinstance(message, Notice) else message.delivery_ids


def encode_ids(ids: tuple[int, ...]) -> str:
    """A message's ledger ids as runs, "7-406,913": a slot's rows were planned together, so
    a few hundred ids are a few runs instead of a few thousand characters of metadata."""
    runs: list[str] = []
    ordered = sorted(set(ids))
    start = 0
    for end in range(len(ordered)):
        if end + 1 == len(ordered) or ordered[end + 1] != ordered[end] + 1:
            first, last = ordered[start], ordered[end]
            runs.append(str(first) if first == last else f"{first}-{last}")
            start = end + 1
    return ",".join(runs)


def decode_ids(text: str, wanted: set[int]) -> set[int]:
    """Which of `wanted` the ids `encode_ids` wrote (or the plain "1,2,3" of earlier
    messages) name. Runs are compared, never expanded: another app's message may carry any
    metadata at all."""
    runs = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            runs.append((int(first), int(last or first)))
    return {i for i in wanted if any(first <= i <= last for first, last in runs)}


class SlackPoster:
    def __init__(
        self, client_for_team: Callable[[str], WebClient], pacer: ChannelPacer | None = None
    ) -> None:
        self.client_for_team = client_for_team
        self.pacer = pacer or ChannelPacer()

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        if isinstance(message, FollowUp) and message.count > 1:
            payload = follow_up_payload(message)
        else:
            payload = render_blocks(reply_for(message))
            payload.pop("response_type", None)
        ids = _delivery_ids(message)
        if ids:
            # Marks the message with its ledger rows, so a crash between posting and
            # recording can be recognised later (find_posted) instead of posting twice.
            payload["metadata"] = {
                "event_type": METADATA_EVENT,
                "event_payload": {"ids": encode_ids(ids)},
            }
        self.pacer.wait(channel_id)
        try:
            response = self.client_for_team(team_id).chat_postMessage(
                channel=channel_id, unfurl_links=False, unfurl_media=False, **payload
            )
        except SlackApiError as error:
            raise _refused(error) from error
        except (URLError, TimeoutError, OSError) as error:
            raise _network_failure(error) from error
        return str(response.get("ts") or "")

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        found: set[int] = set()
        cursor = None
        try:
            client = self.client_for_team(team_id)
            for _ in range(HISTORY_PAGES):
                page = client.conversations_history(
                    channel=channel_id,
                    oldest=f"{since.timestamp() - 60:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for item in page.get("messages") or []:
                    metadata = item.get("metadata") or {}
                    if metadata.get("event_type") == METADATA_EVENT:
                        ids = str((metadata.get("event_payload") or {}).get("ids") or "")
                        found.update(decode_ids(ids, delivery_ids))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor or delivery_ids <= found:
                    break
        except SlackApiError as error:
            refused = _refused(error)
            if refused.kind is FailureKind.RETRY:
                raise refused from error  # rate limited or 5xx: look again later
            # Without history (scope, membership) we cannot tell; the row is posted again.
            log.warning("could not check %s for earlier posts: %s", channel_id, refused.code)
            return set()
        except (URLError, TimeoutError, OSError) as error:
            raise DeliveryError(FailureKind.RETRY, type(error).__name__) from error
        return found & delivery_ids


def _refused(error: SlackApiError) -> DeliveryError:
    """Slack answered and did not post: why, and what the scheduler should do about it."""
    response = error.response
    code = str(response.get("error") or f"http_{response.status_code}")
    reason = READABLE.get(code, "Slack refused the post")
    if code in CHANNEL_ERRORS:
        return DeliveryError(FailureKind.CHANNEL, code, reason)
    if code in AUTH_ERRORS:
        return DeliveryError(FailureKind.AUTH, code, reason)
    retry_after = None
    if response.status_code == 429 or code == "ratelimited":
        header = response.headers.get("Retry-After") or response.headers.get("retry-after")
        retry_after = float(header) if str(header or "").isdigit() else 60.0
    return DeliveryError(FailureKind.RETRY, code, reason, retry_after=retry_after)


def _network_failure(error: OSError) -> DeliveryError:
    """urllib wraps what fails while connecting or sending in URLError: Slack never had the
    whole request. A timeout or reset while waiting for the answer (raised as it is) may
    follow a post that went out, so that outcome is uncertain."""
    if isinstance(error, URLError):
        return DeliveryError(FailureKind.RETRY, type(error.reason).__name__)
    return DeliveryError(FailureKind.UNCERTAIN, type(error).__name__)


class PrintPoster:
    """The console's poster: prints what would be posted."""

    def __init__(self, write: Callable[[str], object] = print) -> None:
        self.write = write
        self._count = 0
        self._lock = threading.Lock()

    def post(self, team_id: str, channel_id: str, message: Outgoing) -> str:
        with self._lock:
            try:
                self.write(f"--- to #{channel_id} ---\n" + render_text(reply_for(message)).rstrip())
            except BrokenPipeError:
                # The reader went away (`policybot tick | head`): not delivered, kept pending.
                raise DeliveryError(FailureKind.RETRY, "console_closed") from None
            self._count += 1
            return f"console.{self._count}"

    def find_posted(
        self, team_id: str, channel_id: str, since: datetime, delivery_ids: set[int]
    ) -> set[int]:
        return set()  # the console keeps no history
