"""lynkr serving OpenAI-format clients (the ``openai`` SDK, Codex, Aider) in front of a
scripted upstream of either wire format, for tests.

An `Upstream` says how to script one kind of fake upstream by what a reply means (text,
reasoning, tool calls) and how lynkr is configured against it. `UPSTREAMS` holds the two
the OpenAI routes must serve: an Anthropic-format upstream (`FakeAnthropic`,
``MODEL_PROVIDER=anthropic``) and an OpenAI-format one (`FakeOpenAI`,
``MODEL_PROVIDER=openai``)::

    async with openai_gateway(UPSTREAMS["anthropic"], [Turn("hi")]) as gw:
        answer = await gw.client.chat.completions.create(model="m", messages=HELLO)
    assert gw.requests()[0]["messages"] ...
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.scripted import ScriptedServer
from lynkr_core.testing.server import make_test_app, serving

__all__ = ["CLIENT_KEY", "UPSTREAMS", "UPSTREAM_KEY", "OpenAIGateway", "Turn", "Upstream", "openai_gateway"]

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"


@dataclass
class Turn:
    """One scripted model turn: ``text``, then ``calls`` as ``(id, name, arguments)``;
    ``reasoning`` before both. Streams split text and arguments into ``chunk_size`` pieces."""

    text: str = ""
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    reasoning: str = ""
    chunk_size: int = 4
    usage: tuple[int, int] = (21, 7)


@dataclass(frozen=True)
class Upstream:
    """A kind of fake upstream: how to make it from `Turn`s, lynkr's settings against it,
    and the bodies of the model calls it received."""

    name: str
    make: Callable[[list[Turn]], ScriptedServer]
    env: Callable[[str], dict[str, str]]
    requests: Callable[[Any], list[dict[str, Any]]]


def _anthropic_reply(turn: Turn) -> Reply:
    blocks: list[dict[str, Any]] = []
    if turn.reasoning:
        blocks.append({"type": "thinking", "thinking": turn.reasoning, "signature": "sig-1"})
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    blocks += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in turn.calls]
    usage = {"input_tokens": turn.usage[0], "output_tokens": turn.usage[1]}
    return Reply(blocks, usage=usage, chunk_size=turn.chunk_size)


def _openai_reply(turn: Turn) -> ChatReply:
    return ChatReply(
        turn.text,
        reasoning=turn.reasoning,
        tool_calls=[ToolCallSpec(n, a, id=i) for i, n, a in turn.calls],
        usage=turn.usage,
        chunk_size=turn.chunk_size,
        arguments_chunk_size=turn.chunk_size,
    )


UPSTREAMS: dict[str, Upstream] = {
    "anthropic": Upstream(
        "anthropic",
        lambda turns: FakeAnthropic([_anthropic_reply(t) for t in turns], api_key=UPSTREAM_KEY),
        lambda base: {
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": base,
            "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        },
        lambda fake: [r.json for r in fake.message_requests],
    ),
    "openai": Upstream(
        "openai",
        lambda turns: FakeOpenAI([_openai_reply(t) for t in turns], dialect="openai", api_key=UPSTREAM_KEY),
        lambda base: {
            "MODEL_PROVIDER": "openai",
            "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_MODEL": "gpt-4o",
        },
        lambda fake: [r.json for r in fake.chat_requests],
    ),
}
"""The two upstream formats, by name."""


@dataclass
class OpenAIGateway:
    """A running lynkr at ``url`` in front of ``fake``, and an ``openai`` SDK client of it."""

    url: str
    client: openai.AsyncOpenAI
    fake: Any
    upstream: Upstream
    app: Any

    def requests(self) -> list[dict[str, Any]]:
        """The bodies of the model calls the upstream received, in order."""
        return self.upstream.requests(self.fake)


def lynkr_env(upstream: Upstream, base: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """lynkr's settings against ``upstream`` at ``base``: client mode, no retries, the client
    key, and an empty workspace of its own (nothing indexes the caller's directory)."""
    return {
        "TOOL_EXECUTION_MODE": "client",
        "WORKSPACE_ROOT": tempfile.mkdtemp(prefix="lynkr-workspace-"),
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_API_KEYS": CLIENT_KEY,
        **upstream.env(base),
        **(extra or {}),
    }


@contextlib.asynccontextmanager
async def openai_gateway(
    upstream: Upstream, turns: list[Turn], *, plugins: Sequence[tuple[str, Any]] = (), **env: str
) -> AsyncIterator[OpenAIGateway]:
    """Start ``upstream`` scripted with ``turns``, serve lynkr in front of it (``env`` added
    to its settings, ``plugins`` registered after the installed ones) and open an ``openai``
    SDK client of lynkr (no retries)."""
    async with upstream.make(turns) as fake:
        app = make_test_app(lynkr_env(upstream, fake.base_url, env), plugins=list(plugins))
        async with serving(app) as url:
            async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0) as client:
                yield OpenAIGateway(url, client, fake, upstream, app)
