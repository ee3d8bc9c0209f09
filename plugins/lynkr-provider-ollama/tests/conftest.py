"""Fixtures: a fake Ollama, lynkr in front of it, the anthropic SDK as client; and the
provider's profile for the conformance suite (``test_conformance.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from lynkr_core.testing.conformance import MissingSetting, ProviderProfile
from lynkr_core.testing.fake_ollama import FakeOllama
from lynkr_core.testing.gateway import CLIENT_KEY, Harness, quick_retries
from lynkr_core.testing.gateway import claude_code_turns as claude_code_turns  # a fixture
from lynkr_core.testing.gateway import parse_sse as parse_sse  # a fixture
from lynkr_core.testing.upstream_scripts import OllamaScripting

MODEL = "qwen2.5-coder:7b"


def ollama_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr's settings for ``MODEL_PROVIDER=ollama`` against ``base_url``."""
    return {
        "MODEL_PROVIDER": "ollama",
        "OLLAMA_ENDPOINT": base_url,
        "OLLAMA_MODEL": MODEL,
        "LYNKR_API_KEYS": CLIENT_KEY,
        **quick_retries(),
        **extra,
    }


HARNESS = Harness(ollama_env, model=MODEL)

PROFILE = ProviderProfile(
    harness=HARNESS,
    fake=FakeOllama,
    scripting=OllamaScripting(),
    missing_settings=[
        MissingSetting.unset("OLLAMA_ENDPOINT"),
        MissingSetting.unset("OLLAMA_MODEL"),
    ],
    # a busy Ollama answers a bare 429: the suite checks that none reaches the client instead
    exempt={"retry_after": "Ollama never sends Retry-After, so FakeOllama cannot either"},
)


@pytest.fixture
def provider_profile() -> ProviderProfile:
    """Ollama, as the conformance suite drives it."""
    return PROFILE


@pytest.fixture
def gateway():
    """``async with gateway(script, models=..., thinking_models=..., **env) as gw``: a fake
    Ollama (with those models pulled) + lynkr + SDK client (a
    `lynkr_core.testing.gateway.Gateway`). ``{base}`` in an ``env`` value stands for the
    fake's base URL."""

    def run(
        script: Sequence[Any] = (),
        *,
        models: Sequence[str] = (MODEL,),
        thinking_models: Sequence[str] | None = None,
        tool_models: Sequence[str] | None = None,
        **env: str,
    ):
        fake = FakeOllama(
            list(script), models=models, thinking_models=thinking_models, tool_models=tool_models
        )
        return HARNESS.run(fake, **env)

    return run
