"""The HTTP edge in front of Bolt: every request to /slack/events is size-checked, then its
signature and timestamp are verified on the raw bytes (the only signature check: Bolt's own
is off, see bot/app.py), and only then is it decoded and its shape checked. A request that
fails gets a 4xx and one WARNING line, never a traceback, and Bolt only ever sees bodies it
can parse."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_sdk.signature import SignatureVerifier

from .logs import request_id

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Fields Bolt and the listeners read as objects when they are present.
_OBJECT_FIELDS = ("team", "user", "channel", "container", "view", "event", "message", "state")
# Ids and URLs Bolt and the listeners read as strings (into log tags, calls and URLs).
_STRING_FIELDS = (
    "api_app_id",
    "channel_id",
    "enterprise_id",
    "event_id",
    "response_url",
    "team_id",
    "token",
    "trigger_id",
    "user_id",
)
# An event names its user, channel and team by id or as an object (Bolt reads both).
_ID_OR_OBJECT_FIELDS = ("user", "channel", "team")
# Nested parts of an event Bolt looks into for a user or channel.
_EVENT_OBJECT_FIELDS = ("item", "message", "previous_message", "assistant_thread")
# Slack's timestamps are Unix seconds: ten digits now, a few more is already absurd.
_MAX_TIMESTAMP_DIGITS = 12


class Refused(Exception):
    """A request that is answered with `status` and never reaches Bolt."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_STATUS_LINES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    415: "415 Unsupported Media Type",
}


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """The body, refused (413) from its declared length before a byte of it is read; a
    body without a length (chunked) is read only up to the limit."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not declared.isdigit():
            raise Refused(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, f"body of {declared} bytes is over the limit of {limit}")
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    body: bytes = stream.read(min(int(declared), limit) if declared else limit + 1)
    if len(body) > limit:
        raise Refused(413, f"body is over the limit of {limit} bytes")
    return body


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's verifier (timestamp window, constant-time compare), signing the raw bytes:
    the stock one decodes them first and raises on a body that is not UTF-8."""

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + timestamp.encode() + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return f"v0={digest}"


def verify_signature(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> None:
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise Refused(401, "no Slack signature")
    # isdigit() alone would pass "²" or fullwidth digits, which int() then rejects or
    # the signature compare (ASCII only) raises on.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        raise Refused(401, "the request timestamp is not a number")
    if not signature.isascii():
        raise Refused(401, "bad signature or stale timestamp")
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise Refused(401, "bad signature or stale timestamp")


@dataclass(frozen=True)
class SlackRequest:
    text: str  # the body as Bolt will read it
    payload: dict[str, Any]  # what Bolt will parse it into


# Bolt takes any form body containing the word "payload" for an interactive payload, so a
# slash command whose text says "payload" would reach Bolt as {} and go unanswered. The
# same letters percent-encoded decode to the same form and do not contain the word.
_PAYLOAD_WORD = b"payload"
_PAYLOAD_ESCAPED = b"%70ayload"


def bolt_body(body: bytes, content_type: str) -> bytes:
    """The body Bolt is given: the same bytes, unless it is a form (already decoded, so
    UTF-8) without a `payload` field that mentions the word, which Bolt would misread."""
    media = content_type.split(";")[0].strip().lower()
    if media != FORM or body.startswith(b"{") or _PAYLOAD_WORD not in body:
        return body
    fields = {name for name, _ in parse_qsl(body.decode(), keep_blank_values=True)}
    return body if "payload" in fields else body.replace(_PAYLOAD_WORD, _PAYLOAD_ESCAPED)


def decode(body: bytes, content_type: str) -> SlackRequest:
    """Parse the body the way Bolt does (JSON, a form, or a form with a JSON `payload`)."""
    media = content_type.split(";")[0].strip().lower()
    if media not in (FORM, JSON):
        raise Refused(415, f"content type {media or '(none)'} is not a Slack request")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if not text:
        raise Refused(400, "empty body")
    try:
        if media == JSON or text.startswith("{"):
            payload = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            raw = form.get("payload")
            # As Bolt reads it: the field counts only when the body spells its name out.
            payload = form if raw is None or "payload" not in text else json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can read
        raise Refused(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise Refused(400, "body is not a JSON object")
    check_shape(payload)
    return SlackRequest(text, payload)


def check_shape(payload: dict[str, Any]) -> None:
    """The parts of a payload that Bolt and the listeners index into have the types Slack
    sends; anything else is refused before it can raise inside a listener."""
    kind = payload.get("type")
    if kind is not None and not isinstance(kind, str):
        raise Refused(400, "type is not a string")
    if kind is None and "command" not in payload and "ssl_check" not in payload:
        raise Refused(400, "neither a slash command nor a typed payload")
    for name in _OBJECT_FIELDS:
        if name in payload and payload[name] is not None and not isinstance(payload[name], dict):
            raise Refused(400, f"{name} is not an object")
    for name in _STRING_FIELDS:
        if name in payload and not isinstance(payload[name], str):
            raise Refused(400, f"{name} is not a string")
    for name in ("authorizations", "response_urls"):
        if name in payload and not _list_of_objects(payload[name]):
            raise Refused(400, f"{name} is not a list of objects")
    if "command" in payload:
        if not isinstance(payload["command"], str) or not payload["command"].startswith("/"):
            raise Refused(400, "command is not a slash command")
        if not isinstance(payload.get("text", ""), str):
            raise Refused(400, "text is not a string")
    if kind == "block_actions":
        actions = payload.get("actions")
        if not actions or not _list_of_objects(actions):
            raise Refused(400, "actions is not a list of actions")
        if not all(isinstance(a.get("action_id"), str) for a in actions):
            raise Refused(400, "an action has no action_id")
        for item in actions:
            _check_options(item)
    if kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Refused(400, "event has no type")
        for name in _ID_OR_OBJECT_FIELDS:
            if event.get(name) is not None and not isinstance(event[name], str | dict):
                raise Refused(400, f"event.{name} is neither an id nor an object")
        for name in _EVENT_OBJECT_FIELDS:
            if event.get(name) is not None and not isinstance(event[name], dict):
                raise Refused(400, f"event.{name} is not an object")
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        # Bolt reads view.type and view.callback_id of every form it routes.
        if not isinstance(view, dict) or not all(
            isinstance(view.get(key), str) for key in ("type", "callback_id")
        ):
            raise Refused(400, "view has no type or callback_id")
    if kind == "url_verification" and not isinstance(payload.get("challenge"), str):
        raise Refused(400, "challenge is not a string")
    for holder in (payload, payload.get("view") or {}):
        if "state" in holder:
            _check_state(holder["state"])


def _check_state(state: Any) -> None:
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(v, dict) for v in block.values())
        for block in values.values()
    ):
        raise Refused(400, "state.values is not an object of blocks")
    for block in values.values():
        for element in block.values():
            _check_options(element)


