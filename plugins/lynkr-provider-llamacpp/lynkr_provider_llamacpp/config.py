"""Settings, with the original project's variable names."""

from __future__ import annotations

import msgspec

PLUGIN_NAME = "lynkr-provider-llamacpp"


class LlamaCppSettings(msgspec.Struct, kw_only=True):
    """``MODEL_PROVIDER=llamacpp``. ``endpoint`` is the server's base URL
    (llama-server listens on 8080 by default, like lynkr: move one of them)."""

    endpoint: str = "http://localhost:8080"
    model: str = "default"
    api_key: str = ""
    timeout_ms: int = 120_000
    max_output_tokens: int | None = None
    text_tool_calls: bool = True


ENV = {
    "endpoint": "LLAMACPP_ENDPOINT",
    "model": "LLAMACPP_MODEL",
    "api_key": "LLAMACPP_API_KEY",
    "timeout_ms": "LLAMACPP_TIMEOUT_MS",
    "max_output_tokens": "LLAMACPP_MAX_OUTPUT_TOKENS",
    "text_tool_calls": "LLAMACPP_TEXT_TOOL_CALLS",
}
