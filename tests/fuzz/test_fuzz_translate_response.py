"""Fuzz target: an OpenAI chat-completion answer -> an Anthropic message.

Whatever body an OpenAI-compatible upstream answers a non-streaming request
with, lynkr's provider either reads it into a well-formed Anthropic message
(text, thinking and tool_use blocks only, tool inputs JSON objects, unique
tool ids, a stop reason that agrees with the blocks) or fails with an
``UpstreamError`` (a 502 or the error's own status for the client), the way
``OpenAIChatProvider.complete`` does: never a ``KeyError``, ``TypeError``,
``IndexError`` or ``UnicodeDecodeError`` that would become a 500.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import strategies as st

from lynkr_core.errors import LynkrError, UpstreamError, encode_error
from lynkr_core.openai_chat import OpenAIChatProvider
from lynkr_core.translate import extractor_factory
from lynkr_core.upstream import error_from_response
from lynkr_core.wire import anthropic
from tests.fuzz.budget import fuzz_target
from tests.fuzz.strategies import TEXT_TOOLS, completions, documents, errors, json_values, texts
from tests.fuzz.wellformed import check_message

MODEL = "claude-sonnet-4-5"
PROVIDER = OpenAIChatProvider("fuzz", url="http://127.0.0.1:9/v1/chat/completions")


def read_answer(body: bytes, *, text_tools: bool) -> anthropic.MessageResponse:
    """What ``OpenAIChatProvider.complete`` does with an answer body (its HTTP part aside)."""
    return PROVIDER.message_from(
        body,
        model=MODEL,
        stop_sequences=["STOP"],
        tool_text=extractor_factory(TEXT_TOOLS) if text_tools else None,
    )


@fuzz_target(documents(completions), st.booleans(), examples=200)
def test_any_answer_gives_a_well_formed_message_or_an_upstream_error(
    body: bytes, text_tools: bool
) -> None:
    try:
        message = read_answer(body, text_tools=text_tools)
    except LynkrError as exc:
        assert 400 <= exc.status <= 599 and exc.message, exc
        return
    assert isinstance(message, anthropic.MessageResponse) and message.model == MODEL
    check_message(message)


def test_invalid_utf8_in_a_list_content_part_is_replaced() -> None:
    """Found by this target: a byte that is not UTF-8 inside a Databricks content part
    raised ``UnicodeDecodeError`` from the translator (a 500 for the client)."""
    body = b'{"choices":[{"message":{"content":[{"type":"text","text":"a\x80b"}]},"finish_reason":"stop"}]}'
    message = read_answer(body, text_tools=False)
    assert message.text() == "a\ufffdb"


def test_deep_nesting_in_an_answer_is_an_upstream_error() -> None:
    """Found by this target: 100,000 levels of ``[`` inside a field kept untyped raised
    ``RecursionError``."""
    body = b'{"choices":[{"message":{"content":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}}]}"
    try:
        read_answer(body, text_tools=False)
    except UpstreamError as exc:
        assert exc.status == 502 and "nested too deeply" in exc.message
    else:
        raise AssertionError("a 100,000-deep answer was read")


#: Error bodies in the shapes providers use, then corrupted like any other document.
error_bodies = st.one_of(
    st.fixed_dictionaries({"error": errors}),
    st.fixed_dictionaries({"type": st.just("error"), "error": errors}),
    st.fixed_dictionaries({"error": texts}),
    st.fixed_dictionaries({"error_code": texts, "message": texts}),
    json_values,
)
retry_headers = st.dictionaries(
    st.sampled_from(["retry-after", "Retry-After", "retry-after-ms", "x-other"]),
    st.sampled_from(["1", "0.5", "-3", "nan", "inf", "1e400", "", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]),
    max_size=2,
)
@fuzz_target(st.integers(400, 599), documents(error_bodies), retry_headers, examples=200)
def test_any_error_answer_gives_an_upstream_error(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    error = error_from_response(status, body, headers)
    assert isinstance(error, UpstreamError)
    assert 400 <= error.status <= 599 and error.message and error.error_type
    if error.retry_after is not None:
        assert error.retry_after >= 0 and math.isfinite(error.retry_after), headers
    encode_error(error.error_type, error.message)


@pytest.mark.parametrize(
    "body",
    [b'{"error":{"message":"bad \x80 byte"}}', b'{"error":' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["invalid-utf8", "deep"],
)
def test_an_unreadable_error_body_still_gives_the_upstream_status(body: bytes) -> None:
    assert error_from_response(429, body, {}).status == 429


@pytest.mark.parametrize(
    "headers", [{"retry-after-ms": "-3000"}, {"retry-after": "inf"}, {"retry-after-ms": "nan"}]
)
def test_a_retry_after_sent_on_is_a_finite_non_negative_number(headers: dict[str, str]) -> None:
    sent = error_from_response(429, b"{}", headers).headers().get("retry-after")
    assert sent is None or (math.isfinite(float(sent)) and float(sent) >= 0), sent
