"""What every listener module is given: one value, so each `register` has one shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from ...handlers.context import Context
from ..dispatcher import CommandDispatcher
from ..services import Services

# A request's payload (and the client answering it) -> who asks, where and when.
ContextFactory = Callable[[dict[str, Any], WebClient], Context]


@dataclass(frozen=True)
class Deps:
    services: Services  # store, runner, clock, settings, metrics
    make_context: ContextFactory
    dispatcher: CommandDispatcher  # runs commands off the request threads
    oauth: OAuthSettings | None  # many workspaces: the installation store to clean up
