"""Claude Code sessions as the reflector sees them, and a reflector to feed them to.

The fixtures under ``fixtures/`` are whole conversations (the messages of the last request
Claude Code sent, and the final answer). ``calls(session)`` splits one into the model
calls the CLI made, turn by turn: the request bodies it sent (the captured CLI's system
prompt, tools and options, this conversation's messages so far, ``cache_control`` on the
last block) and the answers it got. ``Feeder`` hands them to a reflector as the core would:
``prepare``, then the exchange hook with the finished ``Exchange``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from lynkr_reflector.config import load_settings, workspace_of
from lynkr_reflector.reflector import Reflector

from lynkr_core import (
    Exchange,
    ModelClient,
    RequestContext,
    Services,
    Settings,
    ToolCallRecord,
    anthropic,
)
from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)
from lynkr_core.testing.gateway import CLAUDE_CODE_FIXTURES

FIXTURES = Path(__file__).parent / "fixtures"
SESSIONS = ("session_debug_discount", "session_debug_dates_corrected", "session_refactor_tests_corrected")


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``LYNKR_HOME`` and ``WORKSPACE_ROOT`` in temporary directories, for the settings a
    test builds and for the process (``lynkr`` reads ``os.environ``; the working directory
    is moved so that no ``.env`` or ``lynkr.toml`` is found)."""
    home, workspace = tmp_path / "home", tmp_path / "workspace"
    workspace.mkdir()
    env = {"LYNKR_HOME": str(home), "WORKSPACE_ROOT": str(workspace)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("LYNKR_PLUGINS", "LYNKR_DISABLE_PLUGINS", "LYNKR_CONFIG", "LYNKR_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


def load_session(name: str) -> dict[str, Any]:
    """A fixture conversation: ``session_id``, ``cwd``, ``messages``, ``final``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _captured_turn() -> dict[str, Any]:
    return json.loads((CLAUDE_CODE_FIXTURES / "turn1.json").read_text())


_CAPTURED: dict[str, Any] = {}


def claude_code_body(session: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The body the CLI sends with ``messages``: the captured request's system prompt (with
    this session's working directory), tools, metadata and options; ``cache_control`` only
    on the last block of the last message, as the CLI moves it turn by turn."""
    if not _CAPTURED:
        _CAPTURED.update(_captured_turn())
    body = copy.deepcopy(_CAPTURED)
    body["model"] = session.get("model", body["model"])
    body["system"] = [
        {**block, "text": block["text"].replace("/WORKDIR", session["cwd"])} for block in body["system"]
    ]
    user_id = json.loads(body["metadata"]["user_id"])
    user_id["session_id"] = session["session_id"]
    body["metadata"] = {"user_id": json.dumps(user_id, separators=(",", ":"))}
    sent = copy.deepcopy(messages)
    for message in sent:
        if isinstance(message["content"], list):
            for block in message["content"]:
                block.pop("cache_control", None)
    last = sent[-1]["content"]
    if isinstance(last, list):
        last[-1]["cache_control"] = {"type": "ephemeral"}
    body["messages"] = sent
    return body


@dataclass
class Call:
    """One model call of a session: what the CLI sent, what it got back."""

    body: dict[str, Any]
    answer: dict[str, Any]
    turn_messages: int = 0


def calls(session: dict[str, Any]) -> list[Call]:
    """Every model call of ``session``, in order: for each assistant message, the request
    that led to it; then the request for the final answer."""
    messages = session["messages"]
    found = []
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            found.append(Call(claude_code_body(session, messages[:index]), _answer(message["content"]), index))
    found.append(Call(claude_code_body(session, messages), _answer(session["final"]["content"]), len(messages)))
    return found


def _answer(content: list[dict[str, Any]]) -> dict[str, Any]:
    stop = "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"
    return {"content": content, "stop_reason": stop}


def make_exchange(
    settings: Settings,
    call: Call,
    session_id: str | None,
    *,
    tool_calls: list[ToolCallRecord] = (),  # type: ignore[assignment]
    error: Exception | None = None,
    duration: float = 2.5,
) -> tuple[Exchange, RequestContext]:
    """An ``Exchange`` as the core builds it for ``call``: the decoded request, one step with
    its answer (and lynkr's own ``tool_calls``), the message the client got."""
    request = anthropic.decode_request(json.dumps(call.body).encode())
    context = RequestContext(
        request_id=f"req_{time.monotonic_ns()}", http=None, settings=settings,  # type: ignore[arg-type]
        log=structlog.get_logger("test"), session_id=session_id,
    )
    step = context.begin_step(request)
    response = None
    if error is None:
        usage = {"input_tokens": len(json.dumps(call.body)) // 4, "output_tokens": 120}
        response = anthropic.decode_response(json.dumps({
            "id": f"msg_{call.turn_messages}", "type": "message", "role": "assistant",
            "model": call.body["model"], "content": call.answer["content"],
            "stop_reason": call.answer["stop_reason"], "stop_sequence": None, "usage": usage,
        }).encode())
        step.response = response
    step.tool_calls.extend(tool_calls)
    step.finish(error)
    exchange = Exchange(request=request, client_request=request, context=context, streamed=True,
                        response=response, duration=duration)
    return exchange, context


async def no_model(request: anthropic.MessagesRequest, purpose: str) -> anthropic.MessageResponse:
    raise AssertionError("the heuristic reflector asked the model")


@dataclass
class Feeder:
    """A started reflector and the settings it was built from; ``send`` plays one call."""

    settings: Settings
    reflector: Reflector
    services: Services
    seen: list[anthropic.MessagesRequest] = field(default_factory=list)

    async def send(self, call: Call, session_id: str | None, **options: Any) -> None:
        """``call`` as the core handles it: prepare, then the finished exchange to the observer."""
        exchange, context = make_exchange(self.settings, call, session_id, **options)
        prepared = await self.reflector.prepare(exchange.request, context)
        self.seen.append(prepared or exchange.request)
        self.reflector.exchange_finished(exchange)
        await self.reflector.idle()

    async def play(self, session: dict[str, Any], *, upto: int | None = None,
                   session_id: str | None = None) -> None:
        """Every call of ``session`` (or the first ``upto``), one after the other."""
        for call in calls(session)[:upto]:
            await self.send(call, session_id or session["session_id"])

    def hints(self) -> dict[str, Any]:
        """The playbook's hints by key (``Hint``), read from the database."""
        playbook = self.reflector._open()
        return {hint.key: hint for hint in playbook.hints(self.reflector.workspace)}

    def evidence(self, key: str) -> list[tuple[str, int, bool]]:
        """A hint's evidence as ``(session id, turn, support)``."""
        hint = self.hints()[key]
        return [(e.session_id, e.turn, e.support) for e in self.reflector._open().evidence(hint.id)]


@pytest.fixture
async def feeder_factory(lynkr_env: dict[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """``await feeder_factory(model=send, **env)``: a started reflector configured by
    ``env`` over the temporary home and workspace; closed when the test ends."""
    started: list[Reflector] = []

    async def make(model: Callable[..., Any] = no_model, **env: str) -> Feeder:
        settings = Settings({**lynkr_env, **env})
        reflector = Reflector(load_settings(settings), workspace_of(settings))
        services = Services(settings=settings, http=None, model=ModelClient(model))  # type: ignore[arg-type]
        await reflector.start(services)
        started.append(reflector)
        return Feeder(settings, reflector, services)

    yield make
    for reflector in started:
        await reflector.close()


def sessions() -> Iterator[dict[str, Any]]:
    """The three fixture sessions."""
    for name in SESSIONS:
        yield load_session(name)


@pytest.fixture
def claude_code() -> SimpleNamespace:
    """The session helpers (tests cannot import this module): ``load(name)``, ``sessions()``,
    ``calls(session)``, ``body(session, messages)``, ``exchange(settings, call, session_id)``."""
    return SimpleNamespace(load=load_session, sessions=sessions, calls=calls, body=claude_code_body,
                           exchange=make_exchange)
