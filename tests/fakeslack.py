"""A local fake of the Slack Web API, served over real HTTP on 127.0.0.1.

Point ``WebClient(base_url=fake.url)`` and Bolt's ``respond()`` (via a
``response_url`` from :meth:`FakeSlack.response_url`) at it. Nothing in
slack_sdk or slack_bolt is patched: requests go through the real client code,
including its retry handlers.

Routes:

* ``/api/<method>``      Web API methods (``method`` = ``"chat.postMessage"`` ...)
* ``/response/<key>``    what ``respond()`` posts to (``method`` = ``"response_url"``)
* ``/upload/<file_id>``  the upload URL from ``files.getUploadURLExternal``
  (``method`` = ``"upload"``, raw bytes in ``params["_content"]``)
* ``/files/<file_id>/<name>``  a shared file's ``url_private`` (``method`` =
  ``"file_download"``): its bytes for a request with a bearer token, else Slack's sign-in
  page (HTML, status 200), as Slack answers a download without a token

Every request is recorded as a :class:`RecordedCall`, faulted or not.

Semantics worth knowing:

* A ``timeout`` fault is processed normally and only the answer is delayed, the
  way a real request that timed out on the client side can still have been
  handled by Slack. A timed-out ``chat.postMessage`` therefore shows up in
  :meth:`FakeSlack.posted_messages`, and a client that retries it posts twice.
* Fault precedence for a call: queued faults (``fail_next`` for the method,
  then ``"*"``), then ``fail_randomly``, then ``fail_channel``.
* ``fail_channel`` applies to the methods in :data:`CHANNEL_POST_METHODS`.
* Block Kit is validated as Slack does: every ``blocks`` list, ``view`` and unfurl a call
  carries (``response_url`` posts included) is parsed back through ``slack_sdk.models`` and
  must come out the same; one that does not is answered ``invalid_blocks`` and recorded in
  :attr:`FakeSlack.invalid_blocks`, which makes the fixture's test fail when it stops. The bot
  builds Block Kit as plain dicts, so this is where every message it sends is validated.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = [
    "CHANNEL_POST_METHODS",
    "Fault",
    "FakeSlack",
    "RecordedCall",
    "fake_slack",
    "serve",
]

FaultKind = Literal["rate_limited", "server_error", "timeout", "error"]

#: Methods that ``fail_channel`` affects (matched on ``channel`` or ``channel_id``).
CHANNEL_POST_METHODS: frozenset[str] = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.delete",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.completeUploadExternal",
    }
)

TEAM2_TOKEN = "xoxb-team2-token"
_TS_BASE = 1_700_000_000
_SERVER_ERROR_CODES = {500: "fatal_error", 502: "bad_gateway", 503: "service_unavailable"}


@dataclass
class RecordedCall:
    """One request received by the fake, with the answer it got."""

    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    params: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    at: float
    fault: FaultKind | None = None  # the injected fault, if any


@dataclass
class Fault:
    """A failure to inject into one call."""

    kind: FaultKind
    retry_after: int = 1
    status: int = 500
    error: str = ""
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.kind == "error" and not self.error:
            raise ValueError('Fault("error") needs error=, e.g. "channel_not_found"')
        if self.kind == "server_error" and not 500 <= self.status <= 599:
            raise ValueError(f"server_error status must be 5xx, got {self.status}")
        if self.retry_after < 0 or self.delay < 0:
            raise ValueError("retry_after and delay must be >= 0")


@dataclass
class _Answer:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # plain-text body instead of JSON
    body: bytes | None = None  # raw bytes instead of JSON (a file download)
    content_type: str = "application/octet-stream"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected; stay quiet.
        # Anything else is a bug in the fake: print it as socketserver would.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # bound a stuck read so server_close() can never hang

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _parse_json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _invalid_block_kit(params: dict[str, Any]) -> str | None:
    """Why slack_sdk.models would not accept the Block Kit in a call, or None."""
    lists: list[Any] = []
    if "blocks" in params:
        lists.append(_parse_json_field(params["blocks"]))
    unfurls = _parse_json_field(params.get("unfurls"))
    if isinstance(unfurls, dict):
        lists.extend(u.get("blocks", []) for u in unfurls.values() if isinstance(u, dict))
    try:
        for blocks in lists:
            if not isinstance(blocks, list):
                return f"blocks is not a list: {str(blocks)[:200]}"
            for block in blocks:
                parsed = Block.parse(block)
                if parsed is None or parsed.to_dict() != block:
                    return f"block changes when parsed: {json.dumps(block)[:300]}"
        if "view" in params:
            view = _parse_json_field(params["view"])
            if not isinstance(view, dict) or View(**view).to_dict() != view:
                return f"view changes when parsed: {json.dumps(view)[:300]}"
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class FakeSlack:
    """A fake Slack Web API server on 127.0.0.1 with an OS-chosen port."""

    def __init__(self, *, latency: float = 0.0, seed: int = 0) -> None:
        self.latency = latency
        self._seed = seed
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # wakes wait_for_call
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base = ""
        self._calls: list[RecordedCall] = []
        self.errors: list[str] = []  # tracebacks of bugs inside the fake itself
        self.invalid_blocks: list[str] = []  # Block Kit slack_sdk.models would not accept
        # fault state
        self._queued: dict[str, deque[Fault]] = {}
        self._channel_queued: dict[str, deque[Fault]] = {}
        self._random_rate = 0.0
        self._random_faults: tuple[Fault, ...] = ()
        self._random_methods: frozenset[str] = frozenset()
        self._rng = random.Random(seed)
        self._failed_channels: dict[str, str] = {}
        # emulated workspace state
        self._users: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}  # files users shared (files.info)
        self._counter = 0
        self._ts_counter = 100
        self._methods: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "chat.unfurl": self._chat_unfurl,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "files.info": self._files_info,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``, ending with "/"."""
        return f"{self._require_base()}/api/"

    def response_url(self, key: str = "r1") -> str:
        """A ``response_url`` that records posts as method "response_url"."""
        return f"{self._require_base()}/response/{key}"

    def _require_base(self) -> str:
        if not self._base:
            raise RuntimeError("FakeSlack is not started; call start() or use `with`")
        return self._base

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1:0 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeSlack already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        port = server.server_address[1]
        self._server = server
        self._base = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"FakeSlack:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down, waking any answers still sleeping on latency or a timeout fault."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        if self.invalid_blocks and exc_info[0] is None:
            raise AssertionError(f"invalid Block Kit sent to Slack: {self.invalid_blocks[:3]}")

    # ------------------------------------------------------------------ recorded calls

    @property
    def calls(self) -> list[RecordedCall]:
        """A copy of every recorded call, in arrival order."""
        with self._lock:
            return list(self._calls)

    def wait_for_call(
        self, predicate: Callable[[RecordedCall], bool], timeout: float
    ) -> RecordedCall | None:
        """The first recorded call (already here or arriving within `timeout` seconds) that
        matches, or None; woken by each arrival instead of polling."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._arrived:
            while True:
                for call in self._calls[seen:]:
                    if predicate(call):
                        return call
                seen = len(self._calls)
                left = deadline - time.monotonic()
                if left <= 0 or not self._arrived.wait(left):
                    return next((c for c in self._calls[seen:] if predicate(c)), None)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded calls (faults and workspace state are kept)."""
        with self._lock:
            self._calls.clear()

    def posted_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Params of successful (ok: true) chat.postMessage calls, optionally for one channel."""
        with self._lock:
            return [
                dict(c.params)
                for c in self._calls
                if c.method == "chat.postMessage"
                and c.status == 200
                and c.response.get("ok") is True
                and (channel is None or c.params.get("channel") == channel)
            ]

    # ------------------------------------------------------------------ fault injection

    def fail_next(self, method: str, *faults: Fault) -> None:
        """Queue faults for the next calls of ``method`` ("*" = any method), one per call."""
        with self._lock:
            self._queued.setdefault(method, deque()).extend(faults)

    def fail_channel_next(self, channel: str, *faults: Fault) -> None:
        """Queue faults for the next posts to one channel (e.g. a 429 that only it gets)."""
        with self._lock:
            self._channel_queued.setdefault(channel, deque()).extend(faults)

    def fail_randomly(
        self,
        rate: float,
        faults: Sequence[Fault],
        methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        """Fail each call of ``methods`` with probability ``rate``; reseeds from ``seed``.

        ``rate=0`` turns random faults off. "*" in ``methods`` matches any method.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if rate > 0 and not faults:
            raise ValueError("fail_randomly needs at least one Fault")
        with self._lock:
            self._random_rate = rate
            self._random_faults = tuple(faults)
            self._random_methods = frozenset(methods)
            self._rng = random.Random(self._seed)

    def fail_channel(self, channel: str, error: str) -> None:
        """Answer every post to ``channel`` with ``{"ok": false, "error": error}``."""
        with self._lock:
            self._failed_channels[channel] = error

    def heal_channel(self, channel: str) -> None:
        """Undo :meth:`fail_channel`."""
        with self._lock:
            self._failed_channels.pop(channel, None)

    # ------------------------------------------------------------------ workspace state

    def set_user(
        self,
        user_id: str,
        *,
        tz: str = "UTC",
        is_admin: bool = False,
        name: str = "",
        team_id: str = "T1",
    ) -> None:
        """Define a user for users.info (``tz`` must be an IANA zone name)."""
        try:
            ZoneInfo(tz)  # fail fast on a bad zone name
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "tz": tz,
                "is_admin": is_admin,
                "name": name or user_id.lower(),
                "team_id": team_id,
            }

    def add_channel_member(self, channel: str, user_id: str) -> None:
        """Add a user to a channel's conversations.members list."""
        with self._lock:
            members = self._members.setdefault(channel, [])
            if user_id not in members:
                members.append(user_id)

    def add_file(
        self,
        file_id: str,
        name: str,
        content: bytes,
        *,
        mimetype: str = "text/plain",
        filetype: str = "text",
        user: str = "U100",
        channel: str = "",
        size: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A file a user shared: files.info describes it (``size`` overrides its real
        length, to stand for a large file; ``extra`` adds fields, such as an email's
        subject and plain_text) and its ``url_private`` serves ``content``."""
        with self._lock:
            self._files[file_id] = {
                "extra": dict(extra or {}),
                "name": name,
                "content": content,
                "mimetype": mimetype,
                "filetype": filetype,
                "user": user,
                "channel": channel,
                "size": len(content) if size is None else size,
            }

    # ------------------------------------------------------------------ request handling

    def _serve(self, handler: _Handler) -> None:
        received = time.monotonic()
        split = urlsplit(handler.path)
        path = split.path
        headers = {k.lower(): v for k, v in handler.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))

        route, _, rest = path.lstrip("/").partition("/")
        if route == "api" and rest:
            method = rest
        elif route == "response" and rest:
            method = "response_url"
        elif route == "upload" and rest:
            method = "upload"
        elif route == "files" and rest:
            method = "file_download"
        else:
            method = path

        if method == "upload":
            params["_content"] = body
            params["file_id"] = rest
        else:
            params.update(self._parse_body(headers, body))

        token: str | None = None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif isinstance(params.get("token"), str):
            token = params["token"]

        with self._lock:
            fault = self._pick_fault(method, params)
            invalid = _invalid_block_kit(params)
            if invalid is not None:
                self.invalid_blocks.append(f"{method}: {invalid}")
                answer = _Answer(200, {"ok": False, "error": "invalid_blocks"})
            elif fault is None or fault.kind == "timeout":
                answer = self._dispatch(method, rest, params, token)
            else:
                answer = self._fault_answer(fault)
            self._calls.append(
                RecordedCall(
                    method=method,
                    path=path,
                    headers=headers,
                    params=params,
                    token=token,
                    status=answer.status,
                    response=answer.payload,
                    at=received,
                    fault=fault.kind if fault else None,
                )
            )
            self._arrived.notify_all()

        delay = self.latency + (fault.delay if fault and fault.kind == "timeout" else 0.0)
        if delay > 0:
            self._stopping.wait(delay)

        if answer.body is not None:
            data, ctype = answer.body, answer.content_type
        elif answer.text is not None:
            data, ctype = answer.text.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(answer.payload).encode(), "application/json; charset=utf-8"
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (ConnectionError, TimeoutError):
            pass  # the client gave up (e.g. its timeout fired first)

    @staticmethod
    def _parse_body(headers: dict[str, str], body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                value = json.loads(body)
            except ValueError:
                return {"_content": body}
            return value if isinstance(value, dict) else {"_json": value}
        if ctype in ("", "application/x-www-form-urlencoded"):
            try:
                return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return {"_content": body}
        return {"_content": body}

    def _pick_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for key in (method, "*"):
            queue = self._queued.get(key)
            if queue:
                return queue.popleft()
        if method in CHANNEL_POST_METHODS:
            queue = self._channel_queued.get(str(params.get("channel") or ""))
            if queue:
                return queue.popleft()
        if self._random_rate > 0 and (
            method in self._random_methods or "*" in self._random_methods
        ):
            roll = self._rng.random()
            choice = self._rng.choice(self._random_faults)
            if roll < self._random_rate:
                return choice
        if method in CHANNEL_POST_METHODS and self._failed_channels:
            channel = params.get("channel") or params.get("channel_id")
            if isinstance(channel, str) and channel in self._failed_channels:
                return Fault("error", error=self._failed_channels[channel])
        return None

    @staticmethod
    def _fault_answer(fault: Fault) -> _Answer:
        if fault.kind == "rate_limited":
            return _Answer(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server_error":
            error = _SERVER_ERROR_CODES.get(fault.status, f"http_{fault.status}")
            return _Answer(fault.status, {"ok": False, "error": error})
        return _Answer(200, {"ok": False, "error": fault.error})

    def _dispatch(
        self, method: str, rest: str, params: dict[str, Any], token: str | None
    ) -> _Answer:
        if method == "response_url":
            return _Answer(200, {"ok": True})
        if method == "upload":
            upload = self._uploads.get(rest)
            if upload is None:
                return _Answer(404, {"ok": False, "error": "file_not_found"}, text="Not Found")
            upload["content"] = params["_content"]
            return _Answer(200, {"ok": True}, text=f"OK - {len(params['_content'])}")
        if method == "file_download":
            return self._file_download(rest, token)
        handler = self._methods.get(method)
        if handler is None:
            if method.startswith("/"):
                return _Answer(404, {"ok": False, "error": "not_found"})
            return _Answer(200, {"ok": False, "error": "unknown_method"})
        try:
            return _Answer(200, handler(params, token))
        except Exception:  # a bug in the fake: answer 500 and keep the traceback
            self.errors.append(traceback.format_exc())
            return _Answer(500, {"ok": False, "error": "fake_slack_internal_error"})

    # ------------------------------------------------------------------ id helpers

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:010d}"

    def _next_ts(self) -> str:
        n = self._ts_counter
        self._ts_counter += 1
        return f"{_TS_BASE + n // 1_000_000}.{n % 1_000_000:06d}"

    @staticmethod
    def _err(error: str) -> dict[str, Any]:
        return {"ok": False, "error": error}

    @staticmethod
    def _identity(token: str | None) -> dict[str, Any]:
        if token == TEAM2_TOKEN:
            return {"team_id": "T2", "team": "Team Two", "user_id": "UBOT2", "bot_id": "BBOT2"}
        return {"team_id": "T1", "team": "Fake Workspace", "user_id": "UBOT", "bot_id": "BBOT"}

    def _message(self, params: dict[str, Any], ts: str, token: str | None) -> dict[str, Any]:
        ident = self._identity(token)
        message: dict[str, Any] = {
            "type": "message",
            "text": params.get("text", ""),
            "user": ident["user_id"],
            "bot_id": ident["bot_id"],
            "team": ident["team_id"],
            "ts": ts,
        }
        if "blocks" in params:
            message["blocks"] = _parse_json_field(params["blocks"])
        if "attachments" in params:
            message["attachments"] = _parse_json_field(params["attachments"])
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return message

    # ------------------------------------------------------------------ methods

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        ident = self._identity(token)
        return {
            "ok": True,
            "url": f"https://{ident['team_id'].lower()}.fake.slack.com/",
            "team": ident["team"],
            "user": "policybot",
            "team_id": ident["team_id"],
            "user_id": ident["user_id"],
            "bot_id": ident["bot_id"],
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return self._err("channel_not_found")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return self._err("no_text")
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": self._message(params, ts, token),
        }

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return self._err("channel_not_found")
        if not ts:
            return self._err("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts, token),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("channel"):
            return self._err("channel_not_found")
        if not params.get("user"):
            return self._err("user_not_in_channel")
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_get_permalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("message_ts")
        if not channel:
            return self._err("channel_not_found")
        if not ts:
            return self._err("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{str(ts).replace('.', '')}",
        }

    def _users_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            return self._err("user_not_found")
        now = datetime.now(ZoneInfo(user["tz"]))
        offset = now.utcoffset()
        return {
            "ok": True,
            "user": {
                "id": user["id"],
                "team_id": user["team_id"],
                "name": user["name"],
                "real_name": user["name"],
                "deleted": False,
                "tz": user["tz"],
                "tz_label": now.tzname() or user["tz"],
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
                "is_admin": user["is_admin"],
                "is_owner": False,
                "is_bot": False,
                "profile": {"real_name": user["name"], "display_name": user["name"]},
            },
        }

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return self._err("channel_not_found")
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": f"channel-{str(channel).lower()}",
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": True,
            },
        }

    def _conversations_members(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return self._err("channel_not_found")
        return {
            "ok": True,
            "members": list(self._members.get(str(channel), [])),
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Messages posted to the channel, newest first, with their metadata. Runs under
        the lock (from _dispatch); `oldest` is ignored (the fake's ts are not wall-clock)."""
        channel = params.get("channel")
        messages = [
            {
                "type": "message",
                "ts": c.response.get("ts"),
                "text": c.params.get("text", ""),
                **(
                    {"metadata": _parse_json_field(c.params["metadata"])}
                    if c.params.get("metadata")
                    else {}
                ),
            }
            for c in self._calls
            if c.method == "chat.postMessage"
            and c.response.get("ok") is True
            and c.params.get("channel") == channel
        ][::-1]
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _view(self, view: Any, view_id: str, token: str | None) -> dict[str, Any]:
        parsed = _parse_json_field(view)
        body: dict[str, Any] = dict(parsed) if isinstance(parsed, dict) else {}
        body.update(
            {
                "id": view_id,
                "team_id": self._identity(token)["team_id"],
                "state": {"values": {}},
                "hash": f"{self._next_ts()}.fakehash",
                "app_id": "A1",
                "bot_id": self._identity(token)["bot_id"],
            }
        )
        return body

    def _chat_unfurl(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        has_target = params.get("channel") and params.get("ts")
        if not params.get("unfurls") or not (has_target or params.get("unfurl_id")):
            return self._err("invalid_arguments")
        return {"ok": True}

    def _views_publish(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("user_id") or not params.get("view"):
            return self._err("invalid_arguments")
        return {"ok": True, "view": self._view(params["view"], self._next_id("V"), token)}

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("trigger_id") or not params.get("view"):
            return self._err("invalid_arguments")
        return {"ok": True, "view": self._view(params["view"], self._next_id("V"), token)}

    def _views_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("view"):
            return self._err("invalid_arguments")
        view_id = params.get("view_id") or self._next_id("V")
        return {"ok": True, "view": self._view(params["view"], str(view_id), token)}

    def _files_get_upload_url(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        filename = params.get("filename")
        if not filename or not params.get("length"):
            return self._err("invalid_arguments")
        file_id = self._next_id("F")
        self._uploads[file_id] = {
            "filename": filename,
            "length": int(params["length"]),
            # A picture's description for screen readers (Slack's limit: 1000 characters).
            "alt_txt": str(params.get("alt_txt") or ""),
        }
        if len(self._uploads[file_id]["alt_txt"]) > 1000:
            return self._err("invalid_arguments")
        return {"ok": True, "upload_url": f"{self._base}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = _parse_json_field(params.get("files"))
        if not isinstance(files, list) or not files:
            return self._err("invalid_arguments")
        out: list[dict[str, Any]] = []
        for f in files:
            upload = self._uploads.get(str(f.get("id")))
            if upload is None or "content" not in upload:
                return self._err("file_not_found")
            channel = params.get("channel_id")
            out.append(
                {
                    "id": f["id"],
                    "title": f.get("title") or upload["filename"],
                    "name": upload["filename"],
                    "size": len(upload["content"]),
                    "alt_txt": upload["alt_txt"],
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": out}

    def _files_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        file_id = str(params.get("file", ""))
        shared = self._files.get(file_id)
        if shared is None:
            return self._err("file_not_found")
        url = f"{self._base}/files/{file_id}/{shared['name']}"
        channel = shared["channel"]
        return {
            "ok": True,
            "file": {
                "id": file_id,
                "name": shared["name"],
                "title": shared["name"],
                "mimetype": shared["mimetype"],
                "filetype": shared["filetype"],
                "size": shared["size"],
                "user": shared["user"],
                "url_private": url,
                "url_private_download": url + "?download=1",
                "shares": {"private": {channel: [{"ts": "1700000000.000500"}]}} if channel else {},
                **shared["extra"],
            },
        }

    def _file_download(self, rest: str, token: str | None) -> _Answer:
        shared = self._files.get(rest.split("/", 1)[0])
        if shared is None:
            return _Answer(404, {"ok": False, "error": "file_not_found"}, text="Not Found")
        if not token:
            page = b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>"
            return _Answer(200, {"ok": False}, body=page, content_type="text/html")
        return _Answer(200, {"ok": True}, body=shared["content"], content_type=shared["mimetype"])

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if params.get("code") != "good-code":
            return self._err("invalid_code")
        return {
            "ok": True,
            "access_token": TEAM2_TOKEN,
            "token_type": "bot",
            "scope": "chat:write,commands,users:read",
            "bot_user_id": "UBOT2",
            "app_id": "A1",
            "team": {"id": "T2", "name": "Team Two"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "UINSTALLER"},
        }


def serve(*, latency: float = 0.0, seed: int = 0) -> Iterator[FakeSlack]:
    """Generator for fixtures: ``yield from serve(latency=0.05)``."""
    with FakeSlack(latency=latency, seed=seed) as fake:
        yield fake


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack, stopped after the test (import this name into a test module)."""
    yield from serve()
