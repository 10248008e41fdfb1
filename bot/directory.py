"""What the bot asks Slack about people and channels: time zones, admins, membership.
Answers are cached for a while; every call uses the requesting team's own client."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
MAX_MEMBER_PAGES = 20  # 20 x 1000 members; larger channels are not scanned to the end


class SlackDirectory:
    def __init__(
        self, admins: tuple[str, ...] = (), ttl_seconds: float = 600, shared: bool = False
    ) -> None:
        self.admins = frozenset(admins)
        # With many workspaces on one corpus, a workspace's own admins are not admins of the
        # shared content: only POLICYBOT_ADMINS are.
        self.shared = shared
        self.ttl = ttl_seconds
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        value = compute()
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def _user(self, client: WebClient, team: str, user: str) -> dict[str, Any]:
        def fetch() -> dict[str, Any]:
            try:
                return dict(client.users_info(user=user).get("user") or {})
            except SlackApiError as error:
                log.warning("users.info failed: %s", error.response.get("error"))
                return {}

        result: dict[str, Any] = self._cached(("user", team, user), fetch)
        return result

    def timezone(self, client: WebClient, team: str, user: str) -> str | None:
        zone = self._user(client, team, user).get("tz")
        return str(zone) if zone else None

    def is_admin(self, client: WebClient, team: str, user: str) -> bool:
        if user in self.admins:
            return True
        if self.shared:
            return False
        info = self._user(client, team, user)
        return bool(info.get("is_admin") or info.get("is_owner"))

    def is_member(self, client: WebClient, team: str, channel: str, user: str) -> bool:
        if channel.startswith("D"):
            return True  # a direct message with the bot: the user's own space

        def fetch() -> bool:
            cursor = None
            try:
                for _ in range(MAX_MEMBER_PAGES):
                    page = client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                    if user in (page.get("members") or []):
                        return True
                    cursor = (page.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        return False
            except SlackApiError as error:
                log.info("conversations.members failed: %s", error.response.get("error"))
            return False

        result: bool = self._cached(("member", team, channel, user), fetch)
        return result
