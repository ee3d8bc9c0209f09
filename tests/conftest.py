"""Fixtures shared by the core's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anthropic
import lynkr_provider_anthropic
import pytest
from starlette.applications import Starlette

from lynkr_core.testing.server import make_test_app, serving


@pytest.fixture
async def after_test() -> AsyncIterator[contextlib.AsyncExitStack]:
    """An ``AsyncExitStack`` unwound when the test ends: fake servers entered on it are
    stopped then, and callbacks pushed on it (a client's ``close``) are run, last first."""
    async with contextlib.AsyncExitStack() as stack:
        yield stack


#: The key lynkr's Anthropic provider sends to the fake upstream in these tests.
UPSTREAM_KEY = "upstream-key"


@pytest.fixture
def anthropic_app() -> Callable[..., Starlette]:
    """``anthropic_app(fake, *plugins, **env)``: an app with only the Anthropic provider
    (sending to ``fake`` with ``UPSTREAM_KEY``, no retries) and ``plugins``, ``(name, plugin)``
    pairs; ``env`` adds or overrides settings."""

    def build(fake: Any, *plugins: tuple[str, Any], **env: str) -> Starlette:
        return make_test_app(
            {"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
             "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY, "LYNKR_UPSTREAM_RETRIES": "0", **env},
            plugins=[("lynkr-provider-anthropic", lynkr_provider_anthropic), *plugins],
            load_entry_points=False,
        )

    return build


@pytest.fixture
def anthropic_client(
    after_test: contextlib.AsyncExitStack, anthropic_app: Callable[..., Starlette]
) -> Callable[..., Awaitable[anthropic.AsyncAnthropic]]:
    """``await anthropic_client(fake, *plugins, headers=..., **env)``: ``fake`` started, the
    ``anthropic_app`` served, and an SDK client of it; all stopped when the test ends."""

    async def start(fake: Any, *plugins: tuple[str, Any], headers: dict[str, str] | None = None,
                    **env: str) -> anthropic.AsyncAnthropic:
        await after_test.enter_async_context(fake)
        url = await after_test.enter_async_context(serving(anthropic_app(fake, *plugins, **env)))
        client = anthropic.AsyncAnthropic(base_url=url, api_key="client-secret", max_retries=0,
                                          default_headers=headers)
        after_test.push_async_callback(client.close)
        return client

    return start


@pytest.fixture(autouse=True)
def private_lynkr_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test's ``lynkr`` subprocesses and ``Settings.load`` get a fresh ``LYNKR_HOME``:
    stateful plugins (the cache, the reflector's playbook) never write to the user's
    ``~/.lynkr``, nor carry an answer or a hint from one test to the next."""
    monkeypatch.setenv("LYNKR_HOME", str(tmp_path_factory.mktemp("lynkr-home")))
