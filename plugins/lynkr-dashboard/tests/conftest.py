"""A temporary ``LYNKR_HOME``, and lynkr with the Anthropic provider, the sessions plugin and
the dashboard, from their entry points, in front of a scripted upstream."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.server import make_test_app, serving, serving_in_thread

ADMIN_KEY = "admin-key-for-the-dashboard-0123"
CLIENT_KEY = "client-key-for-the-sdk-0123"
UPSTREAM_KEY = "sk-upstream-secret-4242"
PLUGINS = "lynkr-provider-anthropic,lynkr-sessions,lynkr-dashboard"


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``LYNKR_HOME`` in a temporary directory; no plugin lists or dashboard settings from
    the calling environment."""
    env = {"LYNKR_HOME": str(tmp_path / "home")}
    monkeypatch.setenv("LYNKR_HOME", env["LYNKR_HOME"])
    for name in ("LYNKR_PLUGINS", "LYNKR_DISABLE_PLUGINS", "LYNKR_CONFIG", "LYNKR_ENV_FILE",
                 *(n for n in os.environ if n.startswith(("DASHBOARD_", "SESSION_")))):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


def gateway_env(lynkr_env: dict[str, str], fake: FakeAnthropic, **env: str) -> dict[str, str]:
    """The settings of a lynkr in front of ``fake`` with admin and client keys."""
    return {
        **lynkr_env, "LYNKR_PLUGINS": PLUGINS, "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url, "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0", "LYNKR_ADMIN_KEYS": ADMIN_KEY, "LYNKR_API_KEYS": CLIENT_KEY,
        **env,
    }


@pytest.fixture
def gateway_settings() -> Callable[..., dict[str, str]]:
    """``gateway_settings(lynkr_env, fake, **env)``: the settings the gateway fixtures use."""
    return gateway_env


@pytest.fixture
def keys() -> Any:
    """The admin key and the client key the gateway is configured with, and its plugins."""
    from types import SimpleNamespace

    return SimpleNamespace(admin=ADMIN_KEY, client=CLIENT_KEY, plugins=PLUGINS)


@pytest.fixture
def gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``async with gateway(fake, **env) as (app, url):`` lynkr served in the test's loop."""

    @contextlib.asynccontextmanager
    async def serve(fake: FakeAnthropic, **env: str) -> AsyncIterator[tuple[Any, str]]:
        app = make_test_app(gateway_env(lynkr_env, fake, **env))
        async with serving(app) as url:
            yield app, url

    return serve


@pytest.fixture
def threaded_gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``with threaded_gateway(fake) as (app, url):`` lynkr served from a thread (for
    synchronous clients: the browser test)."""

    @contextlib.contextmanager
    def serve(fake: FakeAnthropic, **env: str) -> Iterator[tuple[Any, str]]:
        app = make_test_app(gateway_env(lynkr_env, fake, **env))
        with serving_in_thread(app) as url:
            yield app, url

    return serve
