"""Rebuild the complete message from a Messages API event stream.

Used where a streamed answer must be seen whole: the ``lynkr_exchange_finished``
hook, and tests that compare a streamed answer with the non-streamed one.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lynkr_core.wire.anthropic import MessageResponse, raw
from lynkr_core.wire.events import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    ErrorEvent,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)

_decode = msgspec.json.decode


class MessageAccumulator:
    """Feed stream events in order; ``message()`` gives the message they add up to."""

    def __init__(self) -> None:
        self._message: MessageResponse | None = None
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json_parts: dict[int, list[str]] = {}
        self.error: ErrorEvent | None = None
        self.malformed_inputs: list[int] = []
        self.stopped = False

    def add(self, event: StreamEvent) -> None:
        """Take one event into account."""
        if isinstance(event, MessageStart):
            self._message = event.message
        elif isinstance(event, ContentBlockStart):
            self._blocks[event.index] = _decode(event.content_block)
        elif isinstance(event, ContentBlockDelta):
            self._add_delta(event)
        elif isinstance(event, ContentBlockStop):
            self._finish_block(event.index)
        elif isinstance(event, MessageDelta):
            self._add_message_delta(event)
        elif isinstance(event, ErrorEvent):
            self.error = event
        elif event.__struct_config__.tag == "message_stop":
            self.stopped = True

    def _add_delta(self, event: ContentBlockDelta) -> None:
        block = self._blocks.setdefault(event.index, {})
        delta = event.delta
        if isinstance(delta, TextDelta):
            block["text"] = block.get("text", "") + delta.text
        elif isinstance(delta, InputJsonDelta):
            self._json_parts.setdefault(event.index, []).append(delta.partial_json)
        elif isinstance(delta, ThinkingDelta):
            block["thinking"] = block.get("thinking", "") + delta.thinking
        elif isinstance(delta, SignatureDelta):
            block["signature"] = delta.signature
        elif isinstance(delta, CitationsDelta):
            block.setdefault("citations", []).append(_decode(delta.citation))

    def _finish_block(self, index: int) -> None:
        parts = self._json_parts.pop(index, None)
        if parts is not None:
            text = "".join(parts)
            try:
                self._blocks[index]["input"] = _decode(text) if text.strip() else {}
            except msgspec.DecodeError:
                self._blocks[index]["input"] = {}
                self.malformed_inputs.append(index)

    def _add_message_delta(self, event: MessageDelta) -> None:
        if self._message is None:
            return
        self._message.stop_reason = event.delta.stop_reason
        self._message.stop_sequence = event.delta.stop_sequence
        usage = self._message.usage
        usage.output_tokens = event.usage.output_tokens
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            value = getattr(event.usage, name)
            if isinstance(value, int):
                setattr(usage, name, value)
        for name in ("server_tool_use", "output_tokens_details"):
            value = getattr(event.usage, name)
            if value is not msgspec.UNSET:
                setattr(usage, name, value)
        for name in ("stop_details", "container"):
            value = getattr(event.delta, name)
            if value is not msgspec.UNSET:
                setattr(self._message, name, value)

    def message(self) -> MessageResponse | None:
        """The message so far (``None`` before ``message_start``)."""
        if self._message is None:
            return None
        for index in list(self._json_parts):
            self._finish_block(index)
        content = [raw(self._blocks[i]) for i in sorted(self._blocks)]
        return msgspec.structs.replace(
            self._message, content=content, usage=msgspec.structs.replace(self._message.usage)
        )
