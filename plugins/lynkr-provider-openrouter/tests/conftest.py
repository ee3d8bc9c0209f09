"""Fixtures: a fake OpenRouter upstream, lynkr in front of it, the anthropic SDK as client;
and the provider's profile for the conformance suite (``test_conformance.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from lynkr_core.testing.conformance import MissingSetting, ProviderProfile
from lynkr_core.testing.fake_openai import FakeOpenAI
from lynkr_core.testing.gateway import CLIENT_KEY, Harness, quick_retries
from lynkr_core.testing.gateway import claude_code_turns as claude_code_turns  # a fixture
from lynkr_core.testing.gateway import parse_sse as parse_sse  # a fixture
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.upstream_scripts import OpenAIScripting

UPSTREAM_KEY = "sk-or-v1-operator-key"
MODEL = "openai/gpt-4o"


def openrouter_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr's settings for ``MODEL_PROVIDER=openrouter`` against ``base_url``."""
    return {
        "MODEL_PROVIDER": "openrouter",
        "OPENROUTER_ENDPOINT": f"{base_url}/api/v1/chat/completions",
        "OPENROUTER_API_KEY": UPSTREAM_KEY,
        "OPENROUTER_MODEL": MODEL,
        "LYNKR_API_KEYS": CLIENT_KEY,
        **quick_retries(),
        **extra,
    }


def assert_valid_openrouter_request(body: dict[str, Any]) -> None:
    """A request the openai SDK accepts, apart from OpenRouter's own top-level "reasoning"
    and the ``cache_control`` breakpoints it takes on content parts."""
    assert_valid_chat_request(without_openrouter_keys(body))


def without_openrouter_keys(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without OpenRouter's ``reasoning`` and content parts' ``cache_control``."""
    messages = [
        {**m, "content": [{k: v for k, v in p.items() if k != "cache_control"} for p in m["content"]]}
        if isinstance(m.get("content"), list) else m
        for m in body["messages"]
    ]
    return {**{k: v for k, v in body.items() if k != "reasoning"}, "messages": messages}


HARNESS = Harness(
    openrouter_env,
    upstream_key=UPSTREAM_KEY,
    model=MODEL,
    check_request=assert_valid_openrouter_request,
)


def fake_openrouter(script: Sequence[Any] = ()) -> FakeOpenAI:
    """A fake OpenRouter that takes only ``UPSTREAM_KEY``."""
    return FakeOpenAI(list(script), dialect="openrouter", api_key=UPSTREAM_KEY)


PROFILE = ProviderProfile(
    harness=HARNESS,
    fake=fake_openrouter,
    scripting=OpenAIScripting(),
    missing_settings=[
        MissingSetting.unset("OPENROUTER_API_KEY"),
        MissingSetting.unset("OPENROUTER_MODEL"),
    ],
)


@pytest.fixture
def provider_profile() -> ProviderProfile:
    """OpenRouter, as the conformance suite drives it."""
    return PROFILE


@pytest.fixture
def gateway():
    """``async with gateway(script, **env) as gw``: fake OpenRouter + lynkr + SDK client
    (a `lynkr_core.testing.gateway.Gateway`); every body sent upstream is then checked."""

    def run(script: Sequence[Any] = (), **env: str):
        return HARNESS.run(fake_openrouter(script), **env)

    return run
