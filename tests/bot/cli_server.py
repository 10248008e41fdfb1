"""`policybot serve` started the way a user starts it: the installed command, settings in
the environment, readiness known by polling /readyz. Nothing here knows how the server is
built inside, so these tests hold whatever serves HTTP behind the command."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from slack_sdk.signature import SignatureVerifier

from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.bot.test_workers import free_port, until
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]


def policybot_command() -> list[str]:
    """The console script pip installed beside this interpreter (the user's `policybot`)."""
    script = Path(sys.executable).with_name("policybot")
    if script.exists():
        return [str(script)]
    found = shutil.which("policybot")
    assert found, "the policybot command is not installed (pip install -e .)"
    return [found]


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def http(url: str, body: str | None = None, timeout: float = 30) -> tuple[int, str]:
    """GET, or POST a signed Slack form body; the status and the body."""
    call = urllib.request.Request(
        url,
        data=None if body is None else body.encode(),
        headers={} if body is None else signed(body),
    )
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


class CliServer:
    """One `policybot serve` process with its log in a file."""

    def __init__(self, database_url: str, fake: FakeSlack, log_path: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {
            **os.environ,
            "PORT": str(self.port),
            "POLICYBOT_HOST": "127.0.0.1",
            "POLICYBOT_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.url,
            "POLICYBOT_LOG_LEVEL": "INFO",
            **settings,
        }
        for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
            env.pop(name, None)
        self._log: IO[str] = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*policybot_command(), "serve"],
            cwd=log_path.parent,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def ready(self) -> bool:
        assert self.process.poll() is None, f"serve exited early:\n{self.log()}"
        try:
            return http(f"{self.url}/readyz", timeout=5)[0] == 200
        except OSError:
            return False

    def wait_ready(self) -> None:
        until(self.ready, 90, "the server to be ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()

    def __enter__(self) -> CliServer:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
