"""Stream helpers for plugins: watch a Messages event stream, and replay a message as one.

``EventTap`` parses the SSE bytes of a stream once and hands each decoded event to
every observer (``MessageAccumulator().add`` is one); ``tap`` wraps a stream of
frames with it and passes the bytes on unchanged. ``message_events`` and
``message_frames`` go the other way: the events Anthropic sends for a complete
message, to replay a stored answer to a streaming client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import msgspec
import structlog
from msgspec import UNSET

from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.wire.anthropic import MessageResponse, Usage, raw
from lynkr_core.wire.events import (
    KNOWN_EVENT_TYPES,
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageDeltaBody,
    MessageDeltaUsage,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    decode_event,
    event_frame,
)
from lynkr_core.wire.sse import SSEFrameTooLarge, SSEParser

log = structlog.get_logger("lynkr.streams")

#: Something that wants to see each event of a stream, in order.
Observer = Callable[[StreamEvent], object]

# --------------------------------------------------------------------------- #
# Watching a stream


class EventTap:
    """Feed the bytes of a Messages event stream; each observer gets every event, decoded once.

    Unknown event types and undecodable data are skipped. An observer that raises is
    logged and dropped for the rest of the stream; the others go on.
    """

    __slots__ = ("_observers", "_parser")

    def __init__(self, *observers: Observer) -> None:
        self._observers = list(observers)
        self._parser = SSEParser()

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the stream (frames may be split anywhere)."""
        if not self._observers:
            return
        try:
            frames = self._parser.feed(chunk)
        except SSEFrameTooLarge as exc:
            log.warning("stream_not_observed", reason=str(exc))
            self._observers.clear()
            return
        for frame in frames:
            if frame.event not in KNOWN_EVENT_TYPES:
                log.debug("unknown_event_skipped", event_type=frame.event)
                continue
            try:
                event = decode_event(frame.data)
            except (msgspec.MsgspecError, RecursionError) as exc:
                log.debug("unreadable_event_skipped", event_type=frame.event, error=str(exc))
                continue
            self._deliver(event)

    def _deliver(self, event: StreamEvent) -> None:
        for observer in tuple(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("stream_observer_dropped", observer=repr(observer))
                self._observers = [o for o in self._observers if o is not observer]


async def tap(frames: AsyncIterator[bytes], *observers: Observer) -> AsyncIterator[bytes]:
    """Yield ``frames`` unchanged, showing each piece to an ``EventTap`` of ``observers`` first.

    Closing (or cancelling) the tap closes ``frames``. Without observers nothing is parsed.
    """
    watcher = EventTap(*observers) if observers else None
    try:
        async for chunk in frames:
            if watcher is not None:
                watcher.feed(chunk)
            yield chunk
    finally:
        aclose = getattr(frames, "aclose", None)
        if aclose is not None:
            await aclose()


def usage_from_frames(frames: Iterable[bytes]) -> Usage | None:
    """The tokens a stream's frames report (``message_start``'s usage, updated by
    ``message_delta``'s), parsing only the SSE frames that carry those two events (a kept
    piece of a stream often holds the whole answer): far cheaper than
    ``message_from_frames`` when only the usage is wanted. ``None`` before
    ``message_start``.

    ``message_start`` is a message's first event and ``message_delta`` its last but
    ``message_stop``, so the first mention of the one and the last of the other are theirs;
    a mention inside the text (or a stream cut before ``message_delta``) is some other
    event, which is skipped."""
    accumulator = MessageAccumulator()

    def keep(event: StreamEvent) -> None:
        if isinstance(event, MessageStart | MessageDelta):
            accumulator.add(event)

    data = b"".join(frames)
    start = data.find(b"message_start")
    if start < 0:
        return None
    begin, end = _frame_around(data, start)
    watcher = EventTap(keep)
    watcher.feed(data[begin:end] + b"\n\n")
    delta = data.rfind(b"message_delta")
    if delta >= end:
        begin, end = _frame_around(data, delta)
        watcher.feed(data[begin:end] + b"\n\n")
    message = accumulator.message()
    return None if message is None else message.usage


#: What ends an SSE frame: an empty line, after any of the three line ends.
_FRAME_ENDS = (b"\n\n", b"\r\r", b"\n\r")


def _frame_around(data: bytes, at: int) -> tuple[int, int]:
    """Where the SSE frame holding ``data[at]`` begins and ends (an empty line or the
    buffer's edge; the slice may begin with the end of the frame before, an empty line
    the parser skips)."""
    begin, end = 0, len(data)
    for frame_end in _FRAME_ENDS:  # each search stops at the nearest end found so far
        begin = max(begin, data.rfind(frame_end, begin, at))
        found = data.find(frame_end, at, end)
        end = end if found < 0 else found
    return begin, end


def message_from_frames(frames: Iterable[bytes]) -> MessageResponse | None:
    """The message a stream's frames add up to (``None`` before its ``message_start``)."""
    accumulator = MessageAccumulator()
    watcher = EventTap(accumulator.add)
    for frame in frames:
        watcher.feed(frame)
    return accumulator.message()


# --------------------------------------------------------------------------- #
# Replaying a message


#: Blocks whose ``input`` streams as ``input_json_delta``.
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use"})
_decode = msgspec.json.decode
_encode = msgspec.json.encode


def message_events(message: MessageResponse, chunk_size: int | None = None) -> list[StreamEvent]:
    """The events Anthropic streams for ``message``, ``message_start`` to ``message_stop``.

    Text and thinking go out in one delta per block, or in deltas of ``chunk_size``
    characters. Blocks without deltas (``redacted_thinking``, tool results, unknown
    types) come whole in their ``content_block_start``. ``message_delta`` carries the stop
    reason, ``stop_details``, ``container`` and the final usage, as Anthropic sends them.
    Deterministic.
    """
    events: list[StreamEvent] = [MessageStart(message=_started(message))]
    for index, block_raw in enumerate(message.content):
        block = _decode(block_raw)
        shell, deltas = _block_parts(block, chunk_size)
        events.append(ContentBlockStart(index=index, content_block=raw(shell)))
        events.extend(ContentBlockDelta(index=index, delta=delta) for delta in deltas)
        events.append(ContentBlockStop(index=index))
    events.append(_finished(message))
    events.append(MessageStop())
    return events


def message_frames(message: MessageResponse, chunk_size: int | None = None) -> list[bytes]:
    """``message_events`` as SSE frames, ready to send."""
    return [event_frame(event) for event in message_events(message, chunk_size)]


def _started(message: MessageResponse) -> MessageResponse:
    """The message as ``message_start`` carries it: no content, no stop yet, input usage."""
    usage = message.usage
    start_usage = Usage(
        input_tokens=usage.input_tokens,
        output_tokens=min(usage.output_tokens, 1),
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation=usage.cache_creation,
        service_tier=usage.service_tier,
        inference_geo=usage.inference_geo,
    )
    return msgspec.structs.replace(
        message,
        content=[],
        stop_reason=None,
        stop_sequence=None,
        stop_details=UNSET,
        usage=start_usage,
    )


def _finished(message: MessageResponse) -> MessageDelta:
    """The ``message_delta``: why it stopped, and the final usage."""
    usage = message.usage
    return MessageDelta(
        delta=MessageDeltaBody(
            stop_reason=message.stop_reason,
            stop_sequence=message.stop_sequence,
            stop_details=message.stop_details,
            container=message.container,
        ),
        usage=MessageDeltaUsage(
            output_tokens=usage.output_tokens,
            input_tokens=usage.input_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens,
            cache_read_input_tokens=usage.cache_read_input_tokens,
            server_tool_use=usage.server_tool_use,
            output_tokens_details=usage.output_tokens_details,
        ),
    )


def _block_parts(block: Any, chunk_size: int | None) -> tuple[Any, list[Any]]:
    """A block's ``content_block_start`` shell and the deltas that fill it."""
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text" and isinstance(block.get("text"), str):
        citations = block.get("citations")
        if not (isinstance(citations, list) and citations):
            citations = []  # null or [] stays in the shell as it is
        shell = {k: v for k, v in block.items() if not (k == "citations" and citations)}
        shell["text"] = ""
        deltas: list[Any] = [CitationsDelta(citation=raw(c)) for c in citations]
        deltas += [TextDelta(text=t) for t in _pieces(block["text"], chunk_size)]
        return shell, deltas
    if kind in _TOOL_BLOCKS and "input" in block:
        shell = block | {"input": {}}
        return shell, [InputJsonDelta(partial_json=_encode(block["input"]).decode())]
    if kind == "thinking" and isinstance(block.get("thinking"), str):
        signature = block.get("signature")
        shell = block | {"thinking": ""}
        deltas = [ThinkingDelta(thinking=t) for t in _pieces(block["thinking"], chunk_size)]
        if isinstance(signature, str):
            shell["signature"] = ""
            deltas.append(SignatureDelta(signature=signature))
        return shell, deltas
    return block, []


def _pieces(text: str, chunk_size: int | None) -> list[str]:
    """``text`` in pieces of ``chunk_size`` characters (one piece without a size; none when empty)."""
    if not text:
        return []
    if chunk_size is None or chunk_size <= 0:
        return [text]
    return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
