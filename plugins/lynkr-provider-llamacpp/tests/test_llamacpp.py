"""What only llama.cpp does: ``/health`` for ``lynkr doctor``, tool calls printed as text by
models run without a tool-call template; and real Claude Code requests through it."""

from __future__ import annotations

import pytest

from lynkr_core.testing.fake_openai import ChatReply, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.server import free_port

WRITE = {
    "name": "Write",
    "description": "Write a file",
    "input_schema": {
        "type": "object",
        "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["file_path", "content"],
    },
}
ARGUMENTS = {"file_path": "/tmp/work/hello.txt", "content": 'line 1\nsay "hi" <ok>'}
PRINTED_CALL = (
    "I'll create the file now.\n"
    '<tool_call>\n{"name": "Write", "arguments": '
    '{"file_path": "/tmp/work/hello.txt", "content": "line 1\\nsay \\"hi\\" <ok>"}}\n</tool_call>'
)
CREATE = [{"role": "user", "content": "create hello.txt"}]


async def test_check_is_ok_when_the_server_is_up(gateway):
    async with gateway(key="k") as gw:
        result = await gw.check()
    assert result.ok, result.detail
    assert result.detail.endswith("/health: ok")
    health = [r for r in gw.fake.requests if r.path == "/health"]
    assert len(health) == 1 and health[0].headers["authorization"] == "Bearer k"
    assert gw.fake.chat_requests == []  # a health check does not run the model


async def test_check_is_not_ok_while_the_model_loads(gateway):
    async with gateway(loading=True) as gw:
        result = await gw.check()
    assert not result.ok
    assert "503" in result.detail and "Loading model" in result.detail


async def test_check_is_not_ok_when_the_server_is_unreachable(gateway):
    async with gateway(LLAMACPP_ENDPOINT=f"http://127.0.0.1:{free_port()}") as gw:
        result = await gw.check()
    assert not result.ok
    assert "/health" in result.detail and "ClientConnectorError" in result.detail


async def test_models_list_names_the_configured_model(gateway):
    async with gateway(LLAMACPP_MODEL="gemma-3-4b") as gw:
        page = await gw.sdk.models.list()
    assert [model.id for model in page.data] == ["gemma-3-4b"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_printed_as_text_becomes_a_tool_use_block(gateway, stream):
    pytest.importorskip("lynkr_core.translate.tool_text")
    async with gateway([ChatReply(PRINTED_CALL, chunk_size=4)]) as gw:
        request = dict(model="m", max_tokens=100, messages=CREATE, tools=[WRITE])
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                kinds = [event.type async for event in events]
                message = await events.get_final_message()
            assert "input_json" in kinds
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert message.content[0].text.strip() == "I'll create the file now."
    assert message.content[1].name == "Write"
    assert message.content[1].input == ARGUMENTS
    assert message.content[1].id.startswith("toolu_")
    assert message.stop_reason == "tool_use"
    assert "<tool_call>" not in message.content[0].text


async def test_printed_calls_stay_text_when_turned_off(gateway):
    async with gateway(
        [ChatReply(PRINTED_CALL, chunk_size=4)], LLAMACPP_TEXT_TOOL_CALLS="false"
    ) as gw:
        async with gw.sdk.messages.stream(
            model="m", max_tokens=100, messages=CREATE, tools=[WRITE]
        ) as stream:
            message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == PRINTED_CALL
    assert message.stop_reason == "end_turn"


async def test_a_printed_call_of_an_undeclared_tool_stays_text(gateway):
    pytest.importorskip("lynkr_core.translate.tool_text")
    text = '<tool_call>{"name": "Delete", "arguments": {"path": "/"}}</tool_call>'
    async with gateway([ChatReply(text, chunk_size=4)]) as gw:
        async with gw.sdk.messages.stream(
            model="m", max_tokens=100, messages=CREATE, tools=[WRITE]
        ) as stream:
            message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == text
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize("turn", [0, 1])
async def test_a_real_claude_code_request_streams_back_cleanly(
    gateway, claude_code_turns, parse_sse, turn
):
    body = claude_code_turns[turn]
    reply = ChatReply(
        "Writing it.",
        chunk_size=3,
        tool_calls=[ToolCallSpec("Write", ARGUMENTS)],
        arguments_chunk_size=4,
        usage=(19000, 30),
    )
    async with gateway([reply], LLAMACPP_MAX_OUTPUT_TOKENS="8192") as gw:
        status, _, raw = await gw.post_raw(body, {"anthropic-beta": "claude-code-20250219"})
    assert status == 200, raw
    events = parse_sse(raw)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_stop" and "error" not in names
    delta = next(data for name, data in events if name == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert (delta["usage"]["input_tokens"], delta["usage"]["output_tokens"]) == (19000, 30)

    upstream = gw.fake.chat_requests[0].json
    assert_valid_chat_request(upstream)
    assert upstream["model"] == "default" and upstream["max_tokens"] == 8192
    assert "reasoning_effort" not in upstream and "reasoning" not in upstream
    roles = [m["role"] for m in upstream["messages"]]
    assert roles[0] == "system" and "system" not in roles[1:]
    if turn == 1:
        assert roles[-2:] == ["assistant", "tool"]
        assert upstream["messages"][-2]["tool_calls"][0]["function"]["name"] == "Write"
