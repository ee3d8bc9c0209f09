"""Settings, with the original project's variable names."""

from __future__ import annotations

from typing import Literal

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-openai"


class OpenAISettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=openai``.

    ``endpoint`` is the full chat-completions URL, so any compatible server
    works: OpenAI, vLLM, LM Studio, Together, a LiteLLM proxy...
    ``text_tool_calls`` turns tool calls a model prints as text into real
    ones (for local servers that run without a tool-call parser).
    """

    api_key: str = ""
    model: str = "gpt-4o"
    endpoint: str = "https://api.openai.com/v1/chat/completions"
    organization: str = ""
    max_output_tokens: int | None = None
    context_window: int | None = None
    model_limits: list[str] = []
    model_reasoning: list[str] = []
    think_tags: Literal["auto", "on", "off"] = "auto"
    text_tool_calls: bool = False
    timeout_ms: int | None = None
    #: ``None``: only toward api.openai.com (another server may refuse an unknown field).
    prompt_cache_key: bool | None = None
    cache_control_models: list[str] = []


ENV = {
    "api_key": "OPENAI_API_KEY",
    "model": "OPENAI_MODEL",
    "endpoint": "OPENAI_ENDPOINT",
    "organization": "OPENAI_ORGANIZATION",
    "max_output_tokens": "OPENAI_MAX_OUTPUT_TOKENS",
    "context_window": "OPENAI_CONTEXT_WINDOW",
    "model_limits": "OPENAI_MODEL_LIMITS",
    "model_reasoning": "OPENAI_MODEL_REASONING",
    "think_tags": "OPENAI_THINK_TAGS",
    "text_tool_calls": "OPENAI_TEXT_TOOL_CALLS",
    "timeout_ms": "OPENAI_TIMEOUT_MS",
    "prompt_cache_key": "OPENAI_PROMPT_CACHE_KEY",
    "cache_control_models": "OPENAI_CACHE_CONTROL_MODELS",
}

HELP = {
    "api_key": "API key (required by api.openai.com; other servers may take none)",
    "model": "model to use",
    "endpoint": "chat-completions URL of OpenAI or any compatible server",
    "organization": "OpenAI organization id sent as OpenAI-Organization (empty: none)",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "model_reasoning": "per model: model=effort|history|no-effort|no-history (joined by +), comma-separated (glob models)",
    "think_tags": "<think> blocks in content become thinking: auto (at the start), on (anywhere), off",
    "text_tool_calls": "turn tool calls the model prints as text into real ones",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
    "prompt_cache_key": "send prompt_cache_key, a digest of the client's session id (OpenAI's cache routing; empty: only to api.openai.com)",
    "cache_control_models": "models that take cache_control breakpoints on content parts, comma-separated globs",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})
#: Not asked either: per-model reasoning capabilities and think tags have working defaults.
REASONING = frozenset({"model_reasoning", "think_tags"})
#: Not asked by ``lynkr init``: prompt caching works without them (README, "Prompt caching").
CACHING = frozenset({"prompt_cache_key", "cache_control_models"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    OpenAISettings, {k: v for k, v in ENV.items() if k not in LIMITS | CACHING | REASONING}, HELP, required={"api_key"}, secret={"api_key"}
)
