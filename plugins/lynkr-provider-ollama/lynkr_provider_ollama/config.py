"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-ollama"


class OllamaSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=ollama``.

    ``num_ctx`` sets the context window Ollama allocates (its default is
    small for Claude Code's ~20k-token prompts); ``keep_alive`` how long the
    model stays loaded.
    """

    endpoint: str = "http://localhost:11434"
    model: str = "qwen2.5-coder:7b"
    timeout_ms: int = 120_000
    keep_alive: str = ""
    num_ctx: int | None = None
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    text_tool_calls: bool = True


ENV = {
    "endpoint": "OLLAMA_ENDPOINT",
    "model": "OLLAMA_MODEL",
    "timeout_ms": "OLLAMA_TIMEOUT_MS",
    "keep_alive": "OLLAMA_KEEP_ALIVE",
    "num_ctx": "OLLAMA_NUM_CTX",
    "max_output_tokens": "OLLAMA_MAX_OUTPUT_TOKENS",
    "context_window": "OLLAMA_CONTEXT_WINDOW",
    "model_limits": "OLLAMA_MODEL_LIMITS",
    "model_reasoning": "OLLAMA_MODEL_REASONING",
    "think_tags": "OLLAMA_THINK_TAGS",
    "text_tool_calls": "OLLAMA_TEXT_TOOL_CALLS",
}

HELP = {
    "endpoint": "Ollama's base URL",
    "model": "model to use (pulled with: ollama pull <model>)",
    "timeout_ms": "read timeout in milliseconds",
    "keep_alive": "how long Ollama keeps the model loaded (e.g. 30m; empty: Ollama's default)",
    "num_ctx": "context window Ollama allocates, in tokens (empty: Ollama's default)",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: OLLAMA_NUM_CTX, else the model family's known window)",
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
    OllamaSettings, {k: v for k, v in ENV.items() if k not in LIMITS | REASONING}, HELP
)
