"""Fuzz target: Anthropic request -> OpenAI Chat Completions request.

Every valid Messages request (this directory's strategies and
``lynkr_core.testing.messages``), for every kind of target (plain, reasoning
effort, OpenRouter, Databricks, a local server without images or structured
output), translates without an error into a body the openai SDK's types
accept (one carrying Anthropic's server tools is refused with ``InvalidRequest``), with the conversation in the shape OpenAI demands: at most one system
message, first; each assistant message with tool calls followed by exactly one
tool message per call, in order; no tool message anywhere else. A near-valid
request (one thing broken) that decodes either translates into such a body or
raises ``InvalidRequest``, the client's 400; nothing else.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import strategies as st

from lynkr_core.errors import InvalidRequest
from lynkr_core.testing.messages import Mutated, messages_requests, near_valid
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.translate import TargetOptions, translate_request
from lynkr_core.wire import anthropic, openai
from tests.fuzz.anthropic_requests import requests
from tests.fuzz.budget import fuzz_target

TARGETS = [
    TargetOptions(model="gpt-4o"),
    TargetOptions(model="o3", token_field="max_completion_tokens", reasoning="effort"),
    TargetOptions(model="anthropic/claude-sonnet-4.5", reasoning="openrouter"),
    TargetOptions(model="databricks-claude-sonnet-4-5", reasoning="databricks", max_output_tokens=64000),
    TargetOptions(
        model="qwen2.5-coder",
        images=False,
        structured_output=False,
        stream_usage=False,
        parallel_tool_calls=False,
        text_tool_calls=True,
        strip_schema_keys=frozenset({"$schema", "additionalProperties"}),
    ),
]

#: The provider-specific top-level keys each reasoning style may add.
PROVIDER_KEYS = {"none": set(), "effort": set(), "openrouter": {"reasoning"}, "databricks": {"thinking"}}


def check_conversation(messages: list[dict[str, Any]]) -> None:
    """System first and once; tool messages exactly where OpenAI wants them."""
    roles = [m["role"] for m in messages]
    assert "system" not in roles[1:], roles
    expected: list[str] = []
    for message in messages:
        if expected:
            assert message["role"] == "tool", f"call {expected[0]} is not answered next"
            assert message["tool_call_id"] == expected.pop(0)
            continue
        assert message["role"] != "tool", f"a tool message answering nothing: {message}"
        if message["role"] == "assistant":
            calls = message.get("tool_calls") or []
            expected = [call["id"] for call in calls]
            assert message.get("content") or calls, f"an empty assistant message: {message}"
            for call in calls:
                arguments = json.loads(call["function"]["arguments"])
                assert isinstance(arguments, dict), call
    assert not expected, f"calls left unanswered at the end: {expected}"


@fuzz_target(
    requests() | messages_requests(), st.sampled_from(TARGETS), st.none() | st.booleans(), examples=100
)
def test_every_valid_request_translates_into_a_valid_chat_request(
    body: dict[str, Any], target: TargetOptions, stream: bool | None
) -> None:
    request = anthropic.decode_request(json.dumps(body).encode())
    warnings: list[str] = []
    versioned = [t for t in body.get("tools") or () if t.get("type") not in (None, "custom")]
    if versioned:  # one of Anthropic's server tools: the client's 400, never a silent drop
        with pytest.raises(InvalidRequest, match=f"\\({versioned[0]['type']}\\)"):
            translate_request(request, target, warnings.append, stream=stream)
        return
    translated = translate_request(request, target, warnings.append, stream=stream)
    sent = json.loads(openai.encode_request(translated.request, translated.extra))
    assert_valid_chat_request(openai.to_builtins(translated.request))
    assert set(translated.extra) <= PROVIDER_KEYS[target.reasoning]
    assert sent["model"] == target.model
    assert sent["stream"] is (request.is_streaming if stream is None else stream)
    check_conversation(sent["messages"])
    assert all(isinstance(w, str) and w for w in warnings)


@fuzz_target(near_valid(messages_requests()), st.sampled_from(TARGETS), examples=80)
def test_a_near_valid_request_translates_or_is_the_clients_error(
    case: Mutated, target: TargetOptions
) -> None:
    try:
        request = anthropic.decode_request(json.dumps(case.body).encode())
    except anthropic.DECODE_ERRORS:
        return  # the app's 400
    try:
        translated = translate_request(request, target)
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return
    sent = json.loads(openai.encode_request(translated.request, translated.extra))
    assert_valid_chat_request(openai.to_builtins(translated.request))
    check_conversation(sent["messages"])


def test_a_tool_use_input_that_is_not_an_object_is_the_clients_error() -> None:
    """Found by the near-valid target: Anthropic answers this request 400; lynkr sent an
    OpenAI call whose arguments were the JSON string ``"not an object"``."""
    body = {"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": "not an object"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ]}
    request = anthropic.decode_request(json.dumps(body).encode())
    with pytest.raises(InvalidRequest):
        translate_request(request, TARGETS[0])
