"""Settings, with the original project's variable names."""

from __future__ import annotations

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
    text_tool_calls: bool = False
    timeout_ms: int | None = None


ENV = {
    "api_key": "OPENAI_API_KEY",
    "model": "OPENAI_MODEL",
    "endpoint": "OPENAI_ENDPOINT",
    "organization": "OPENAI_ORGANIZATION",
    "max_output_tokens": "OPENAI_MAX_OUTPUT_TOKENS",
    "context_window": "OPENAI_CONTEXT_WINDOW",
    "model_limits": "OPENAI_MODEL_LIMITS",
    "text_tool_calls": "OPENAI_TEXT_TOOL_CALLS",
    "timeout_ms": "OPENAI_TIMEOUT_MS",
}

HELP = {
    "api_key": "API key (required by api.openai.com; other servers may take none)",
    "model": "model to use",
    "endpoint": "chat-completions URL of OpenAI or any compatible server",
    "organization": "OpenAI organization id sent as OpenAI-Organization (empty: none)",
    "max_output_tokens": "cap on max_tokens sent upstream (empty: the client's)",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "text_tool_calls": "turn tool calls the model prints as text into real ones",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    OpenAISettings, {k: v for k, v in ENV.items() if k not in LIMITS}, HELP, required={"api_key"}, secret={"api_key"}
)
