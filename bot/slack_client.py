"""Web API clients: one place sets the base URL and the retry policy."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from .settings import Settings

# Connection errors and 5xx are retried with backoff; 429 waits for Retry-After. Read
# timeouts are not retried here: the request may have reached Slack, and a retry could
# post twice (the scheduler's ledger retries those deliberately).
RETRY_HANDLERS = (
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
)


class NotSentRetryHandler(RetryHandler):
    """Retries only failures before Slack had the whole request (urllib wraps those, from
    connecting and sending, in URLError). A reset or a timeout while waiting for the answer
    may follow a post that went out: the scheduler's ledger resolves those through the
    channel's history instead of posting twice."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and isinstance(error, URLError)


# Scheduled posts: nothing that may have reached Slack is retried here, and a 429 is not
# slept on inside the tick: the ledger reschedules the channel's rows after Retry-After.
POSTING_RETRY_HANDLERS = (
    NotSentRetryHandler(max_retry_count=2),
    ServerErrorRetryHandler(max_retry_count=2),
)


def make_web_client(
    settings: Settings,
    token: str | None,
    timeout: int = 15,
    retry_handlers: Sequence[RetryHandler] = RETRY_HANDLERS,
) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.api_url,
        timeout=timeout,
        retry_handlers=list(retry_handlers),
    )
