"""The agent loop's stream relay: whatever the chunking of a step's stream, the client
gets the same bytes, lynkr's tool calls hidden and the blocks numbered on."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr_core.orchestrator.relay import StepRelay
from lynkr_core.testing.fake_anthropic import Reply, sse_frame, stream_events
from lynkr_core.wire.anthropic import tool_name
from lynkr_core.wire.sse import SSEParser

OURS = frozenset({"lynkr_echo"})
REPLY = Reply(
    [
        {"type": "text", "text": "Let me look; the message_stop and error words are just text."},
        {"type": "tool_use", "id": "toolu_1", "name": "lynkr_echo", "input": {"text": "x" * 40}},
        {"type": "text", "text": "and more"},
        {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": "a"}},
    ],
    chunk_size=5,
)
STREAM = b"".join(
    sse_frame(name, data)
    for name, data in stream_events(REPLY, message_id="msg_1", model="m", usage={"input_tokens": 9, "output_tokens": 7})
)


def relayed(chunks: list[bytes], next_index: int = 0, first_step: bool = True) -> tuple[bytes, StepRelay]:
    relay = StepRelay(OURS, next_index, first_step=first_step)
    return b"".join(relay.feed(chunk) for chunk in chunks), relay


def frames(data: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in data.split(b"\n\n") if frame]


def test_lynkr_tool_calls_are_hidden_and_blocks_numbered_on():
    out, relay = relayed(frames(STREAM))
    events = SSEParser().feed(out)
    starts = [e.data for e in events if e.event == "content_block_start"]
    assert len(starts) == 3 and '"lynkr_echo"' not in out.decode()
    assert [e.event for e in events].count("message_stop") == 0  # held for the loop to decide
    assert relay.hidden == {1} and relay.client_tool_calls == 1 and relay.stop_reason == "tool_use"
    message = relay.message()
    assert [json.loads(bytes(block))["type"] for block in message.content] == [
        "text", "tool_use", "text", "tool_use"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=40), st.integers(0, 3),
       st.booleans())
def test_any_chunking_gives_the_same_bytes_to_the_client(cuts, next_index, first_step):
    bounds = [0, *sorted(set(cuts)), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    expected, reference = relayed(frames(STREAM), next_index, first_step)
    out, relay = relayed(chunks, next_index, first_step)
    assert SSEParser().feed(out) == SSEParser().feed(expected)
    assert relay.message() == reference.message()
    assert (relay.stop_reason, relay.hidden, relay.next_index) == (
        reference.stop_reason, reference.hidden, reference.next_index)


def test_tool_names_are_read_from_the_leading_key_or_the_whole_definition():
    assert tool_name(b'{"name":"Read","input_schema":{"properties":{"name":{}}}}') == "Read"
    assert tool_name(b'{ "name" : "mcp__x.y-z" , "input_schema":{}}') == "mcp__x.y-z"
    assert tool_name(b'{"input_schema":{"type":"object"},"name":"Late"}') == "Late"
    assert tool_name(b'{"name":"esc\\u0061ped","input_schema":{}}') == "escaped"
