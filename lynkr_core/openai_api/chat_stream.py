"""A Messages event stream as Chat Completions chunks (``chat.completion.chunk``).

``ChunkTranslator`` takes the core's events one by one and gives the
``data:`` frames an OpenAI client expects: a first chunk with the role,
``content`` and ``reasoning_content`` deltas as text and thinking arrive, a
tool call's id and name when its block starts and its argument fragments as
they stream, the ``finish_reason``, the usage chunk when the client asked for
it (``stream_options.include_usage``), and ``data: [DONE]``. An ``error``
event becomes a ``data: {"error": ...}`` frame, which the OpenAI SDKs raise.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lynkr_core.openai_api.errors import openai_error_type
from lynkr_core.openai_api.outcome import chat_usage, finish_reason, new_id, now
from lynkr_core.wire.anthropic import Usage
from lynkr_core.wire.events import (
    ContentBlockDelta,
    ContentBlockStart,
    ErrorEvent,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)

DONE_FRAME = b"data: [DONE]\n\n"
_encoder = msgspec.json.Encoder()


def data_frame(payload: Any) -> bytes:
    """One ``data:`` frame of ``payload`` as JSON."""
    return b"data: " + _encoder.encode(payload) + b"\n\n"


class ChunkTranslator:
    """One stream's translation; ``feed(event)`` returns the frames to send for it."""

    def __init__(self, model: str, *, include_usage: bool) -> None:
        self.id = new_id("chatcmpl-")
        self.created = now()
        self.model = model
        self.include_usage = include_usage
        self.usage = Usage()
        #: The tool-call index of each tool_use block, by its block index.
        self._calls: dict[int, int] = {}
        self._started = False
        #: Whether the stream has ended (``[DONE]`` or an error frame sent).
        self.finished = False

    def _chunk(self, delta: dict[str, Any], reason: str | None = None) -> bytes:
        return data_frame({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}],
        })

    def feed(self, event: StreamEvent) -> list[bytes]:
        """The frames for ``event`` (often none)."""
        if isinstance(event, MessageStart):
            return self._start(event)
        if isinstance(event, ContentBlockStart):
            return self._block_start(event)
        if isinstance(event, ContentBlockDelta):
            return self._delta(event)
        if isinstance(event, MessageDelta):
            return self._message_delta(event)
        if isinstance(event, MessageStop):
            return self._stop()
        if isinstance(event, ErrorEvent):
            self.finished = True
            error = event.error
            return [data_frame({"error": {"message": error.message, "type": openai_error_type(error.type),
                                          "param": None, "code": error.type}})]
        return []

    def _start(self, event: MessageStart) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        usage = event.message.usage
        self.usage.input_tokens = usage.input_tokens
        self.usage.cache_read_input_tokens = usage.cache_read_input_tokens
        self.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, event: ContentBlockStart) -> list[bytes]:
        block = msgspec.json.decode(event.content_block)
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            return []
        index = self._calls[event.index] = len(self._calls)
        call = {"index": index, "id": block.get("id") or new_id("call_"), "type": "function",
                "function": {"name": block.get("name", ""), "arguments": ""}}
        return [self._chunk({"tool_calls": [call]})]

    def _delta(self, event: ContentBlockDelta) -> list[bytes]:
        delta = event.delta
        if isinstance(delta, TextDelta):
            return [self._chunk({"content": delta.text})] if delta.text else []
        if isinstance(delta, ThinkingDelta):
            return [self._chunk({"reasoning_content": delta.thinking})] if delta.thinking else []
        if isinstance(delta, InputJsonDelta) and event.index in self._calls and delta.partial_json:
            call = {"index": self._calls[event.index], "function": {"arguments": delta.partial_json}}
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _message_delta(self, event: MessageDelta) -> list[bytes]:
        self.usage.output_tokens = event.usage.output_tokens
        for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            value = getattr(event.usage, name)
            if isinstance(value, int):
                setattr(self.usage, name, value)
        return [self._chunk({}, finish_reason(event.delta.stop_reason))]

    def _stop(self) -> list[bytes]:
        if self.finished:
            return []
        self.finished = True
        frames = []
        if self.include_usage:
            frames.append(data_frame({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": chat_usage(self.usage),
            }))
        frames.append(DONE_FRAME)
        return frames
