"""One shape per Slack surface: five listener modules, each one `register(app, deps)`; a
COMMANDS row says when a command opens a form; a command's text is read once; the request
signature is checked once, by the edge."""

from __future__ import annotations

import ast
import inspect
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk.signature import SignatureVerifier

from policybot.bot.app import build_app
from policybot.bot.listeners import actions, commands, events, shortcuts, views
from policybot.bot.listeners.commands import FORMS
from policybot.bot.listeners.deps import Deps
from policybot.bot.server.routes import make_wsgi_app
from policybot.bot.services import Services
from policybot.handlers import commands as command_table
from policybot.handlers.commands import COMMANDS, ParsedCommand, parse_command
from tests.bot.conftest import SIGNING_SECRET, LiveServer
from tests.bot.test_http import post, slash_form, wait_for
from tests.fakeslack import FakeSlack

BOT = Path(__file__).resolve().parents[2] / "bot"
KINDS: tuple[ModuleType, ...] = (commands, actions, views, events, shortcuts)


def test_each_kind_registers_in_one_shape() -> None:
    for module in KINDS:
        signature = inspect.signature(module.register, eval_str=True)
        parameters = [(p.name, p.annotation) for p in signature.parameters.values()]
        assert parameters == [("app", App), ("deps", Deps)], module.__name__
        assert signature.return_annotation is None


def test_nothing_else_in_bot_registers_listeners() -> None:
    """Listeners are registered only in bot/listeners/ (app.py calls the five)."""
    elsewhere = []
    for path in BOT.rglob("*.py"):
        if path.parent.name == "listeners":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            decorators = getattr(node, "decorator_list", [])
            for decorator in decorators:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr
                    in {
                        "command",
                        "action",
                        "view",
                        "event",
                        "shortcut",
                        "options",
                    }
                    and ast.unparse(target.value) == "app"
                ):
                    elsewhere.append(f"{path.name}:{getattr(node, 'lineno', 0)}")
            if isinstance(node, ast.FunctionDef) and node.name.startswith("register"):
                elsewhere.append(f"{path.name}:{node.name}")
    assert elsewhere == []


def test_listener_modules_build_no_block_kit() -> None:
    """Rendering lives in bot/blocks.py and the surface modules, not beside the routing."""
    for module in KINDS:
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        assert "slack_sdk.models" not in source, module.__name__
        assert '"type": "section"' not in source, module.__name__


def test_every_form_a_row_names_has_an_opener() -> None:
    named = {spec.form for spec in COMMANDS if spec.form}
    assert named == {"subscribe", "remind", "add"}
    assert named <= FORMS.keys()


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("subscribe", "subscribe"),
        ("  Remind ", "remind"),
        ("subscribe storage", ""),  # runs: the reply previews the subscription
        ("subscribe share", ""),
        ("subscribe page:2", ""),
        ("remind off", ""),  # a sub-command is another row
        ("add", "add"),
        ("add Title: Storage plan\nIssuing body: MIIT", "add"),  # pre-fills the form
        ("latest", ""),
        ("storage", ""),
    ],
)
def test_a_row_says_when_a_command_opens_a_form(text: str, form: str) -> None:
    assert parse_command(text).form == form


def test_a_slash_command_is_read_once(
    services: Services, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real endpoint: the listener reads the text, the dispatcher and the
    runner take the parsed command (a form's command too)."""
    reads: list[str] = []
    parse = command_table._parse

    def counted(text: str) -> ParsedCommand:
        reads.append(text)
        return parse(text)

    monkeypatch.setattr(command_table, "_parse", counted)
    app = build_app(services)
    with LiveServer(make_wsgi_app(app, services)) as server:
        for text in ("storage", "deadlines within 5y", "subscribe"):
            reads.clear()
            status, _ = post(f"{server.url}/slack/events", urlencode(slash_form(fake, text)))
            assert status == 200
            assert reads == [text]
    assert wait_for(lambda: fake.calls_to("views.open"))  # `subscribe` alone: its form


def test_bolt_does_not_check_the_signature_again(services: Services) -> None:
    app = build_app(services)
    assert not any(isinstance(m, RequestVerification) for m in app._middleware_list)


@pytest.mark.parametrize("case", ["another body's signature", "stale", "unsigned"])
def test_the_edge_is_the_one_check_and_refuses_401(
    services: Services, fake: FakeSlack, case: str
) -> None:
    app = build_app(services)
    fake.clear()
    body = urlencode(slash_form(fake, "storage"))
    with LiveServer(make_wsgi_app(app, services)) as server:
        url = f"{server.url}/slack/events"
        if case == "unsigned":
            status, text = post(url, body, secret=None)
        elif case == "stale":
            status, text = post(url, body, timestamp=int(time.time()) - 6 * 60)
        else:
            # Signed, but for other bytes: the edge checks the body as sent.
            other = urlencode(slash_form(fake, "deadlines"))
            status, text = _post_with_signature_of(url, body, other)
        assert status == 401, text
        # The same body, signed, gets through: the refusal was the signature's.
        assert post(url, body)[0] == 200
    assert fake.calls_to("chat.postMessage") == []


def _post_with_signature_of(url: str, body: str, signed: str) -> tuple[int, str]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=signed)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()
