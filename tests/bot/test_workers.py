"""`policybot serve --workers 2`, the real command in a subprocess (gunicorn's arbiter and two
workers): one port answered by both, the scheduler in exactly one of them (also after that one
is killed), a killed worker replaced, and SIGTERM that answers the requests in flight before
every process exits."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from policybot.bot.server.drain import KILL_AFTER_SECONDS
from policybot.bot.server.routes import WORKER_HEADER
from policybot.bot.settings import Settings
from policybot.data.db import make_engine, session_factory
from policybot.data.ingest.writer import ingest_bytes
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.bot.test_http import slash_form
from tests.conftest import DEMO_CORPUS
from tests.fakeslack import FakeSlack, Fault

ROOT = Path(__file__).resolve().parents[2]
WORKER_LINE = re.compile(r"worker (\d+) \(pid (\d+)\) serving HTTP")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_pair() -> int:
    """A port p with p + 1 free too (each worker's metrics listener: p + its index)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two free ports in a row")


def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Answer:
    status: int
    body: str
    worker: str | None


def request(url: str, body: str | None = None, timeout: float = 20) -> Answer:
    headers = {}
    if body is not None:
        ts = str(int(time.time()))
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or "",
        }
    data = None if body is None else body.encode()
    call = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return Answer(
                response.status, response.read().decode(), response.headers[WORKER_HEADER]
            )
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.read().decode(), error.headers[WORKER_HEADER])


class Served:
    """The `policybot serve --workers 2` process, its log, and its workers' pids."""

    def __init__(
        self,
        database_url: str,
        fake: FakeSlack,
        log_path: Path,
        env: dict[str, str] | None = None,
        workers: int = 2,
    ) -> None:
        self.count = workers
        self.port = free_port()
        self.metrics_port = free_port_pair()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "POLICYBOT_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url,
            "POLICYBOT_HOST": "127.0.0.1",
            "POLICYBOT_LOG_LEVEL": "INFO",
            "POLICYBOT_METRICS_PORT": str(self.metrics_port),
            **(env or {}),
        }
        self._log: IO[str] = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "policybot.bot", "serve", "--workers", str(workers)]
            + ["--port", str(self.port)],
            cwd=log_path.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def workers(self) -> dict[int, int]:
        """Each worker index's latest pid, from its `serving` log line."""
        return {int(i): int(pid) for i, pid in WORKER_LINE.findall(self.log())}

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"serve exited early:\n{self.log()}"
            try:
                return request(f"{self.url}/readyz", timeout=2).status == 200
            except OSError:
                return False

        # Generous: start-up on a loaded machine; the wait ends as soon as it answers.
        until(ready, 120, "the server to be ready")
        until(lambda: len(self.workers()) == self.count, 60, "every worker to serve")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pid in self.workers().values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


def alive(pid: int) -> bool:
    """Running (a zombie, exited but not yet reaped by whoever adopted it, is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workers.sqlite3'}"  # the parent loads the demo corpus
    url: str = request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        ingest_bytes(session, DEMO_CORPUS.read_bytes(), DEMO_CORPUS.name, datetime.now(UTC))
    engine.dispose()
    return url


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def served(database_url: str, fake: FakeSlack, tmp_path: Path) -> Iterator[Served]:
    server = Served(database_url, fake, tmp_path / "serve.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def search(served: Served, fake: FakeSlack, text: str = "storage") -> Answer:
    return request(f"{served.url}/slack/events", urlencode(slash_form(fake, text)))


SCHEDULER_LINE = re.compile(r"worker (\d+) runs the scheduler")
WORKING_ROLES = ("starting", "leader", "follower")


def scheduler_roles(served: Served) -> dict[str, str]:
    """Each worker's scheduler role, from /readyz answers until both have answered."""
    roles: dict[str, str] = {}

    def both_ready() -> bool:
        answer = request(f"{served.url}/readyz")
        assert answer.status == 200, answer.body
        roles[str(answer.worker)] = json.loads(answer.body)["scheduler"]
        return set(roles) == {"0", "1"}

    until(both_ready, 30, "/readyz from both workers")
    return roles


def test_both_workers_answer_signed_commands_and_exactly_one_schedules(
    served: Served, fake: FakeSlack
) -> None:
    pids = served.workers()
    assert len(set(pids.values())) == 2 and served.process.pid not in pids.values()
    seen: dict[str, Answer] = {}
    sent = 0

    def both_answered() -> bool:
        nonlocal sent
        sent += 8
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: search(served, fake), range(8)))
        for answer in answers:
            assert answer.status == 200, answer.body
            assert "1 brief for storage" in json.loads(answer.body)["text"]
            assert answer.worker is not None
            seen[answer.worker] = answer
        return set(seen) == {"0", "1"}

    until(both_answered, 30, "answers from both workers")

    until(lambda: SCHEDULER_LINE.search(served.log()), 30, "a worker to run the scheduler")
    roles = scheduler_roles(served)
    scheduling = [w for w, role in roles.items() if role in WORKING_ROLES]
    assert len(scheduling) == 1, roles
    assert [role for w, role in roles.items() if w not in scheduling] == ["in another worker"]
    assert SCHEDULER_LINE.findall(served.log()) == scheduling
    # Metrics are per process: each worker on a port of its own, counting its own commands.
    counted = []
    for index in range(2):
        metrics = request(f"http://127.0.0.1:{served.metrics_port + index}/metrics").body
        found = re.findall(
            r'policybot_commands_total\{command="search",outcome="ok"\} (\S+)', metrics
        )
        counted.append(float(found[0]) if found else 0.0)
    assert all(counted) and sum(counted) == sent, (counted, sent)


