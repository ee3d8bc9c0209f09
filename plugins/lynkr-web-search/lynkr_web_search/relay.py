"""A streamed client call made of several streamed model steps, relayed as one message.

Each step's events go out as they arrive, renumbered after the blocks already sent;
a call of the search function goes out as the ``server_tool_use`` block it stands for
(its input still streams as ``input_json_delta``, as Anthropic's does). Only the first
step's ``message_start`` is sent; every step's ``message_delta`` and ``message_stop``
are held back, and the relay ends the message itself with the stop reason and the
usage of all the steps. Result blocks come whole in their ``content_block_start``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec

from lynkr_core import MessageAccumulator, SSEParser, UpstreamError, anthropic, events
from lynkr_web_search.turn import SearchTurn


class StepRelay:
    """Relays the steps of one ``SearchTurn`` as a single Anthropic event stream."""

    def __init__(self, turn: SearchTurn) -> None:
        self.turn = turn
        self.offset = 0
        self.started = False
        self.failed = False
        self.message: anthropic.MessageResponse | None = None

    async def step(self, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """One model step's frames, renumbered; ``message`` holds the step's answer after it."""
        parser = SSEParser()
        accumulator = MessageAccumulator()
        try:
            async for chunk in frames:
                for sse in parser.feed(chunk):
                    if sse.event not in events.KNOWN_EVENT_TYPES:
                        continue
                    event = events.decode_event(sse.data)
                    accumulator.add(event)
                    relayed = self._relayed(event)
                    if relayed is not None:
                        yield events.event_frame(relayed)
        finally:
            aclose = getattr(frames, "aclose", None)
            if aclose is not None:
                await aclose()
        self.message = accumulator.message()
        if self.message is None and not self.failed:
            raise UpstreamError("the provider's stream ended before its message started", status=502)
        if self.message is not None:
            self.offset += len(self.message.content)

    def _relayed(self, event: events.StreamEvent) -> events.StreamEvent | None:
        if isinstance(event, events.MessageStart):
            if self.started:
                return None
            self.started = True
            return event
        if isinstance(event, events.ContentBlockStart):
            block = msgspec.json.decode(event.content_block)
            if self.turn.is_search(block):
                block = {"type": "server_tool_use", "id": self.turn.server_id(str(block.get("id"))),
                         "name": self.turn.tool.name, "input": {}}
                shell = anthropic.raw(block)
                return events.ContentBlockStart(index=self.offset + event.index, content_block=shell)
            return events.ContentBlockStart(index=self.offset + event.index, content_block=event.content_block)
        if isinstance(event, events.ContentBlockDelta):
            return events.ContentBlockDelta(index=self.offset + event.index, delta=event.delta)
        if isinstance(event, events.ContentBlockStop):
            return events.ContentBlockStop(index=self.offset + event.index)
        if isinstance(event, events.MessageDelta | events.MessageStop):
            return None
        if isinstance(event, events.ErrorEvent):
            self.failed = True
        return event

    def whole_blocks(self, blocks: list[dict[str, Any]]) -> Iterator[bytes]:
        """Blocks lynkr made (search results), each whole in its ``content_block_start``."""
        for block in blocks:
            start = events.ContentBlockStart(index=self.offset, content_block=anthropic.raw(block))
            yield events.event_frame(start)
            yield events.event_frame(events.ContentBlockStop(index=self.offset))
            self.offset += 1

    def finish(self, stop_reason: str | None) -> Iterator[bytes]:
        """The ``message_delta`` (stop reason, every step's usage) and ``message_stop``."""
        usage = self.turn.final_usage()
        last = self.message
        yield events.event_frame(events.MessageDelta(
            delta=events.MessageDeltaBody(
                stop_reason=stop_reason, stop_sequence=last.stop_sequence if last is not None else None
            ),
            usage=events.MessageDeltaUsage(
                output_tokens=usage.output_tokens,
                input_tokens=usage.input_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                server_tool_use=usage.server_tool_use,
            ),
        ))
        yield events.event_frame(events.MessageStop())
