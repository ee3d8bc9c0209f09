"""Failover from an OpenAI-format provider to Anthropic in the middle of a session.

The history then holds thinking blocks lynkr signed. Anthropic refuses a thinking
block whose signature it did not make (400, ``Invalid `signature` in `thinking`
block``), and, with thinking on, a tool loop whose last assistant turn does not start
with thinking. The scripted Anthropic upstream here does both; lynkr removes the
blocks it cannot vouch for as Anthropic's, turns thinking off for that tool loop, and
the session goes on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lynkr_core import anthropic as wire
from lynkr_core import without_foreign_thinking
from lynkr_core.testing.fake_anthropic import ErrorReply as AnthropicError
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import Harness, quick_retries, stream_events

KEY = "sk-upstream"
#: What this fake Anthropic signs its own thinking with.
ANTHROPIC_SIGNATURE = "EqQBCkgIARABGAIiQ-anthropic"
READ = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
}
ASK = [{"role": "user", "content": "What does a.txt say?"}]
THINK = {"type": "enabled", "budget_tokens": 2048}


def anthropic_upstream(body: dict[str, Any]) -> Reply | AnthropicError:
    """Anthropic's checks of thinking blocks in the history, then an answer."""
    messages = body["messages"]
    for m_index, message in enumerate(messages):
        if message["role"] != "assistant" or isinstance(message["content"], str):
            continue
        for b_index, block in enumerate(message["content"]):
            if block.get("type") == "thinking" and block.get("signature") != ANTHROPIC_SIGNATURE:
                return AnthropicError(
                    400, "invalid_request_error", f"messages.{m_index}.content.{b_index}: Invalid `signature` in `thinking` block"
                )
    last = messages[-1]
    in_tool_loop = isinstance(last["content"], list) and any(b.get("type") == "tool_result" for b in last["content"])
    assistants = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if body.get("thinking", {}).get("type") == "enabled" and in_tool_loop and assistants:
        first = messages[assistants[-1]]["content"][0]
        if first.get("type") not in ("thinking", "redacted_thinking"):
            return AnthropicError(
                400, "invalid_request_error",
                f"messages.{assistants[-1]}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                f"`{first.get('type')}`. When `thinking` is enabled, a final `assistant` message must start with a "
                "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you "
                "include thinking blocks from previous turns. To avoid this requirement, disable `thinking`.",
            )
    return Reply.text("a.txt says hello.")


HARNESS = Harness(lambda base, **extra: {
    "MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": f"{base}/v1/chat/completions", "OPENAI_API_KEY": KEY,
    "OPENAI_MODEL": "deepseek-reasoner", "TOOL_EXECUTION_MODE": "client", "FALLBACK_PROVIDER": "anthropic",
    "ANTHROPIC_UPSTREAM_API_KEY": KEY, **quick_retries(0), **extra,
})


@pytest.mark.parametrize("stream", [False, True])
async def test_a_session_fails_over_from_deepseek_to_anthropic_mid_tool_loop(stream):
    openai_side = FakeOpenAI([
        ChatReply("", reasoning="I should read a.txt.", tool_calls=[ToolCallSpec("read_file", {"path": "a.txt"})]),
        ErrorReply(503, "overloaded"),
    ], api_key=KEY)
    async with FakeAnthropic(anthropic_upstream, api_key=KEY) as claude, HARNESS.run(
        openai_side, ANTHROPIC_UPSTREAM_BASE_URL=claude.base_url
    ) as gw:
        request: dict[str, Any] = dict(model="claude-sonnet-4-6", max_tokens=4096, tools=[READ], thinking=THINK)
        first = await gw.sdk.messages.create(messages=ASK, **request)
        assert first.content[0].type == "thinking"
        call = first.content[1]
        history = [
            *ASK,
            {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "hello"}]},
        ]
        if stream:
            _, answer = await stream_events(gw.sdk, messages=history, **request)
        else:
            answer = await gw.sdk.messages.create(messages=history, **request)
    assert answer.content[-1].text == "a.txt says hello."
    assert len(openai_side.chat_requests) == 2
    (sent,) = claude.message_requests
    assistant = sent.json["messages"][1]
    assert [block["type"] for block in assistant["content"]] == ["tool_use"]
    assert "thinking" not in sent.json  # a tool loop whose thinking is gone cannot think


def test_anthropics_own_thinking_and_redacted_thinking_stay():
    own = {"type": "thinking", "thinking": "mine", "signature": ANTHROPIC_SIGNATURE}
    redacted = {"type": "redacted_thinking", "data": "opaque"}
    unsigned = {"type": "thinking", "thinking": "whose?", "signature": ""}
    kept = without_foreign_thinking(wire.decode_request(_body([own, redacted, unsigned])))
    assert [wire.block_type(raw) for raw in kept.messages[1].content] == ["thinking", "redacted_thinking", "text"]
    assert kept.thinking_config() is not None  # the last turn is no tool loop: thinking stays on
    untouched = wire.decode_request(_body([own]))
    assert without_foreign_thinking(untouched) is untouched


def _body(blocks: list[dict[str, Any]]) -> bytes:
    return json.dumps({
        "model": "claude-sonnet-4-6", "max_tokens": 4096, "thinking": THINK,
        "messages": [*ASK, {"role": "assistant", "content": [*blocks, {"type": "text", "text": "done"}]},
                     {"role": "user", "content": "thanks"}],
    }).encode()
