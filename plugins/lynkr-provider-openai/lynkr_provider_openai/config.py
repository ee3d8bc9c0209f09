"""Settings, with the original project's variable names."""

from __future__ import annotations

import msgspec

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
    text_tool_calls: bool = False
    timeout_ms: int | None = None


ENV = {
    "api_key": "OPENAI_API_KEY",
    "model": "OPENAI_MODEL",
    "endpoint": "OPENAI_ENDPOINT",
    "organization": "OPENAI_ORGANIZATION",
    "max_output_tokens": "OPENAI_MAX_OUTPUT_TOKENS",
    "text_tool_calls": "OPENAI_TEXT_TOOL_CALLS",
    "timeout_ms": "OPENAI_TIMEOUT_MS",
}
