"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-llamacpp"


class LlamaCppSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=llamacpp``. ``endpoint`` is the server's base URL
    (llama-server listens on 8080 by default, like lynkr: move one of them)."""

    endpoint: str = "http://localhost:8080"
    model: str = "default"
    api_key: str = ""
    timeout_ms: int = 120_000
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    text_tool_calls: bool = True


ENV = {
    "endpoint": "LLAMACPP_ENDPOINT",
    "model": "LLAMACPP_MODEL",
    "api_key": "LLAMACPP_API_KEY",
    "timeout_ms": "LLAMACPP_TIMEOUT_MS",
    "max_output_tokens": "LLAMACPP_MAX_OUTPUT_TOKENS",
    "context_window": "LLAMACPP_CONTEXT_WINDOW",
    "model_limits": "LLAMACPP_MODEL_LIMITS",
    "model_reasoning": "LLAMACPP_MODEL_REASONING",
    "think_tags": "LLAMACPP_THINK_TAGS",
    "text_tool_calls": "LLAMACPP_TEXT_TOOL_CALLS",
}

HELP = {
    "endpoint": "llama-server's base URL",
    "model": "model name sent upstream",
    "api_key": "API key, if llama-server was started with --api-key",
    "timeout_ms": "read timeout in milliseconds",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "model_reasoning": "per model: model=effort|history|no-effort|no-history (joined by +), comma-separated (glob models)",
    "think_tags": "<think> blocks in content become thinking: auto (at the start), on (anywhere), off",
    "text_tool_calls": "turn tool calls the model prints as text into real ones",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})
#: Not asked either: per-model reasoning capabilities and think tags have working defaults.
REASONING = frozenset({"model_reasoning", "think_tags"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    LlamaCppSettings, {k: v for k, v in ENV.items() if k not in LIMITS | REASONING}, HELP, secret={"api_key"}
)
