"""What one chat call is answered with: where it was routed (`_Route`) and the ids,
model and usage of the scripted reply (`_Turn`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lynkr_core.testing.fake_openai.frames import usage_object
from lynkr_core.testing.fake_openai.replies import ChatReply
from lynkr_core.testing.scripted import count_input_tokens, estimate_tokens


def _reply_usage(body: dict[str, Any], reply: ChatReply) -> dict[str, Any]:
    """The scripted usage, or deterministic estimates from the request and the reply."""
    if reply.usage is not None:
        return usage_object(*reply.usage)
    calls = [(call.name, call.arguments()) for call in reply.tool_calls]
    return usage_object(
        count_input_tokens(body), estimate_tokens([reply.content, reply.reasoning, calls])
    )


def _wants_usage(body: dict[str, Any], reply: ChatReply, dialect: str) -> bool:
    """Whether a stream ends with the choices-less usage chunk."""
    if reply.include_usage_chunk is not None:
        return reply.include_usage_chunk
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return True
    usage = body.get("usage")
    return dialect == "openrouter" and isinstance(usage, dict) and usage.get("include") is True


@dataclass
class _Route:
    """Where a request goes: `chat`, `models` or `health`, and the endpoint/deployment named."""

    kind: str
    endpoint: str | None = None
    endpoint_in_body: bool = False
    public: bool = False


@dataclass
class _Turn:
    """Everything a dialect needs to render one scripted reply."""

    reply: ChatReply
    id: str
    created: int
    model: str
    usage: dict[str, Any]
    include_usage: bool
    call_ids: list[str]
