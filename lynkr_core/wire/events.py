"""The Messages API's server-sent events, as msgspec Structs.

A stream is ``message_start``, then for each content block
``content_block_start``, ``content_block_delta``... and ``content_block_stop``,
then ``message_delta`` (stop reason, output usage) and ``message_stop``.
``ping`` may come anywhere, and ``error`` ends a stream that failed after it
had started.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Raw, UnsetType

from lynkr_core.wire.anthropic import MessageResponse


class TextDelta(msgspec.Struct, tag="text_delta", tag_field="type"):
    """More text for a text block."""

    text: str


class InputJsonDelta(msgspec.Struct, tag="input_json_delta", tag_field="type"):
    """A fragment of a tool_use block's JSON input."""

    partial_json: str


class ThinkingDelta(msgspec.Struct, tag="thinking_delta", tag_field="type"):
    """More thinking text."""

    thinking: str


class SignatureDelta(msgspec.Struct, tag="signature_delta", tag_field="type"):
    """The signature of a thinking block, sent just before it stops."""

    signature: str


class CitationsDelta(msgspec.Struct, tag="citations_delta", tag_field="type"):
    """A citation added to a text block."""

    citation: Raw


Delta = TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta | CitationsDelta


class MessageStart(msgspec.Struct, tag="message_start", tag_field="type"):
    """The message, with empty content and input usage."""

    message: MessageResponse


class ContentBlockStart(msgspec.Struct, tag="content_block_start", tag_field="type"):
    """A new content block at ``index``, with its empty shell."""

    index: int
    content_block: Raw


class ContentBlockDelta(msgspec.Struct, tag="content_block_delta", tag_field="type"):
    """More content for the block at ``index``."""

    index: int
    delta: Delta


class ContentBlockStop(msgspec.Struct, tag="content_block_stop", tag_field="type"):
    """The block at ``index`` is complete."""

    index: int


class MessageDeltaBody(msgspec.Struct, kw_only=True):
    """Top-level changes to the message: why it stopped."""

    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: Raw | UnsetType = UNSET
    container: Raw | UnsetType = UNSET


class MessageDeltaUsage(msgspec.Struct, kw_only=True):
    """Cumulative usage as of the end of the stream."""

    output_tokens: int = 0
    input_tokens: int | UnsetType | None = UNSET
    cache_creation_input_tokens: int | UnsetType | None = UNSET
    cache_read_input_tokens: int | UnsetType | None = UNSET
    server_tool_use: Raw | UnsetType = UNSET
    output_tokens_details: Raw | UnsetType = UNSET


class MessageDelta(msgspec.Struct, tag="message_delta", tag_field="type"):
    """The stop reason and final output usage."""

    delta: MessageDeltaBody
    usage: MessageDeltaUsage = msgspec.field(default_factory=MessageDeltaUsage)


class MessageStop(msgspec.Struct, tag="message_stop", tag_field="type"):
    """The end of the stream."""


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    """A keep-alive."""


class ErrorDetail(msgspec.Struct):
    """What went wrong: an Anthropic error type and a message."""

    type: str
    message: str


class ErrorEvent(msgspec.Struct, tag="error", tag_field="type"):
    """A stream that had started has failed."""

    error: ErrorDetail


StreamEvent = (
    MessageStart
    | ContentBlockStart
    | ContentBlockDelta
    | ContentBlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | ErrorEvent
)

KNOWN_EVENT_TYPES = frozenset(
    cls.__struct_config__.tag for cls in StreamEvent.__args__  # type: ignore[attr-defined]
)

_event_decoder = msgspec.json.Decoder(StreamEvent)
_encoder = msgspec.json.Encoder()


def decode_event(data: bytes | str) -> StreamEvent:
    """Decode the ``data:`` of one Messages stream event.

    Raises ``msgspec.ValidationError`` for an unknown event type; callers that
    must tolerate new event types check ``KNOWN_EVENT_TYPES`` first.
    """
    return _event_decoder.decode(data)


def event_frame(event: StreamEvent) -> bytes:
    """One event as an SSE frame: ``event: <type>\\ndata: <json>\\n\\n``."""
    name = event.__struct_config__.tag
    return b"event: " + name.encode() + b"\ndata: " + _encoder.encode(event) + b"\n\n"


def error_frame(error_type: str, message: str) -> bytes:
    """An ``error`` event frame, to end a stream that failed after it started."""
    return event_frame(ErrorEvent(error=ErrorDetail(type=error_type, message=message)))


def to_builtins(event: StreamEvent) -> dict[str, Any]:
    """An event as plain JSON data (for tests and logs)."""
    return msgspec.json.decode(_encoder.encode(event))
