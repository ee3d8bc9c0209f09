"""A temporary ``LYNKR_HOME``, the gateway with the sessions plugin in front of a scripted
upstream, a started store fed by hand, and the installed ``lynkr`` command."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anthropic as anthropic_sdk
import pytest
import structlog
from lynkr_sessions.config import load_settings
from lynkr_sessions.store import SqliteSessionStore

from lynkr_core import Exchange, ModelClient, RequestContext, Services, Settings, anthropic
from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.server import make_test_app, serving

UPSTREAM_KEY = "sk-upstream-secret-4242"


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``LYNKR_HOME`` in a temporary directory, for the settings a test builds and for the
    process (``lynkr`` reads ``os.environ``; the working directory is moved so that no
    ``.env`` or ``lynkr.toml`` is found)."""
    env = {"LYNKR_HOME": str(tmp_path / "home")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("LYNKR_PLUGINS", "LYNKR_DISABLE_PLUGINS", "LYNKR_CONFIG", "LYNKR_ENV_FILE",
                 *(n for n in os.environ if n.startswith("SESSION_"))):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def gateway(lynkr_env: dict[str, str]) -> Callable[..., Any]:
    """``async with gateway(fake, plugins=[...], **env) as (app, url):`` lynkr with only the
    Anthropic provider and the sessions plugin, from their entry points (and ``plugins``
    given in code), in front of ``fake``; the server stops (and the store is written and
    closed) on the way out."""

    @contextlib.asynccontextmanager
    async def serve(fake: FakeAnthropic, plugins: list[tuple[str, Any]] = (),  # type: ignore[assignment]
                    **env: str) -> AsyncIterator[tuple[Any, str]]:
        app = make_test_app({
            **lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-sessions",
            "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY, "LYNKR_UPSTREAM_RETRIES": "0", **env,
        }, plugins=list(plugins), load_entry_points=True)
        async with serving(app) as url:
            yield app, url

    return serve


def sdk(url: str, api_key: str = "k") -> anthropic_sdk.AsyncAnthropic:
    return anthropic_sdk.AsyncAnthropic(base_url=url, api_key=api_key, max_retries=0)


async def ask(client: anthropic_sdk.AsyncAnthropic, session_id: str, text: str, *, stream: bool = False,
              model: str = "claude-sonnet-4-6") -> Any:
    """One turn with Claude Code's session header, as JSON or streamed."""
    fields: dict[str, Any] = {"model": model, "max_tokens": 64,
                              "messages": [{"role": "user", "content": text}],
                              "extra_headers": {"x-claude-code-session-id": session_id}}
    if not stream:
        return await client.messages.create(**fields)
    async with client.messages.stream(**fields) as events:
        return await events.get_final_message()


def make_exchange(settings: Settings, session_id: str | None, text: str, *, answer: str = "ok") -> Exchange:
    """An ``Exchange`` as the core builds it: the request, one step with one attempt and
    its answer, the message the client got."""
    request = anthropic.decode_request(json.dumps({
        "model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": text}],
    }).encode())
    context = RequestContext(request_id=f"req_{session_id}_{len(text)}_{id(request)}", http=None,  # type: ignore[arg-type]
                             settings=settings, log=structlog.get_logger("test"), session_id=session_id)
    step = context.begin_step(request)
    context.begin_attempt("anthropic", "claude-sonnet-4-6").succeeded()
    response = anthropic.decode_response(json.dumps({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 2},
    }).encode())
    step.response = response
    step.finish()
    return Exchange(request=request, client_request=request, context=context, streamed=False,
                    response=response, duration=0.5)


class Clock:
    """A wall clock a test moves."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store_factory(lynkr_env: dict[str, str]) -> AsyncIterator[Callable[..., Any]]:
    """``await store_factory(clock, **env)``: a started store over the temporary home; closed
    when the test ends. Returns ``(store, settings)``."""
    started: list[SqliteSessionStore] = []

    async def make(clock: Callable[[], float] | None = None, **env: str) -> tuple[SqliteSessionStore, Settings]:
        settings = Settings({**lynkr_env, **env})
        store = SqliteSessionStore(load_settings(settings), settings.secrets(), clock=clock or Clock())
        await store.start(Services(settings=settings, http=None, model=ModelClient(None)))  # type: ignore[arg-type]
        started.append(store)
        return store, settings

    yield make
    for store in started:
        await store.close()


@pytest.fixture
def helpers() -> Any:
    """The helpers tests cannot import from this module."""
    from types import SimpleNamespace

    return SimpleNamespace(sdk=sdk, ask=ask, exchange=make_exchange, Clock=Clock, upstream_key=UPSTREAM_KEY)
