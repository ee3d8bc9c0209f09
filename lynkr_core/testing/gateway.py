"""lynkr in front of a fake upstream, with the anthropic SDK as its client: the harness of
the provider plugins' test suites.

A suite describes its provider once, as a `Harness`: how lynkr is configured against an
upstream's base URL, and the key its client sends::

    def openrouter_env(base_url: str, **extra: str) -> dict[str, str]:
        return {"MODEL_PROVIDER": "openrouter", "OPENROUTER_ENDPOINT": ..., **extra}

    HARNESS = Harness(openrouter_env, upstream_key=UPSTREAM_KEY, model=MODEL)

``HARNESS.run(fake, **env)`` then starts the fake upstream, serves lynkr configured by
``openrouter_env(fake.base_url, **env)`` on a real loopback socket and opens an SDK client
of it, as one ``async with``; everything is stopped again on the way out::

    async with HARNESS.run(FakeOpenAI([ChatReply("hi")], dialect="openrouter")) as gw:
        message = await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert gw.fake.chat_requests[0].json["model"] == MODEL

``HARNESS.serve(env)`` serves lynkr alone, configured by ``env`` (an unreachable
upstream, a missing setting). Either way the `Gateway` also posts raw bodies
(`Gateway.post_raw`, `Gateway.post_sse`) and runs the provider's health check
(`Gateway.check`). `stream_events`, `sse_events`, `assert_only_credential` and the Claude
Code captures (`CLAUDE_CODE_FIXTURES`, `claude_code_headers`, the `claude_code_turns`
fixture) are what the suites assert with.

Plugins may not import each other, so this module is where their shared test setup lives.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import pytest
from starlette.applications import Starlette

from lynkr_core.testing.installed import REPO
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.wire.sse import SSEParser

__all__ = [
    "CLAUDE_CODE_FIXTURES",
    "CLIENT_KEY",
    "Gateway",
    "Harness",
    "assert_only_credential",
    "claude_code_headers",
    "claude_code_turns",
    "openai_upstream_env",
    "parse_sse",
    "quick_retries",
    "sse_events",
    "stream_events",
]

CLIENT_KEY = "client-key-for-lynkr-only"
"""The key the SDK client sends to lynkr, unless a `Harness` names another."""

CLAUDE_CODE_FIXTURES = REPO / "tests" / "fixtures" / "claude_code"
"""Requests a real Claude Code CLI sent (``turn1.json``, ``turn2.json``) and its headers."""

_NOT_REPLAYED = {"host", "content-length", "connection", "accept-encoding", "x-api-key"}
_CREDENTIAL_HEADERS = ("authorization", "api-key", "x-api-key")


def quick_retries(retries: int = 0) -> dict[str, str]:
    """lynkr settings for ``retries`` upstream retries, 10 to 50 ms apart."""
    return {
        "LYNKR_UPSTREAM_RETRIES": str(retries),
        "LYNKR_RETRY_BASE_SECONDS": "0.01",
        "LYNKR_RETRY_MAX_SECONDS": "0.05",
    }


def openai_upstream_env(base_url: str, api_key: str, **extra: str) -> dict[str, str]:
    """lynkr's settings for an OpenAI-format upstream at ``base_url`` (a fake's: its chat
    completions URL, never api.openai.com) with ``api_key``, the model ``gpt-4o``;
    ``extra`` adds settings or overrides these."""
    return {
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": base_url + "/v1/chat/completions",
        "OPENAI_API_KEY": api_key,
        "OPENAI_MODEL": "gpt-4o",
        **extra,
    }


def claude_code_headers() -> dict[str, str]:
    """The headers the real CLI sent with the captured requests, without the ones that
    belong to that connection (host, length, connection, encoding) and without its key."""
    captured = json.loads((CLAUDE_CODE_FIXTURES / "headers.json").read_text())
    return {name: value for name, value in captured.items() if name not in _NOT_REPLAYED}


def assert_only_credential(
    headers: Mapping[str, str], name: str, value: str, client_key: str = CLIENT_KEY
) -> None:
    """``headers`` (of a request sent upstream) carry the credential ``name: value``, none of
    the other credential headers (``authorization``, ``api-key``, ``x-api-key``), and
    nowhere the client's key."""
    assert headers[name] == value
    assert [other for other in _CREDENTIAL_HEADERS if other != name and other in headers] == []
    assert client_key not in json.dumps(dict(headers))


def sse_events(body: str | bytes) -> list[tuple[str, Any]]:
    """The ``(event, data)`` pairs of a complete SSE body, ``data`` decoded from JSON."""
    raw = body.encode() if isinstance(body, str) else body
    return [
        (event.event, json.loads(event.data) if event.data else {})
        for event in SSEParser().feed(raw)
    ]


async def stream_events(sdk: anthropic.AsyncAnthropic, **request: Any) -> tuple[list[Any], Any]:
    """Stream ``request`` with the SDK: every stream event, and the final message."""
    async with sdk.messages.stream(**request) as stream:
        seen = [event async for event in stream]
        return seen, await stream.get_final_message()


