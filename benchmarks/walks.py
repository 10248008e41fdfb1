"""Files and layer hops of two walks through the code, measured by running them.

A search's text: a signed `/policy storage` slash command posted to the real HTTP endpoint
(the WSGI app on a loopback port, as the bot tests serve it) until Slack has the reply (the
HTTP response, or the response_url post when the command was deferred). A digest: one
scheduler tick (the production ticker and Slack poster) at the time a subscribed channel's
daily digest is due, until chat.postMessage has reached the fake Slack Web API.

Each walk runs once to warm up (lazy imports, first-use caches), then again under a profile
hook that records every Python function call whose code lives in the package folders (bot/,
handlers/, scheduler/, data/), on every thread the walk uses. Start-up (app construction,
corpus loading, index warm-up) is not recorded.

Printed per walk: distinct files per layer and in total, and layer hops: a change of layer
between consecutive recorded calls, along each thread's own call sequence, summed over the
threads (a request crosses three: the HTTP connection, Bolt's listener, the command pool),
and beside it the changes along all calls in the order they happened, which also counts a
hand-off between threads that lands in another layer.
A generator resumed counts as a call, as it is control entering that file again. Then the
files, and the figures as one JSON line.

    .venv/bin/python -m benchmarks.walks
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("bot", "handlers", "scheduler", "data")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
BOT_TOKEN = "xoxb-1111-2222-walksbenchbottoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SEARCH_TEXT = "storage"
DIGEST_RULE = "storage daily at 09:00 tz UTC"


def layer_hops(layers: Iterable[str]) -> int:
    """How often the layer changes between consecutive calls of one call sequence."""
    hops = 0
    previous: str | None = None
    for layer in layers:
        if previous is not None and layer != previous:
            hops += 1
        previous = layer
    return hops


@dataclass
class Walk:
    """The calls one walk made into our code, in the order they were made: (thread, file)."""

    name: str
    calls: list[tuple[int, str]] = field(default_factory=list)

    def threads(self) -> dict[int, list[str]]:
        """Each thread's own call sequence."""
        sequences: dict[int, list[str]] = {}
        for thread, path in self.calls:
            sequences.setdefault(thread, []).append(path)
        return sequences

    def files(self) -> list[str]:
        return sorted({path for _, path in self.calls})

    def files_per_layer(self) -> dict[str, int]:
        files = self.files()
        return {layer: sum(1 for f in files if f.split("/", 1)[0] == layer) for layer in LAYERS}

    def hops(self) -> int:
        """Layer changes along each thread's call sequence, summed over the threads."""
        return sum(layer_hops(_layers(paths)) for paths in self.threads().values())

    def interleaved_hops(self) -> int:
        """Layer changes along all calls in the order they happened, whatever the thread
        (counts a hand-off to another thread; a cross-check of `hops`)."""
        return layer_hops(_layers(path for _, path in self.calls))


def _layers(paths: Iterable[str]) -> Iterator[str]:
    return (path.split("/", 1)[0] for path in paths)


class Recorder:
    """A profile hook, installed on this thread and every thread started after it, that
    keeps calls into the package folders while `recording` is set and costs one attribute
    read otherwise."""

    def __init__(self, root: Path) -> None:
        self.roots = {layer: f"{root / layer}{os.sep}" for layer in LAYERS}
        self.recording = False
        self.walk = Walk("")
        self._where: dict[str, str | None] = {}  # code file -> path under ROOT, or None

    def _ours(self, filename: str) -> str | None:
        where = self._where.get(filename, "")
        if where != "":
            return where
        found = None
        for layer, prefix in self.roots.items():
            if filename.startswith(prefix):
                found = f"{layer}/{filename[len(prefix) :]}"
        self._where[filename] = found
        return found

    def hook(self, frame: FrameType, event: str, arg: object) -> None:
        if not self.recording or event != "call":
            return
        path = self._ours(frame.f_code.co_filename)
        if path is not None:
            # list.append holds the GIL: safe from the request and pool threads at once.
            self.walk.calls.append((threading.get_ident(), path))

    def install(self) -> None:
        threading.setprofile(self.hook)
        sys.setprofile(self.hook)

    def uninstall(self) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # None removes the hook from threads started later

    @contextmanager
    def recording_walk(self, name: str) -> Iterator[Walk]:
        self.walk = Walk(name)
        self.recording = True
        try:
            yield self.walk
        finally:
            self.recording = False


def signed_post(url: str, body: str) -> tuple[int, str]:
    """A slash command's form body, signed as Slack signs it, POSTed to the endpoint."""
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


def slash_command(text: str, response_url: str, channel: str) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T1",
            "team_domain": "policy-team",
            "channel_id": channel,
            "channel_name": "industrial-policy",
            "user_id": "U100",
            "user_name": "analyst",
            "command": "/policy",
            "text": text,
            "api_app_id": "A100",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "111.222.abc",
        }
    )


