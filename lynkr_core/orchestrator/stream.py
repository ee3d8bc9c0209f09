"""The agent loop for a streamed answer: every step's text reaches the client as it
arrives, and the whole loop is one well-formed Messages stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from lynkr_core.orchestrator.advertise import ToolOffer, relaxed_tool_choice
from lynkr_core.orchestrator.relay import StepRelay
from lynkr_core.orchestrator.runner import PendingCall, ToolRunner
from lynkr_core.orchestrator.steps import (
    assistant_message,
    decode_blocks,
    pending_calls,
    results_message,
    runs_tools,
    step_limit_note,
)
from lynkr_core.tools import ToolContext, ToolResult
from lynkr_core.wire.anthropic import MessagesRequest, Usage, add_usage, raw
from lynkr_core.wire.events import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    MessageDelta,
    MessageDeltaBody,
    MessageDeltaUsage,
    MessageStop,
    Ping,
    TextDelta,
    event_frame,
)

OpenStep = Callable[[MessagesRequest], Awaitable[tuple[bytes, AsyncIterator[bytes]]]]
PING = event_frame(Ping())


async def stream_steps(
    offer: ToolOffer,
    tools: ToolContext,
    runner: ToolRunner,
    open_step: OpenStep,
    *,
    max_steps: int,
    ping_interval: float,
) -> AsyncIterator[bytes]:
    """Yield the client's frames for the loop over ``offer.request``.

    ``open_step`` starts one upstream stream and returns its first frame and
    the rest (failures before the first frame raise, as from a provider).
    """
    history = list(offer.request.messages)
    step_request = offer.request
    next_index = 0
    usage = Usage()
    log = tools.request.log
    while True:
        first, frames = await open_step(step_request)
        tools.ledger.steps += 1
        relay = StepRelay(offer.ours, next_index, first_step=tools.ledger.steps == 1)
        async for out in _relay_step(first, frames, relay):
            yield out
        if relay.errored:
            return
        next_index = relay.next_index
        add_usage(usage, relay.usage)
        message = relay.message() if relay.hidden else None
        if message is not None and tools.request.steps:
            tools.request.steps[-1].response = message  # parsed once: observers use it as it is
        calls = pending_calls(decode_blocks(message), offer.ours) if message is not None else []
        stop_reason = relay.stop_reason if relay.stopped else None
        if not runs_tools(calls, stop_reason, relay.client_tool_calls, log):
            if tools.ledger.steps == 1:
                if relay.held:
                    yield b"".join(relay.held)
            else:
                yield _ending(relay.stop_reason, relay.stop_sequence, usage)
            return
        if tools.ledger.steps >= max_steps:
            log.warning("tool_step_limit", steps=tools.ledger.steps)
            yield _text_block(next_index, step_limit_note(max_steps))
            yield _ending("end_turn", None, usage)
            return
        assert message is not None
        results: list[ToolResult] = []
        async for ping in _run_with_pings(runner, calls, tools, ping_interval, results):
            yield ping
        history += [assistant_message(message.content), results_message(calls, results)]
        step_request = offer.request.replace(
            messages=list(history), tool_choice=relaxed_tool_choice(offer.request, offer.ours)
        )


async def _relay_step(first: bytes, frames: AsyncIterator[bytes], relay: StepRelay) -> AsyncIterator[bytes]:
    chunk: bytes | None = first
    try:
        while chunk is not None:
            out = relay.feed(chunk)
            if out:
                yield out
            if relay.errored:
                return
            chunk = await anext(frames, None)
    finally:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await frames.aclose()  # type: ignore[attr-defined]


async def _run_with_pings(
    runner: ToolRunner, calls: list[PendingCall], tools: ToolContext, interval: float,
    results: list[ToolResult],
) -> AsyncIterator[bytes]:
    """Run ``calls``, yielding a ``ping`` frame whenever ``interval`` passes without an end;
    the results land in ``results``. A client that leaves cancels the tools."""
    task = asyncio.ensure_future(runner.run_all(calls, tools))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                break
            yield PING
        results.extend(task.result())
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task


def _text_block(index: int, text: str) -> bytes:
    return b"".join([
        event_frame(ContentBlockStart(index=index, content_block=raw({"type": "text", "text": ""}))),
        event_frame(ContentBlockDelta(index=index, delta=TextDelta(text=text))),
        event_frame(ContentBlockStop(index=index)),
    ])


def _ending(stop_reason: str | None, stop_sequence: str | None, usage: Usage) -> bytes:
    delta = MessageDelta(
        delta=MessageDeltaBody(stop_reason=stop_reason, stop_sequence=stop_sequence),
        usage=MessageDeltaUsage(output_tokens=usage.output_tokens, input_tokens=usage.input_tokens),
    )
    return event_frame(delta) + event_frame(MessageStop())
