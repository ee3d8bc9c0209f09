"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-azure-openai"


class AzureOpenAISettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=azure-openai``.

    ``endpoint`` is the resource URL (``https://<resource>.openai.azure.com``),
    or a full chat-completions URL, or the v1 API base (``.../openai/v1``).
    ``max_output_tokens`` defaults to 16384, as in the original project.
    """

    endpoint: str = ""
    api_key: str = ""
    deployment: str = "gpt-4o"
    api_version: str = "2024-10-21"
    max_output_tokens: int | None = 16384
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    timeout_ms: int | None = None
    prompt_cache_key: bool = False


ENV = {
    "endpoint": "AZURE_OPENAI_ENDPOINT",
    "api_key": "AZURE_OPENAI_API_KEY",
    "deployment": "AZURE_OPENAI_DEPLOYMENT",
    "api_version": "AZURE_OPENAI_API_VERSION",
    "max_output_tokens": "AZURE_OPENAI_MAX_OUTPUT_TOKENS",
    "context_window": "AZURE_OPENAI_CONTEXT_WINDOW",
    "model_limits": "AZURE_OPENAI_MODEL_LIMITS",
    "model_reasoning": "AZURE_OPENAI_MODEL_REASONING",
    "think_tags": "AZURE_OPENAI_THINK_TAGS",
    "timeout_ms": "AZURE_OPENAI_TIMEOUT_MS",
    "prompt_cache_key": "AZURE_OPENAI_PROMPT_CACHE_KEY",
}

HELP = {
    "endpoint": "resource URL (https://<resource>.openai.azure.com), a chat-completions URL or .../openai/v1",
    "api_key": "the resource's API key",
    "deployment": "the deployment to call",
    "api_version": "api-version of deployment URLs",
    "max_output_tokens": "cap on max_tokens sent upstream",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "model_reasoning": "per model: model=effort|history|no-effort|no-history (joined by +), comma-separated (glob models)",
    "think_tags": "<think> blocks in content become thinking: auto (at the start), on (anywhere), off",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
    "prompt_cache_key": "send prompt_cache_key, a digest of the client's session id (needs an api-version that takes it)",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})
#: Not asked either: per-model reasoning capabilities and think tags have working defaults.
REASONING = frozenset({"model_reasoning", "think_tags"})
#: Not asked by ``lynkr init``: prompt caching works without them (README, "Prompt caching").
CACHING = frozenset({"prompt_cache_key"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    AzureOpenAISettings, {k: v for k, v in ENV.items() if k not in LIMITS | CACHING | REASONING}, HELP, required={"endpoint", "api_key"}, secret={"api_key"}
)
