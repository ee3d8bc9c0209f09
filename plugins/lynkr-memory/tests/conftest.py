"""A started memory over a temporary ``LYNKR_HOME``, fed exchanges as the core would build
them (the decoded request, the finished step), and the CLI fixture."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import lynkr_memory
import pytest
import structlog
from lynkr_memory.config import load_settings
from lynkr_memory.memory import LongTermMemory

from lynkr_core import (
    Exchange,
    HookCall,
    ModelClient,
    RequestContext,
    Services,
    Settings,
    anthropic,
)
from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``LYNKR_HOME`` in a temporary directory, for the settings a test builds and for the
    process (``lynkr`` reads ``os.environ``; the working directory is moved so that no
    ``.env`` or ``lynkr.toml`` is found)."""
    env = {"LYNKR_HOME": str(tmp_path / "home")}
    monkeypatch.setenv("LYNKR_HOME", env["LYNKR_HOME"])
    for name in ("LYNKR_PLUGINS", "LYNKR_DISABLE_PLUGINS", "LYNKR_CONFIG", "LYNKR_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("MEMORY_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


def request(*turns: str | list[dict[str, Any]], system: Any = None) -> anthropic.MessagesRequest:
    """A request whose messages alternate user/assistant, starting with the user."""
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": turn} for i, turn in enumerate(turns)]
    body: dict[str, Any] = {"model": "claude-opus-4-8", "max_tokens": 100, "messages": messages}
    if system is not None:
        body["system"] = system
    return anthropic.decode_request(json.dumps(body).encode())


def exchange(settings: Settings, req: anthropic.MessagesRequest, session_id: str | None,
             answer: str = "Sure.") -> Exchange:
    """An ``Exchange`` as the core builds it for ``req`` answered with ``answer``."""
    context = RequestContext(request_id=f"req_{time.monotonic_ns()}", http=None, settings=settings,  # type: ignore[arg-type]
                             log=structlog.get_logger("test"), session_id=session_id)
    step = context.begin_step(req)
    response = anthropic.decode_response(json.dumps({
        "id": "msg_1", "type": "message", "role": "assistant", "model": req.model,
        "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5}}).encode())
    step.response = response
    step.finish(None)
    return Exchange(request=req, client_request=req, context=context, streamed=False, response=response, duration=0.1)


def context_for(settings: Settings, session_id: str | None) -> RequestContext:
    return RequestContext(request_id="req_prepare", http=None, settings=settings,  # type: ignore[arg-type]
                          log=structlog.get_logger("test"), session_id=session_id)


async def no_model(req: anthropic.MessagesRequest, purpose: str) -> anthropic.MessageResponse:
    raise AssertionError("heuristic extraction asked the model")


class Harness:
    """A started memory, and helpers to tell it things and ask it things."""

    def __init__(self, settings: Settings, memory: LongTermMemory) -> None:
        self.settings = settings
        self.memory = memory

    async def tell(self, text: str, session_id: str | None = "s1") -> list[Any]:
        """The user says ``text`` in ``session_id``; the memory learns from the exchange."""
        return await self.memory.learn(exchange(self.settings, request(text), session_id))

    async def recall(self, text: str, session_id: str | None = "s2") -> list[str]:
        """The contents of what would be injected for ``text``."""
        return [r.memory.content for r in await self.memory.search(text, session_id)]

    async def prepared(self, req: anthropic.MessagesRequest, session_id: str | None = "s2") -> anthropic.MessagesRequest | None:
        return await self.memory.prepare(req, context_for(self.settings, session_id))

    def store(self):
        return self.memory._store()


def hook_calls(*plugins: tuple[str, Any]) -> Callable[[str], list[HookCall]]:
    """What ``Services.hook_calls`` gives for these plugins' retriever hooks (lynkr-memory's
    own first, as the core would order an installed plugin after those passed in code)."""
    def calls(name: str) -> list[HookCall]:
        found = []
        for plugin_name, plugin in plugins:
            function = getattr(plugin, name, None)
            if function is not None:
                found.append(HookCall(plugin_name, name, function, ("register", "settings")))
        return found
    return calls


@pytest.fixture
async def memory_factory(lynkr_env: dict[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """``await memory_factory(model=send, plugins=[...], **env)``: a started memory configured by
    ``env`` over the temporary home; closed when the test ends."""
    started: list[LongTermMemory] = []

    async def make(model: Callable[..., Any] = no_model, plugins: list[tuple[str, Any]] = (), **env: str) -> Harness:  # type: ignore[assignment]
        settings = Settings({**lynkr_env, **env})
        memory = LongTermMemory(load_settings(settings))
        services = Services(settings=settings, http=None, model=ModelClient(model),  # type: ignore[arg-type]
                            plugin_hooks=hook_calls(("lynkr-memory", lynkr_memory), *plugins))
        await memory.start(services)
        started.append(memory)
        return Harness(settings, memory)

    yield make
    for memory in started:
        await memory.close()


@pytest.fixture
def helpers() -> Any:
    """The request helpers (tests cannot import this module): ``request(*turns)``,
    ``exchange(settings, request, session_id)``."""
    from types import SimpleNamespace

    return SimpleNamespace(request=request, exchange=exchange)
