"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-openrouter"
#: OpenRouter's models that cache only at ``cache_control`` breakpoints: Claude, and
#: Gemini (which also caches by itself).
CACHE_CONTROL_MODELS = ("anthropic/*", "google/gemini-*")


class OpenRouterSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=openrouter``. ``referer`` and ``title`` are OpenRouter's
    app attribution headers (``HTTP-Referer``, ``X-Title``)."""

    api_key: str = ""
    model: str = "openai/gpt-4o-mini"
    endpoint: str = "https://openrouter.ai/api/v1/chat/completions"
    referer: str = "https://github.com/lynkr-gateway/lynkr"
    title: str = "lynkr"
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    timeout_ms: int | None = None
    cache_control_models: list[str] = msgspec.field(default_factory=lambda: list(CACHE_CONTROL_MODELS))


ENV = {
    "api_key": "OPENROUTER_API_KEY",
    "model": "OPENROUTER_MODEL",
    "endpoint": "OPENROUTER_ENDPOINT",
    "referer": "OPENROUTER_HTTP_REFERER",
    "title": "OPENROUTER_X_TITLE",
    "max_output_tokens": "OPENROUTER_MAX_OUTPUT_TOKENS",
    "context_window": "OPENROUTER_CONTEXT_WINDOW",
    "model_limits": "OPENROUTER_MODEL_LIMITS",
    "model_reasoning": "OPENROUTER_MODEL_REASONING",
    "think_tags": "OPENROUTER_THINK_TAGS",
    "timeout_ms": "OPENROUTER_TIMEOUT_MS",
    "cache_control_models": "OPENROUTER_CACHE_CONTROL_MODELS",
}

HELP = {
    "api_key": "OpenRouter API key",
    "model": "model to use, as OpenRouter names it",
    "endpoint": "chat-completions URL",
    "referer": "HTTP-Referer attribution header (empty: none)",
    "title": "X-Title attribution header (empty: none)",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "model_reasoning": "per model: model=effort|history|no-effort|no-history (joined by +), comma-separated (glob models)",
    "think_tags": "<think> blocks in content become thinking: auto (at the start), on (anywhere), off",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
    "cache_control_models": "models that get the client's cache_control breakpoints, comma-separated globs",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})
#: Not asked either: per-model reasoning capabilities and think tags have working defaults.
REASONING = frozenset({"model_reasoning", "think_tags"})
#: Not asked by ``lynkr init``: prompt caching works without them (README, "Prompt caching").
CACHING = frozenset({"cache_control_models"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    OpenRouterSettings, {k: v for k, v in ENV.items() if k not in LIMITS | CACHING | REASONING}, HELP, required={"api_key"}, secret={"api_key"}
)