def search_walk(recorder: Recorder, directory: Path) -> Walk:
    from policybot.bot.app import build_app
    from policybot.bot.server.routes import make_wsgi_app
    from policybot.bot.services import build_services
    from policybot.bot.settings import Settings
    from tests.bot.conftest import LiveServer
    from tests.fakeslack import FakeSlack

    with FakeSlack() as fake:
        fake.set_user("U100", tz="UTC")  # a known user: the walk a user's command takes
        settings = Settings.from_env(
            {},
            database_url=f"sqlite:///{directory / 'search.sqlite3'}",
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.url,
            index_dir=str(directory / "index"),
        )
        services = build_services(settings, clock=lambda: NOW)  # loads the demo corpus
        try:
            recorder.install()  # before the server's threads start, so they carry the hook
            app = build_app(services)
            with LiveServer(make_wsgi_app(app, services)) as live:
                endpoint = f"{live.url}/slack/events"

                def ask(key: str) -> str:
                    body = slash_command(SEARCH_TEXT, fake.response_url(key), "C100")
                    status, answer = signed_post(endpoint, body)
                    if status != 200:
                        raise RuntimeError(f"the endpoint answered {status}: {answer}")
                    if "brief" in answer:
                        return answer
                    # Deferred: the reply goes to the response_url instead.
                    call = fake.wait_for_call(
                        lambda c: c.method == "response_url" and key in c.path, 30
                    )
                    if call is None:
                        raise RuntimeError("no reply reached the response_url")
                    return json.dumps(call.params)

                ask("warm")
                with recorder.recording_walk("a search's text") as walk:
                    reply = ask("walk")
            if f"for {SEARCH_TEXT}" not in reply:
                raise RuntimeError(f"the search did not answer: {reply[:300]}")
            return walk
        finally:
            recorder.uninstall()
            services.close()


def digest_walk(recorder: Recorder, directory: Path) -> Walk:
    from policybot.bot.services import build_services, build_ticker
    from policybot.bot.settings import Settings
    from policybot.handlers.commands import CommandRunner
    from policybot.handlers.context import Context
    from tests.fakeslack import FakeSlack
    from tests.scheduler.conftest import ingest, tracker_issue

    first_day = datetime(2026, 12, 1, tzinfo=UTC)
    with FakeSlack() as fake:
        fake.set_user("U1", tz="UTC")
        settings = Settings.from_env(
            {},
            database_url=f"sqlite:///{directory / 'digest.sqlite3'}",
            bot_token=BOT_TOKEN,
            api_url=fake.url,
            index_dir=str(directory / "index"),
        )
        services = build_services(settings, clock=lambda: NOW)  # loads the demo corpus
        try:
            context = Context(now=first_day, team_id="T1", channel_id="C1", user_id="U1")
            answer = CommandRunner(services.sessions).run(f"subscribe {DIGEST_RULE}", context)
            if "Subscribed" not in answer.text:
                raise RuntimeError(f"the subscription failed: {answer.text}")
            ticker = build_ticker(services)  # the production poster: Slack with the bot token
            recorder.install()

            def due_digest(day: int, titles: Sequence[str]) -> datetime:
                """News in the morning and a tick just before nine (nothing due): the tick
                at nine, returned, finds the channel's digest due."""
                morning = first_day + timedelta(days=day)
                ingest(services.sessions, tracker_issue(*titles), morning + timedelta(hours=7))
                ticker.tick(morning + timedelta(hours=8, minutes=59))
                return morning + timedelta(hours=9)

            def posted_once(day: int, before: int) -> None:
                if len(fake.posted_messages("C1")) != before + 1:
                    raise RuntimeError(f"no digest was posted on day {day}")

            ticker.tick(due_digest(0, ["Storage Warm-up Plan A", "Storage Warm-up Plan B"]))
            posted_once(0, 0)
            nine = due_digest(1, ["Storage Walk Plan A", "Storage Walk Plan B"])
            with recorder.recording_walk("a digest") as walk:
                ticker.tick(nine)
            posted_once(1, 1)
            return walk
        finally:
            recorder.uninstall()
            services.close()


def table(walk: Walk) -> str:
    per_layer = walk.files_per_layer()
    layers = ", ".join(f"{layer} {count}" for layer, count in per_layer.items())
    lines = [
        f"{walk.name}: {len(walk.files())} files ({layers}); {walk.hops()} layer hops "
        f"({walk.interleaved_hops()} in the order of all calls) over {len(walk.calls)} "
        f"calls on {len(walk.threads())} threads",
        *(f"    {path}" for path in walk.files()),
    ]
    return "\n".join(lines)


def main() -> None:
    recorder = Recorder(ROOT)
    walks: list[Callable[[Recorder, Path], Walk]] = [search_walk, digest_walk]
    results: list[Walk] = []
    for run in walks:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["POLICYBOT_INDEX_DIR"] = str(Path(tmp) / "index")
            results.append(run(recorder, Path(tmp)))
    print(f"code measured: {ROOT}")
    for walk in results:
        print(table(walk))
    summary: dict[str, Any] = {
        w.name: {
            "files": len(w.files()),
            **w.files_per_layer(),
            "hops": w.hops(),
            "interleaved_hops": w.interleaved_hops(),
        }
        for w in results
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
