"""Two `policybot serve` processes on one PostgreSQL database, both serving signed requests
and both running the scheduler; one gets SIGTERM mid-run; every brief still arrives once."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from policybot.data.db import make_engine, session_factory
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.bot.test_http import post, slash_form
from tests.fakeslack import FakeSlack
from tests.scheduler.conftest import ingest, tracker_issue

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
CHANNELS = [f"CR{n}" for n in range(6)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, replica: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Until the replica's /readyz answers 200. The bound is generous (start-up on a loaded
    machine has taken over 30 s); the wait ends as soon as it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert replica.poll() is None, f"the replica on {port} exited with {replica.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"replica on {port} was not ready within {timeout:.0f} s")


def delivered(fake: FakeSlack) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for message in fake.posted_messages():
        blocks = message.get("blocks") or []
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks:
            text = ((block.get("text") or {}).get("text")) or ""
            for title in re.findall(r"Replica HTTP Brief \d+", text):
                found[(message["channel"], title)] += 1
    return found


def test_two_replicas_sigterm_mid_run_delivers_once(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    fake = FakeSlack(latency=0.02).start()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "POLICYBOT_DATABASE_URL": fresh_postgres_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "POLICYBOT_TICK_SECONDS": "1",
        "POLICYBOT_LOAD_DEMO": "0",
        "POLICYBOT_HOST": "127.0.0.1",
        "POLICYBOT_LOG_LEVEL": "INFO",
    }
    logs = [open(tmp_path / f"replica{i}.log", "w") for i in range(2)]  # noqa: SIM115
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "policybot.bot", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=logs[i],
            stderr=subprocess.STDOUT,
        )
        for i, port in enumerate(ports)
    ]
    engine = make_engine(fresh_postgres_url)
    factory = session_factory(engine)
    try:
        for port, replica in zip(ports, replicas, strict=True):
            wait_ready(port, replica)
        for index, channel in enumerate(CHANNELS):
            fake.add_channel_member(channel, "U100")
            form = slash_form(fake, "subscribe replica instant", channel_id=channel)
            status, body = post(
                f"http://127.0.0.1:{ports[index % 2]}/slack/events", urlencode(form)
            )
            assert status == 200 and "Subscribed" in body, body
        titles = []
        for batch in range(6):
            names = [f"Replica HTTP Brief {batch * 3 + n}" for n in range(3)]
            titles += names
            ingest(factory, tracker_issue(*names, words="replica storage"), datetime.now(UTC))
            time.sleep(0.7)  # real replicas tick on the wall clock
            if batch == 2:
                replicas[0].send_signal(signal.SIGTERM)
                assert replicas[0].wait(20) == 0, "the replica did not shut down cleanly"
        expected = {(c, t) for c in CHANNELS for t in titles}
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and set(delivered(fake)) != expected:
            time.sleep(0.25)
        got = delivered(fake)
        assert set(got) == expected, f"missing {len(expected - set(got))}"
        assert max(got.values()) == 1, {k: v for k, v in got.items() if v > 1}
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.send_signal(signal.SIGTERM)
                replica.wait(20)
        for log in logs:
            log.close()
        engine.dispose()
        fake.stop()
    shutdown_log = (tmp_path / "replica0.log").read_text()
    assert "received SIGTERM" in shutdown_log and "stopped" in shutdown_log
