"""A step's tokens without rebuilding its message: ``usage_from_frames`` reads only the
``message_start`` and ``message_delta`` frames, and agrees with the rebuilt message."""

from __future__ import annotations

import msgspec
import structlog

from lynkr_core import Exchange, RequestContext, Settings, anthropic, message_frames
from lynkr_core.streams import message_from_frames, usage_from_frames

REQUEST = anthropic.decode_request(b'{"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}]}')


def message(**usage: int) -> anthropic.MessageResponse:
    return anthropic.decode_response(msgspec.json.encode({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
        "stop_sequence": None, "content": [{"type": "text", "text": "message_start? message_delta! " * 20},
                                            {"type": "tool_use", "id": "t", "name": "n", "input": {"a": 1}}],
        "usage": usage}))


def test_usage_from_frames_agrees_with_the_rebuilt_message():
    answer = message(input_tokens=120, output_tokens=33, cache_read_input_tokens=7,
                     cache_creation_input_tokens=5)
    frames = message_frames(answer, chunk_size=7)
    assert usage_from_frames(frames) == message_from_frames(frames).usage
    assert usage_from_frames(frames).output_tokens == 33
    assert usage_from_frames(frames[:1]).input_tokens == 120  # a stream cut short: what it said so far
    assert usage_from_frames([]) is None


def test_a_streamed_steps_usage_leaves_its_message_unbuilt():
    context = RequestContext(request_id="r", http=None, settings=Settings({}),  # type: ignore[arg-type]
                             log=structlog.get_logger("test"))
    for tokens in (10, 20):
        step = context.begin_step(REQUEST)
        step.frames = message_frames(message(input_tokens=tokens, output_tokens=3))
    exchange = Exchange(request=REQUEST, context=context, streamed=True)
    usage = exchange.usage()
    assert (usage.input_tokens, usage.output_tokens) == (30, 6)
    assert all(step._response is None for step in context.steps)
    assert context.steps[0].response.usage.input_tokens == 10  # still there when asked for
