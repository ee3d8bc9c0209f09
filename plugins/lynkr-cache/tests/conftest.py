"""lynkr with lynkr-cache and the Anthropic provider (both loaded by their entry points) in
front of ``FakeAnthropic``, the official SDK as the client, ``LYNKR_HOME`` in a temp dir."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving

PLUGINS = ("lynkr-provider-anthropic", "lynkr-cache")
UPSTREAM_KEY = "upstream-key"
MODEL = "claude-opus-4-8"
HELLO = [{"role": "user", "content": "hello"}]


def lynkr_env(upstream_url: str, home: Path, *, extra_plugins: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """Settings for lynkr in front of the fake upstream, storing under ``home``."""
    return {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_HOME": str(home),
        "LYNKR_PLUGINS": ",".join((*PLUGINS, *extra_plugins)),
        "PROMPT_CACHE_ENABLED": "true",  # off by default: it keeps prompts and answers on disk
        "LYNKR_UPSTREAM_RETRIES": "0",
        **extra,
    }


@dataclass
class Gateway:
    """A running lynkr: its URL, an SDK client of it, and what the exchanges recorded."""

    url: str
    sdk: anthropic.AsyncAnthropic
    exchanges: list[Any] = field(default_factory=list)

    async def create(self, **options: Any) -> anthropic.types.Message:
        """``messages.create`` with the defaults of these tests."""
        return await self.sdk.messages.create(**{"model": MODEL, "max_tokens": 100, "messages": HELLO, **options})

    async def answered(self, **options: Any) -> tuple[anthropic.types.Message, dict[str, str]]:
        """The JSON answer, and the response headers."""
        arguments = {"model": MODEL, "max_tokens": 100, "messages": HELLO, **options}
        response = await self.sdk.messages.with_raw_response.create(**arguments)
        return await response.parse(), dict(response.headers)

    async def streamed(self, **options: Any) -> tuple[anthropic.types.Message, dict[str, str]]:
        """The SDK's final message of a stream, and the response headers."""
        arguments = {"model": MODEL, "max_tokens": 100, "messages": HELLO, **options}
        async with self.sdk.messages.stream(**arguments) as stream:
            message = await stream.get_final_message()
            headers = dict(stream.response.headers)
        return message, headers


@contextlib.asynccontextmanager
async def gateway(
    upstream: FakeAnthropic, home: Path, *, plugins: list[tuple[str, Any]] = (), **extra: str  # type: ignore[assignment]
) -> AsyncIterator[Gateway]:
    """lynkr served in this loop; ``plugins`` are added (and allowed) next to the two."""
    exchanges: list[Any] = []

    def lynkr_exchange_finished(exchange: Any) -> None:
        exchanges.append(exchange)

    observer = inline_plugin(hooks={"lynkr_exchange_finished": lynkr_exchange_finished})
    names = (*(name for name, _ in plugins), "observer")
    env = lynkr_env(upstream.base_url or "", home, extra_plugins=names, **extra)
    app = make_test_app(env, plugins=[*plugins, ("observer", observer)], load_entry_points=True)
    async with serving(app) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0) as sdk:
            yield Gateway(url, sdk, exchanges)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh ``LYNKR_HOME``."""
    return tmp_path / "home"


@pytest.fixture
async def upstream() -> AsyncIterator[FakeAnthropic]:
    """The fake Anthropic API, answering "ok" once its script is used up."""
    async with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def lynkr():
    """``async with lynkr(upstream, home, plugins=[...], **env) as gw``: see ``gateway``."""
    return gateway


@pytest.fixture
def env_for():
    """``env_for(upstream_url, home, **env)``: the settings ``gateway`` uses (for subprocesses)."""
    return lynkr_env
