"""Settings, with the original project's variable names."""

from __future__ import annotations

import msgspec

from lynkr_core import SettingHelp

PLUGIN_NAME = "lynkr-provider-openrouter"


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
    timeout_ms: int | None = None


ENV = {
    "api_key": "OPENROUTER_API_KEY",
    "model": "OPENROUTER_MODEL",
    "endpoint": "OPENROUTER_ENDPOINT",
    "referer": "OPENROUTER_HTTP_REFERER",
    "title": "OPENROUTER_X_TITLE",
    "max_output_tokens": "OPENROUTER_MAX_OUTPUT_TOKENS",
    "context_window": "OPENROUTER_CONTEXT_WINDOW",
    "model_limits": "OPENROUTER_MODEL_LIMITS",
    "timeout_ms": "OPENROUTER_TIMEOUT_MS",
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
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    OpenRouterSettings, {k: v for k, v in ENV.items() if k not in LIMITS}, HELP, required={"api_key"}, secret={"api_key"}
)