def _check_options(element: dict[str, Any]) -> None:
    """A menu's picked option(s) are objects, as the listeners read them."""
    picked = element.get("selected_option")
    if picked is not None and not isinstance(picked, dict):
        raise Refused(400, "selected_option is not an object")
    if "selected_options" in element and not _list_of_objects(element["selected_options"]):
        raise Refused(400, "selected_options is not a list of objects")


def _list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def is_ssl_check(body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's certificate check of a slash command URL (Bolt answers it with an empty 200)."""
    if not headers.get("content-type", "").startswith(FORM) or len(body) > 200:
        return False
    return dict(parse_qsl(body.decode("latin-1"))).get("ssl_check") == "1"


def headers_of(environ: WSGIEnvironment) -> dict[str, str]:
    found = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.lower().replace("_", "-")] = str(environ[key])
    return found


def refuse(start_response: StartResponse, refused: Refused) -> list[bytes]:
    body = f"{refused.reason}\n".encode()
    start_response(
        _STATUS_LINES.get(refused.status, f"{refused.status} Refused"),
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class GuardedSlackEndpoint:
    """WSGI for /slack/events: checks first, then Bolt's adapter on the checked body."""

    def __init__(self, bolt: WSGIApplication, signing_secret: str, max_body_bytes: int) -> None:
        self.bolt = bolt
        self.verifier = RawBodyVerifier(signing_secret)
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id.set("")  # this thread's last request was another one
        try:
            if environ.get("REQUEST_METHOD") != "POST":
                raise Refused(405, "Slack requests are POSTs")
            body = read_body(environ, self.max_body_bytes)
            headers = headers_of(environ)
            if not is_ssl_check(body, headers):
                verify_signature(self.verifier, body, headers)
                content_type = headers.get("content-type", "")
                decode(body, content_type)
                body = bolt_body(body, content_type)  # verified as sent; Bolt does not re-check
        except Refused as refused:
            log.warning(
                "refused %s %s from %s: %s %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR", "?"),
                refused.status,
                refused.reason,
            )
            return refuse(start_response, refused)
        checked = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return self.bolt(checked, start_response)
