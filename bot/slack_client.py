"""Web API clients: one place sets the base URL and the retry policy."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from policybot.bot.settings import Settings

# Connection errors and 5xx are retried with backoff; 429 waits for Retry-After. Read
# timeouts are not retried here: the request may have reached Slack, and a retry could
# post twice (the scheduler's ledger retries those deliberately).
RETRY_HANDLERS = (
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
)


def make_web_client(settings: Settings, token: str | None, timeout: int = 15) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=list(RETRY_HANDLERS),
    )