def test_a_killed_worker_is_replaced_and_its_scheduler_taken_over(
    served: Served, fake: FakeSlack
) -> None:
    until(lambda: SCHEDULER_LINE.search(served.log()), 30, "a worker to run the scheduler")
    before = served.workers()
    victim = int(SCHEDULER_LINE.findall(served.log())[0])
    survivor = 1 - victim
    os.kill(before[victim], signal.SIGKILL)
    until(lambda: served.workers()[victim] != before[victim], 30, f"a new worker {victim}")
    # One line names the death (gunicorn's), no traceback; the other worker never stopped.
    noted = [line for line in served.log().splitlines() if str(before[victim]) in line]
    deaths = [line for line in noted if " ERROR " in line or " WARNING " in line]
    assert len(deaths) == 1 and "SIGKILL" in deaths[0], noted
    assert "Traceback" not in served.log()
    assert served.workers()[survivor] == before[survivor] and alive(before[survivor])
    # The scheduler's lock went with the dead worker: another worker runs it now, and only one.
    until(lambda: len(SCHEDULER_LINE.findall(served.log())) == 2, 30, "a new scheduler")
    roles = scheduler_roles(served)
    assert sorted(roles.values(), key=lambda r: r in WORKING_ROLES)[0] == "in another worker"
    assert sum(role in WORKING_ROLES for role in roles.values()) == 1, roles
    seen: set[str | None] = set()

    def new_worker_answers() -> bool:
        answer = search(served, fake)
        assert answer.status == 200 and "1 brief for storage" in answer.body
        seen.add(answer.worker)
        return str(victim) in seen

    until(new_worker_answers, 30, f"the new worker {victim} to answer")


def test_sigterm_answers_requests_in_flight_then_every_process_exits(
    served: Served, fake: FakeSlack
) -> None:
    channels = ("C100", "C200")
    for channel in channels:
        fake.add_channel_member(channel, "U100")
    pids = served.workers()
    # The membership check inside `subscribe` waits on Slack: both commands are in flight
    # when SIGTERM arrives. One is answered in its HTTP ack (1.5 s), the other outlasts the
    # ack budget (3.5 s) and is answered later through its response_url: both must arrive.
    fake.fail_next(
        "conversations.members", Fault("timeout", delay=1.5), Fault("timeout", delay=3.5)
    )
    answers: dict[str, Answer] = {}

    def subscribe(channel: str) -> None:
        form = slash_form(fake, "subscribe storage instant", channel_id=channel)
        form["response_url"] = fake.response_url(channel)
        answers[channel] = request(f"{served.url}/slack/events", urlencode(form))

    clients = [threading.Thread(target=subscribe, args=(c,)) for c in channels]
    for client in clients:
        client.start()
    until(lambda: len(fake.calls_to("conversations.members")) == 2, 20, "both commands")
    sent_at = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(KILL_AFTER_SECONDS + 5)
    took = time.monotonic() - sent_at
    for client in clients:
        client.join(5)

    assert code == 0, served.log()
    assert took < KILL_AFTER_SECONDS, f"{took:.1f} s"
    assert sorted(answers) == list(channels) and all(a.status == 200 for a in answers.values())
    in_ack = [c for c, a in answers.items() if "Subscribed" in a.body]
    later = [c for c, a in answers.items() if "Working on it" in a.body]
    assert len(in_ack) == 1 and len(later) == 1, answers
    posted = [c for c in fake.calls if c.path == f"/response/{later[0]}"]
    assert posted and "Subscribed" in json.dumps(posted[-1].params), posted
    assert not [pid for pid in pids.values() if alive(pid)]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", served.port), 1):
        pass
    assert_clean_stop(served.log(), 2)


def assert_clean_stop(log: str, workers: int) -> None:
    """Every worker drained and stopped on its own: none was killed, none died."""
    assert "Handling signal: term" in log
    assert log.count("received SIGTERM: draining") == workers, log
    assert len(re.findall(r"worker \d+ \(pid \d+\) stopped", log)) == workers, log
    assert "SIGKILL" not in log and "exited with code" not in log, log
    assert "Traceback" not in log


def test_worker_count_setting() -> None:
    assert Settings.from_env({}, database_url="sqlite://").web_workers == 1
    settings = Settings.from_env({"POLICYBOT_WEB_WORKERS": "4"}, database_url="sqlite://")
    assert settings.web_workers == 4
    with pytest.raises(ValueError, match="POLICYBOT_WEB_WORKERS"):
        Settings.from_env({"POLICYBOT_WEB_WORKERS": "0"}, database_url="sqlite://")
    # One metrics port per worker: 9100..9103 would take PORT 9102.
    crowded = Settings.from_env(
        {"POLICYBOT_WEB_WORKERS": "4", "POLICYBOT_METRICS_PORT": "9100", "PORT": "9102"},
        database_url="sqlite://",
    )
    assert any("one port per worker" in p for p in crowded.problems(crowded.mode))


def test_cold_words_stem_correctly_from_many_threads() -> None:
    """A fresh worker's first concurrent searches stem words none has cached yet: the shared
    stemmer must not mix one thread's word into another's (it raised IndexError)."""
    from policybot.data.search.analysis import stem

    words = [f"{w}{n}ing" for n in range(1500) for w in ("storage", "subsidies", "batteri")]
    expected = {w: stem.__wrapped__(w) for w in words[:30]}  # one thread: the right answers
    errors: list[BaseException] = []
    results: dict[str, str] = {}

    def run(part: list[str]) -> None:
        try:
            results.update((w, stem(w)) for w in part)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(words[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert {w: results[w] for w in expected} == expected
