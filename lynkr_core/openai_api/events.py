"""The core's Messages event stream (SSE bytes) as decoded events, for the reverse translators."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from lynkr_core.wire.events import KNOWN_EVENT_TYPES, StreamEvent, decode_event
from lynkr_core.wire.sse import SSEParser


async def anthropic_events(frames: AsyncIterator[bytes]) -> AsyncIterator[StreamEvent]:
    """Each event of ``frames`` in order; unknown types and undecodable data are skipped.
    Closing this closes ``frames``."""
    parser = SSEParser()
    try:
        async for chunk in frames:
            for frame in parser.feed(chunk):
                if frame.event not in KNOWN_EVENT_TYPES:
                    continue
                try:
                    yield decode_event(frame.data)
                except (msgspec.MsgspecError, RecursionError):
                    continue
    finally:
        aclose = getattr(frames, "aclose", None)
        if aclose is not None:
            await aclose()
