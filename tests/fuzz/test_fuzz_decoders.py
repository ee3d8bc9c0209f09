"""Fuzz target: the wire decoders on arbitrary bytes.

Each decoder in ``lynkr_core.wire`` documents how it fails, and its callers
catch exactly that: the OpenAI decoders raise only msgspec errors
(``DecodeError``, ``ValidationError``), which providers turn into an
``UpstreamError``; the Anthropic ones raise one of ``anthropic.DECODE_ERRORS``
(msgspec's errors, ``UnicodeDecodeError`` for invalid UTF-8 in a raw value,
``RecursionError`` for absurd nesting), which the app turns into a 400.
Anything else (a ``KeyError``, a ``TypeError``...) would reach the client as a
500. The typed views of a decoded request (tool choice, thinking, metadata,
system text, content blocks, tools) must fail the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from hypothesis import strategies as st

from lynkr_core.wire import anthropic, events, openai
from tests.fuzz.anthropic_requests import requests
from tests.fuzz.budget import fuzz_target
from tests.fuzz.strategies import chunks, completions, documents, json_values

#: Where untyped JSON sits in the documents decoded: nesting there is only limited
#: by the decoder's recursion.
DEEP_PLACES = [
    b"%s",
    b'{"choices":[{"message":{"content":[%s]}}]}',
    b'{"choices":[{"delta":{"content":[%s]}}]}',
    b'{"error":{"message":"x","metadata":{"a":%s}}}',
    b'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[%s]}]}',
    b'{"model":"m","max_tokens":1,"messages":[],"tools":[{"name":"t","input_schema":%s}]}',
    b'{"model":"m","max_tokens":1,"messages":[],"future":%s}',
    b'{"type":"content_block_start","index":0,"content_block":%s}',
]
#: Nesting deeper than any real document, and than Python's recursion limit.
deep_json = st.tuples(
    st.sampled_from(DEEP_PLACES),
    st.sampled_from([2_000, 20_000, 100_000]),
    st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]),
).map(lambda t: t[0] % (t[2][0] * t[1] + (b"1" if t[2][0] != b"[" else b"") + t[2][1] * t[1]))
anthropic_events = st.fixed_dictionaries(
    {"type": st.sampled_from([*sorted(events.KNOWN_EVENT_TYPES), "future_event"])},
    optional={"index": json_values, "delta": json_values, "message": json_values,
              "content_block": json_values, "usage": json_values, "error": json_values},
)
any_bytes = st.one_of(
    st.binary(max_size=300),
    documents(json_values),
    documents(chunks),
    documents(completions),
    documents(requests()),
    documents(anthropic_events),
    deep_json,
)


def decodes_or_fails_cleanly(
    decode: Callable[[bytes], Any], data: bytes, errors: tuple[type[Exception], ...] = (msgspec.MsgspecError,)
) -> Any:
    """``decode(data)``, or ``None`` when it raised one of ``errors``."""
    try:
        return decode(data)
    except errors:
        return None


def views_of_a_request(request: anthropic.MessagesRequest) -> None:
    """Everything a translator or policy reads from a decoded request."""
    request.tool_choice_config()
    request.thinking_config()
    request.metadata_config()
    request.system_text()
    anthropic.encode_request(request)
    for message in request.messages:
        message.blocks()
    for tool in request.tools or []:
        anthropic.tool_name(tool)
        anthropic.decode_tool(tool)


@fuzz_target(any_bytes, examples=200)
def test_openai_decoders_raise_only_msgspec_errors(data: bytes) -> None:
    decodes_or_fails_cleanly(openai.decode_completion, data)
    decodes_or_fails_cleanly(openai.decode_chunk, data)


@fuzz_target(any_bytes, examples=200)
def test_anthropic_decoders_raise_only_their_documented_errors(data: bytes) -> None:
    errors = anthropic.DECODE_ERRORS
    request = decodes_or_fails_cleanly(anthropic.decode_request, data, errors)
    if request is not None:
        decodes_or_fails_cleanly(lambda _: views_of_a_request(request), data, errors)
        anthropic.request_problem(request)
    response = decodes_or_fails_cleanly(anthropic.decode_response, data, errors)
    if response is not None:
        decodes_or_fails_cleanly(lambda _: response.blocks(), data, errors)
    for decode in (anthropic.decode_block, anthropic.decode_tool, anthropic.tool_name, events.decode_event):
        decodes_or_fails_cleanly(decode, data, errors)
