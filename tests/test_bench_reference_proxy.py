"""The benchmark's floor proxy must stay a correct translating proxy, or its figures mean nothing."""

from __future__ import annotations

import anthropic

from bench.reference_proxy import create_app
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.server import serving

HISTORY = [
    {"role": "user", "content": "write it"},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {"p": 1}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}]},
]
TOOLS = [{"name": "Write", "description": "write", "input_schema": {"type": "object", "properties": {}}}]


async def test_the_reference_proxy_translates_both_ways():
    script = [
        ChatReply("hello there world", chunk_size=3),
        ChatReply("plain answer"),
        ChatReply("", tool_calls=[ToolCallSpec("Write", {"a": 1})], arguments_chunk_size=2),
    ]
    async with FakeOpenAI(script) as fake, serving(create_app(fake.base_url + "/v1/chat/completions")) as url:
        sdk = anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0)
        system = [{"type": "text", "text": "be brief"}]
        async with sdk.messages.stream(model="m", max_tokens=99, system=system, messages=HISTORY, tools=TOOLS) as s:
            streamed = await s.get_final_message()
        plain = await sdk.messages.create(model="m", max_tokens=99, messages=HISTORY[:1])
        async with sdk.messages.stream(model="m", max_tokens=99, messages=HISTORY[:1], tools=TOOLS) as s:
            called = await s.get_final_message()
    assert streamed.content[0].text == "hello there world" and streamed.stop_reason == "end_turn"
    assert plain.content[0].text == "plain answer"
    assert called.content[0].input == {"a": 1} and called.stop_reason == "tool_use"
    first = fake.chat_requests[0].json
    assert_valid_chat_request(first)
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant", "tool"]
