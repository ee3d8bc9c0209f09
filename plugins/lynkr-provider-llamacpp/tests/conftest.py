"""Fixtures: a fake llama-server, lynkr in front of it, the anthropic SDK as client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest
from starlette.applications import Starlette

from lynkr_core.testing.fake_openai import FakeOpenAI
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.server import make_test_app, serving

CLIENT_KEY = "client-key-for-lynkr-only"
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "claude_code"


@dataclass
class Gateway:
    """A running fake llama-server, lynkr in front of it, and an SDK client of lynkr."""

    fake: FakeOpenAI
    sdk: anthropic.AsyncAnthropic
    url: str
    app: Starlette
    client_key: str = CLIENT_KEY

    async def post_raw(self, body: dict[str, Any], headers: dict[str, str] | None = None):
        """POST ``body`` to lynkr's /v1/messages with aiohttp; (status, headers, text)."""
        sent = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", **(headers or {})}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.url}/v1/messages", json=body, headers=sent) as response:
                return response.status, response.headers, (await response.read()).decode()

    async def check(self):
        """The registered ``llamacpp`` provider's ``check()`` (what ``lynkr doctor`` runs)."""
        pipeline = self.app.state.pipeline
        provider = pipeline.providers.get("llamacpp")
        return await provider.check(pipeline.context("req_doctor", {}))


def llamacpp_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr's settings for ``MODEL_PROVIDER=llamacpp`` against ``base_url``."""
    return {
        "MODEL_PROVIDER": "llamacpp",
        "LLAMACPP_ENDPOINT": base_url,
        "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_RETRY_BASE_SECONDS": "0.01",
        "LYNKR_RETRY_MAX_SECONDS": "0.05",
        **extra,
    }


@pytest.fixture
def gateway():
    """``async with gateway(script, key=..., loading=..., **env) as gw``: fake llama-server
    (requiring ``key`` when given) + lynkr (``LLAMACPP_API_KEY=key``) + SDK client.
    ``{base}`` in an ``env`` value stands for the fake's base URL."""

    @contextlib.asynccontextmanager
    async def run(
        script: Sequence[Any] = (), *, key: str | None = None, loading: bool = False, **env: str
    ) -> AsyncIterator[Gateway]:
        fake = FakeOpenAI(list(script), dialect="llamacpp", api_key=key, loading=loading)
        async with fake:
            env = {name: value.replace("{base}", fake.base_url) for name, value in env.items()}
            if key is not None:
                env = {"LLAMACPP_API_KEY": key, **env}
            app = make_test_app(llamacpp_env(fake.base_url, **env))
            async with serving(app) as url:
                async with anthropic.AsyncAnthropic(
                    base_url=url, api_key=CLIENT_KEY, max_retries=0
                ) as sdk:
                    yield Gateway(fake, sdk, url, app)
        # every body sent upstream is a request the openai SDK accepts
        for request in fake.chat_requests:
            assert_valid_chat_request(request.json)

    return run


@pytest.fixture
def claude_code_turns() -> list[dict[str, Any]]:
    """The two request bodies a real Claude Code CLI sent for one task."""
    return [json.loads((FIXTURES / name).read_text()) for name in ("turn1.json", "turn2.json")]


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of an SSE body."""
    out = []
    for frame in text.split("\n\n"):
        name, data = "", ""
        for line in frame.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if name:
            out.append((name, json.loads(data) if data else {}))
    return out


@pytest.fixture
def parse_sse():
    """``parse_sse(text)``: the ``(event, data)`` pairs of an SSE body."""
    return sse_events
