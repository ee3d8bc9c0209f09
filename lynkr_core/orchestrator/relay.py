"""Relaying one step of the agent loop's stream to the client.

The client sees one message for the whole loop: the first step's
``message_start``, then the blocks of every step numbered on from where the
previous step stopped, and one ``message_delta``/``message_stop`` at the
end. lynkr's own ``tool_use`` blocks are not shown (the client does not
know those tools). While nothing needs renumbering, frames pass through
byte for byte, and a chunk of whole frames that starts, stops or ends
nothing is not even parsed: the step's message is rebuilt from the kept
chunks only when lynkr has tools to run.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lynkr_core.streams import message_from_frames
from lynkr_core.wire.anthropic import MessageResponse, Usage
from lynkr_core.wire.events import MessageDelta, MessageStart
from lynkr_core.wire.sse import ServerSentEvent, SSEParser


class _Indexed(msgspec.Struct):
    index: int


class _BlockStart(msgspec.Struct):
    index: int
    content_block: _BlockHead


class _BlockHead(msgspec.Struct):
    type: str
    name: str = ""


#: Event names a relay must see; a chunk without any of them can pass unparsed.
_WATCHED = (b"content_block_start", b"message_start", b"message_delta", b"message_stop", b"error")

_indexed = msgspec.json.Decoder(_Indexed)
_block_start = msgspec.json.Decoder(_BlockStart)
_message_start = msgspec.json.Decoder(MessageStart)
_message_delta = msgspec.json.Decoder(MessageDelta)
_encoder = msgspec.json.Encoder()


class StepRelay:
    """Feed one step's events in order; ``relay`` returns the bytes the client gets (or None)."""

    def __init__(self, ours: frozenset[str], next_index: int, *, first_step: bool) -> None:
        self.ours = ours
        self.next_index = next_index
        self.first_step = first_step
        self.chunks: list[bytes] = []
        self._parser = SSEParser()
        self.hidden: set[int] = set()
        self.client_tool_calls = 0
        self.held: list[bytes] = []
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.usage = Usage()
        self.errored = False
        self.stopped = False
        self._renumber: dict[int, int] = {}
        self._identity = next_index == 0

    def feed(self, chunk: bytes) -> bytes:
        """What the client gets for one chunk of the upstream stream (possibly nothing)."""
        self.chunks.append(chunk)
        if (
            self._identity
            and not self._parser.pending
            and chunk.endswith(b"\n\n")
            and not any(name in chunk for name in _WATCHED)
        ):
            return chunk
        return b"".join(
            piece for event in self._parser.feed(chunk) if (piece := self.relay(event)) is not None
        )

    def relay(self, event: ServerSentEvent) -> bytes | None:
        """What the client gets for ``event``: its frame, a renumbered frame, or nothing."""
        kind = event.event
        if kind == "content_block_delta" or kind == "content_block_stop":
            if self._identity:
                return event.raw
            index = _indexed.decode(event.data).index
            if index in self.hidden:
                return None
            return self._renumbered(event, index)
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "message_start":
            self.usage.input_tokens = _message_start.decode(event.data).message.usage.input_tokens
            return event.raw if self.first_step else None
        if kind == "message_delta":
            delta = _message_delta.decode(event.data)
            self.stop_reason = delta.delta.stop_reason
            self.stop_sequence = delta.delta.stop_sequence
            self.usage.output_tokens = delta.usage.output_tokens
            if isinstance(delta.usage.input_tokens, int):
                self.usage.input_tokens = delta.usage.input_tokens
            self.held.append(event.raw)
            return None
        if kind == "message_stop":
            self.stopped = True
            self.held.append(event.raw)
            return None
        if kind == "error":
            self.errored = True
        return event.raw

    def _block_start(self, event: ServerSentEvent) -> bytes | None:
        start = _block_start.decode(event.data)
        if start.content_block.type == "tool_use" and start.content_block.name in self.ours:
            self.hidden.add(start.index)
            self._identity = False
            return None
        if start.content_block.type == "tool_use":
            self.client_tool_calls += 1
        number = self.next_index
        self.next_index += 1
        self._renumber[start.index] = number
        if self._identity and number == start.index:
            return event.raw
        self._identity = False
        return self._renumbered(event, start.index)

    def _renumbered(self, event: ServerSentEvent, index: int) -> bytes:
        number = self._renumber.get(index, index)
        if number == index:
            return event.raw
        data: dict[str, Any] = msgspec.json.decode(event.data)
        data["index"] = number
        return b"event: " + event.event.encode() + b"\ndata: " + _encoder.encode(data) + b"\n\n"

    def message(self) -> MessageResponse | None:
        """The step's whole message as the model sent it (lynkr's tool calls included)."""
        return message_from_frames(self.chunks)
