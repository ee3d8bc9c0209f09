"""Settings, with the original project's variable names."""

from __future__ import annotations

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
    timeout_ms: int | None = None


ENV = {
    "endpoint": "AZURE_OPENAI_ENDPOINT",
    "api_key": "AZURE_OPENAI_API_KEY",
    "deployment": "AZURE_OPENAI_DEPLOYMENT",
    "api_version": "AZURE_OPENAI_API_VERSION",
    "max_output_tokens": "AZURE_OPENAI_MAX_OUTPUT_TOKENS",
    "context_window": "AZURE_OPENAI_CONTEXT_WINDOW",
    "model_limits": "AZURE_OPENAI_MODEL_LIMITS",
    "timeout_ms": "AZURE_OPENAI_TIMEOUT_MS",
}

HELP = {
    "endpoint": "resource URL (https://<resource>.openai.azure.com), a chat-completions URL or .../openai/v1",
    "api_key": "the resource's API key",
    "deployment": "the deployment to call",
    "api_version": "api-version of deployment URLs",
    "max_output_tokens": "cap on max_tokens sent upstream",
    "context_window": "model's context window in tokens (empty: the model family's known window)",
    "model_limits": "per model: model=context_window[/max_output_tokens], comma-separated (glob models)",
    "timeout_ms": "read timeout in milliseconds (empty: LYNKR_UPSTREAM_TIMEOUT_SECONDS)",
}

#: Not asked by ``lynkr init``: for models the limit tables do not know.
LIMITS = frozenset({"context_window", "model_limits"})

#: What ``lynkr init`` asks for, with this module's defaults.
SETTINGS_HELP: list[SettingHelp] = SettingHelp.from_struct(
    AzureOpenAISettings, {k: v for k, v in ENV.items() if k not in LIMITS}, HELP, required={"endpoint", "api_key"}, secret={"api_key"}
)
