"""Fixtures: a fake llama-server, lynkr in front of it, the anthropic SDK as client; and the
provider's profile for the conformance suite (``test_conformance.py``)."""

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


def llamacpp_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr's settings for ``MODEL_PROVIDER=llamacpp`` against ``base_url``."""
    return {
        "MODEL_PROVIDER": "llamacpp",
        "LLAMACPP_ENDPOINT": base_url,
        "LYNKR_API_KEYS": CLIENT_KEY,
        **quick_retries(),
        **extra,
    }


# every body sent upstream is a request the openai SDK accepts
HARNESS = Harness(llamacpp_env, check_request=assert_valid_chat_request)

PROFILE = ProviderProfile(
    harness=HARNESS,
    fake=lambda script: FakeOpenAI(script, dialect="llamacpp"),
    scripting=OpenAIScripting(),
    missing_settings=[
        MissingSetting.unset("LLAMACPP_ENDPOINT"),
        MissingSetting.unset("LLAMACPP_MODEL"),
    ],
)


@pytest.fixture
def provider_profile() -> ProviderProfile:
    """llama.cpp, as the conformance suite drives it."""
    return PROFILE


@pytest.fixture
def gateway():
    """``async with gateway(script, key=..., loading=..., **env) as gw``: fake llama-server
    (requiring ``key`` when given) + lynkr (``LLAMACPP_API_KEY=key``) + SDK client (a
    `lynkr_core.testing.gateway.Gateway`). ``{base}`` in an ``env`` value stands for the
    fake's base URL."""

    def run(
        script: Sequence[Any] = (), *, key: str | None = None, loading: bool = False, **env: str
    ):
        fake = FakeOpenAI(list(script), dialect="llamacpp", api_key=key, loading=loading)
        if key is not None:
            env = {"LLAMACPP_API_KEY": key, **env}
        return HARNESS.run(fake, **env)

    return run
