"""``usage_from_frames`` finds the two frames that carry a stream's tokens wherever the
kept pieces of the stream split it, whatever line ends it uses, and when the text itself
names those events: it agrees with the rebuilt message every time."""

from __future__ import annotations

import random

import msgspec
import pytest

from lynkr_core import anthropic, message_frames
from lynkr_core.streams import message_from_frames, usage_from_frames

TEXT = "event: message_delta\ndata: {} message_start? message_delta! \n\n " * 12


def answer() -> anthropic.MessageResponse:
    return anthropic.decode_response(msgspec.json.encode({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
        "stop_sequence": None, "content": [{"type": "text", "text": TEXT}],
        "usage": {"input_tokens": 120, "output_tokens": 33, "cache_read_input_tokens": 7,
                  "cache_creation_input_tokens": 5}}))


def pieces(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut at random places, as a provider's reads may cut it."""
    cuts = sorted(rng.sample(range(1, len(data)), rng.randint(0, 30)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_usage_is_found_however_the_stream_is_cut(line_end):
    whole = b"".join(message_frames(answer(), chunk_size=5)).replace(b"\n", line_end)
    rng = random.Random(7)
    for _ in range(200):
        frames = pieces(whole, rng)
        usage = usage_from_frames(frames)
        assert usage == message_from_frames(frames).usage
        assert (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens) == (120, 33, 7)


def test_a_stream_cut_before_message_delta_reports_what_message_start_said():
    frames = message_frames(answer(), chunk_size=5)
    cut = [frame for frame in frames if b"event: message_delta" not in frame and b"message_stop" not in frame]
    usage = usage_from_frames([b"".join(cut)])
    assert usage == message_from_frames(cut).usage
    assert usage.input_tokens == 120
    assert usage_from_frames([b"event: ping\ndata: {\"type\": \"ping\"}\n\n"]) is None
