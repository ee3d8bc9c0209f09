"""Settings, with the original project's variable names."""

from __future__ import annotations

import msgspec

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
    timeout_ms: int | None = None


ENV = {
    "endpoint": "AZURE_OPENAI_ENDPOINT",
    "api_key": "AZURE_OPENAI_API_KEY",
    "deployment": "AZURE_OPENAI_DEPLOYMENT",
    "api_version": "AZURE_OPENAI_API_VERSION",
    "max_output_tokens": "AZURE_OPENAI_MAX_OUTPUT_TOKENS",
    "timeout_ms": "AZURE_OPENAI_TIMEOUT_MS",
}
