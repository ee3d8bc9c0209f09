"""A temporary ``LYNKR_HOME``, lynkr with the usage plugin in front of a scripted Anthropic
upstream (two client keys and an admin key), and the installed ``lynkr`` command."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import pytest

from lynkr_core import api_key_id
from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.server import make_test_app, serving

ALICE = "alice-key-0123456789"
BOB = "bob-key-9876543210"
ADMIN = "admin-key-0123456789"
KEYS = {"alice": ALICE, "bob": BOB}
IDS = {name: api_key_id(key) for name, key in KEYS.items()}


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``LYNKR_HOME`` and the keys, for the app a test builds and for the process (``lynkr
    usage`` reads ``os.environ``); no ``.env`` or ``lynkr.toml`` is found."""
    env = {"LYNKR_HOME": str(tmp_path / "home"), "LYNKR_API_KEYS": f"{ALICE},{BOB}", "LYNKR_ADMIN_KEYS": ADMIN,
           "USAGE_FLUSH_SECONDS": "0.05"}
    for name in ("LYNKR_PLUGINS", "LYNKR_DISABLE_PLUGINS", "LYNKR_CONFIG", "LYNKR_ENV_FILE",
                 *(n for n in os.environ if n.startswith(("USAGE_", "RATE_LIMIT_", "BUDGET_")))):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``async with gateway(fake, **env) as url:`` lynkr with the Anthropic provider and
    lynkr-usage in front of ``fake`` (started here); stopped, and the ledger written, on
    the way out."""

    @contextlib.asynccontextmanager
    async def serve(fake: FakeAnthropic, *plugins: tuple[str, Any], **env: str) -> AsyncIterator[str]:
        async with fake:
            app = make_test_app({
                **lynkr_env, "LYNKR_PLUGINS": ",".join(["lynkr-provider-anthropic", "lynkr-usage",
                                                        *(name for name, _ in plugins)]),
                "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
                "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream-secret", "LYNKR_UPSTREAM_RETRIES": "0", **env,
            }, plugins=list(plugins), load_entry_points=True)
            async with serving(app) as url:
                yield url

    return serve


def sdk(url: str, key: str = ALICE) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0)


async def ask(client: anthropic.AsyncAnthropic, *, model: str = "claude-sonnet-4-6", session: str | None = None,
              stream: bool = False) -> Any:
    fields: dict[str, Any] = {"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    if session:
        fields["extra_headers"] = {"x-claude-code-session-id": session}
    if not stream:
        return await client.messages.create(**fields)
    async with client.messages.stream(**fields) as events:
        return await events.get_final_message()


async def usage(url: str, **params: str) -> dict[str, Any]:
    """``GET /v1/usage`` with the admin key."""
    async with aiohttp.ClientSession() as http, http.get(
            url + "/v1/usage", params=params, headers={"x-api-key": ADMIN}) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def recorded(url: str, requests: int) -> dict[str, Any]:
    """The report once ``requests`` exchanges are in the ledger (it is written off the
    request path)."""
    for _ in range(300):
        report = await usage(url)
        if report["total"]["requests"] >= requests:
            return report
        await asyncio.sleep(0.02)
    raise AssertionError(f"the ledger has {report['total']['requests']} requests, not {requests}")


@pytest.fixture
def helpers() -> Any:
    """What tests cannot import from this module."""
    from types import SimpleNamespace

    return SimpleNamespace(sdk=sdk, ask=ask, usage=usage, recorded=recorded, ALICE=ALICE, BOB=BOB,
                           ADMIN=ADMIN, IDS=IDS)
