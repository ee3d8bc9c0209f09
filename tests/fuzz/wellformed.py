"""What a client may rely on in lynkr's answers: checks shared by the fuzz targets.

``check_stream`` reads the bytes of a Messages API stream as a client would and
fails unless they are a well-formed event sequence: ``message_start``; content
blocks started at indexes 0, 1, 2... one at a time, each receiving only deltas
of its own kind and stopped; then ``message_delta`` and ``message_stop`` -- or,
at any point after ``message_start``, an ``error`` event that ends the stream.
Every tool_use block's ``input_json_delta`` fragments must add up to a JSON
object, except in an answer cut at ``max_tokens`` (Anthropic closes a call
cut there with the fragments it had; a valid JSON prefix), and tool_use ids must be
unique, as Anthropic's own answers are.

``check_message`` does the same for a complete (non-streaming) message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from lynkr_core.wire import anthropic, events
from lynkr_core.wire.sse import SSEParser

STOP_REASONS = {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"}
#: The deltas each kind of block may receive.
DELTAS = {
    "text": (events.TextDelta, events.CitationsDelta),
    "thinking": (events.ThinkingDelta, events.SignatureDelta),
    "tool_use": (events.InputJsonDelta,),
}


@dataclass
class StreamSummary:
    """What a stream said: its blocks (as the client rebuilt them), how it ended."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    error: events.ErrorDetail | None = None


def check_stream(body: bytes) -> StreamSummary:
    """The summary of a well-formed stream; ``AssertionError`` saying what is wrong otherwise."""
    parser = SSEParser()
    frames = parser.feed(body)
    assert parser.pending == b"", f"the stream ends inside a frame: {parser.pending[:200]!r}"
    parsed = []
    for frame in frames:
        event = events.decode_event(frame.data)
        assert frame.event == event.__struct_config__.tag, (frame.event, frame.data)
        parsed.append(event)
    assert parsed, "an empty stream"
    assert isinstance(parsed[0], events.MessageStart), parsed[0]
    return _Reader().read(parsed[1:])


class _Reader:
    """A state machine over the events after ``message_start``."""

    def __init__(self) -> None:
        self.summary = StreamSummary()
        self.open: dict[str, Any] | None = None
        self.json_parts: list[str] = []
        self.delta_seen = False
        #: The index of a tool_use block whose input is a cut JSON prefix.
        self.cut: int | None = None

    def read(self, rest: list[events.StreamEvent]) -> StreamSummary:
        for position, event in enumerate(rest):
            if isinstance(event, events.ErrorEvent):
                assert position == len(rest) - 1, "events after an error event"
                self.summary.error = event.error
                return self.summary
            if isinstance(event, events.MessageStop):
                assert position == len(rest) - 1, "events after message_stop"
                assert self.delta_seen, "message_stop without message_delta"
                return self.summary
            assert not self.delta_seen, f"{event} after message_delta"
            self.event(event)
        raise AssertionError("the stream ends without message_stop or an error event")

    def event(self, event: events.StreamEvent) -> None:
        if isinstance(event, events.Ping):
            return
        if isinstance(event, events.ContentBlockStart):
            assert self.open is None, "a block starts while another is open"
            assert event.index == len(self.summary.blocks), (event.index, len(self.summary.blocks))
            block = msgspec.json.decode(event.content_block)
            assert block["type"] in DELTAS, block
            self.open = block
            self.json_parts = []
            self.summary.blocks.append(block)
        elif isinstance(event, events.ContentBlockDelta):
            assert self.open is not None and event.index == len(self.summary.blocks) - 1, event
            kinds = DELTAS[self.open["type"]]
            assert isinstance(event.delta, kinds), (self.open["type"], event.delta)
            self._grow(event.delta)
        elif isinstance(event, events.ContentBlockStop):
            assert self.open is not None and event.index == len(self.summary.blocks) - 1, event
            if self.open["type"] == "tool_use":
                try:
                    self.open["input"] = tool_input(self.json_parts)
                except msgspec.DecodeError as exc:  # a valid prefix, cut at max_tokens only
                    assert "truncated" in str(exc), f"tool input is not JSON: {exc}"
                    self.cut = event.index
            self.open = None
        elif isinstance(event, events.MessageDelta):
            assert self.open is None, "message_delta while a block is open"
            check_stop_reason(event.delta.stop_reason, self.summary.blocks)
            if self.cut is not None:
                assert event.delta.stop_reason == "max_tokens", f"tool input is not JSON: {self.cut}"
            assert event.usage.output_tokens >= 0, event.usage
            for tokens in (event.usage.input_tokens, event.usage.cache_read_input_tokens):
                assert not isinstance(tokens, int) or tokens >= 0, event.usage
            self.summary.stop_reason = event.delta.stop_reason
            self.delta_seen = True
        else:
            raise AssertionError(f"unexpected event {event}")

    def _grow(self, delta: events.Delta) -> None:
        block = self.open
        assert block is not None
        if isinstance(delta, events.TextDelta):
            block["text"] += delta.text
        elif isinstance(delta, events.ThinkingDelta):
            block["thinking"] += delta.thinking
        elif isinstance(delta, events.SignatureDelta):
            block["signature"] = delta.signature
        elif isinstance(delta, events.InputJsonDelta):
            self.json_parts.append(delta.partial_json)


def tool_input(parts: list[str]) -> dict[str, Any]:
    """A tool_use block's input from its ``input_json_delta`` fragments: a JSON object."""
    text = "".join(parts)
    value = msgspec.json.decode(text) if text else {}
    assert isinstance(value, dict), f"tool input is not a JSON object: {text[:200]!r}"
    return value


def check_stop_reason(stop_reason: str | None, blocks: list[dict[str, Any]]) -> None:
    """A known stop reason; ``tool_use`` when there is a tool_use block (unless the
    answer was cut at ``max_tokens``), and ``tool_use`` only then; unique tool_use ids."""
    assert stop_reason in STOP_REASONS, stop_reason
    tools = [block for block in blocks if block["type"] == "tool_use"]
    ids = [block["id"] for block in tools]
    assert len(ids) == len(set(ids)), f"duplicate tool_use ids: {ids}"
    assert all(isinstance(block["name"], str) and block["name"] for block in tools), tools
    if tools and stop_reason != "max_tokens":
        assert stop_reason == "tool_use", (stop_reason, [b["type"] for b in blocks])
    if not tools:
        assert stop_reason != "tool_use", "stop_reason tool_use without a tool_use block"


def check_message(message: anthropic.MessageResponse) -> list[dict[str, Any]]:
    """The blocks of a well-formed complete message, read back from its JSON."""
    decoded = anthropic.decode_response(anthropic.encode(message))
    blocks = [msgspec.json.decode(raw) for raw in decoded.content]
    for raw in decoded.content:
        typed = anthropic.decode_block(raw)
        assert isinstance(
            typed, anthropic.TextBlock | anthropic.ThinkingBlock | anthropic.ToolUseBlock
        ), typed
        if isinstance(typed, anthropic.ToolUseBlock):
            assert isinstance(typed.input, dict), typed
        if isinstance(typed, anthropic.TextBlock):
            assert typed.text, "an empty text block"
    check_stop_reason(decoded.stop_reason, blocks)
    usage = decoded.usage
    assert usage.input_tokens >= 0 and usage.output_tokens >= 0, usage
    return blocks