@pytest.fixture
def claude_code_turns() -> list[dict[str, Any]]:
    """The two request bodies a real Claude Code CLI sent for one task."""
    return [
        json.loads((CLAUDE_CODE_FIXTURES / name).read_text())
        for name in ("turn1.json", "turn2.json")
    ]


@pytest.fixture
def parse_sse() -> Callable[[str | bytes], list[tuple[str, Any]]]:
    """``parse_sse(body)``: the ``(event, data)`` pairs of an SSE body (`sse_events`)."""
    return sse_events


@dataclass
class Gateway:
    """A running lynkr (``app``, served at ``url``), an SDK client of it (``sdk``, sending
    ``client_key``), and the fake upstream behind it (``fake``; None when lynkr runs alone).

    ``upstream_key`` and ``model`` are the suite's, from its `Harness`, for assertions.
    A gateway unpacks as ``fake, sdk``: ``async with harness.run(...) as (fake, sdk)``.
    """

    app: Starlette
    url: str
    sdk: anthropic.AsyncAnthropic
    fake: Any = None
    client_key: str = CLIENT_KEY
    upstream_key: str | None = None
    model: str | None = None

    def __iter__(self) -> Iterator[Any]:
        """``fake``, then ``sdk``."""
        return iter((self.fake, self.sdk))

    async def post(
        self, body: bytes | Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> tuple[int, Mapping[str, str], bytes]:
        """POST ``body`` (JSON-encoded unless it is bytes already) to lynkr's /v1/messages
        with aiohttp, with ``client_key`` and ``anthropic-version``, plus ``headers``;
        the status, headers and raw body of the answer."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {
            "content-type": "application/json",
            "x-api-key": self.client_key,
            "anthropic-version": "2023-06-01",
            **(headers or {}),
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.url}/v1/messages", data=data, headers=sent) as response:
                return response.status, response.headers, await response.read()

    async def post_raw(
        self, body: bytes | Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> tuple[int, Mapping[str, str], str]:
        """`post`, with the answer's body as text."""
        status, response_headers, raw = await self.post(body, headers)
        return status, response_headers, raw.decode()

    async def post_sse(
        self, body: bytes | Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> tuple[int, list[tuple[str, Any]]]:
        """`post`; the status and the ``(event, data)`` pairs of the answer."""
        status, _, raw = await self.post(body, headers)
        return status, sse_events(raw)

    async def check(self) -> Any:
        """The ``check()`` of the provider ``MODEL_PROVIDER`` names (what ``lynkr doctor``
        runs)."""
        pipeline = self.app.state.pipeline
        provider = pipeline.providers.get(pipeline.settings.core.model_provider)
        return await provider.check(pipeline.context("req_doctor", {}))


@dataclass(frozen=True)
class Harness:
    """How one provider's suite runs lynkr in front of its fake upstream.

    ``env(base_url, **overrides)`` is lynkr's configuration against an upstream at
    ``base_url``; ``client_key`` is what the SDK client sends (it must be in
    ``LYNKR_API_KEYS`` when ``env`` sets that); ``upstream_key`` and ``model`` are passed
    on to each `Gateway` for the tests' assertions. ``check_request``, when given, is
    called with the body of every chat request the fake recorded, once a `run` ends
    without an error (e.g. ``assert_valid_chat_request``).
    """

    env: Callable[..., Mapping[str, str]]
    client_key: str = CLIENT_KEY
    upstream_key: str | None = None
    model: str | None = None
    check_request: Callable[[Any], object] | None = None

    @contextlib.asynccontextmanager
    async def serve(self, env: Mapping[str, str], *, fake: Any = None) -> AsyncIterator[Gateway]:
        """lynkr configured by ``env``, served in this event loop, and an SDK client of it
        (no retries of its own); ``fake`` is only recorded on the `Gateway`. The installed
        tool plugins are not offered to the model (``TOOL_EXECUTION_MODE=client`` unless
        ``env`` says otherwise): a provider's suite checks exactly what the client sent."""
        app = make_test_app({"TOOL_EXECUTION_MODE": "client", **env})
        async with serving(app) as url:
            async with anthropic.AsyncAnthropic(
                base_url=url, api_key=self.client_key, max_retries=0
            ) as sdk:
                yield Gateway(app, url, sdk, fake, self.client_key, self.upstream_key, self.model)

    @contextlib.asynccontextmanager
    async def run(self, fake: Any, **overrides: str) -> AsyncIterator[Gateway]:
        """Start ``fake`` (a scripted server), then `serve` lynkr configured by
        ``env(fake.base_url, **overrides)``. ``{base}`` in an override stands for the
        fake's base URL."""
        async with fake:
            base = fake.base_url
            extra = {name: value.replace("{base}", base) for name, value in overrides.items()}
            async with self.serve(self.env(base, **extra), fake=fake) as gateway:
                yield gateway
        if self.check_request is not None:
            for request in fake.chat_requests:
                self.check_request(request.json)
