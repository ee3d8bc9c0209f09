"""What only Ollama does: pulled models (``check``, ``/v1/models``), models that cannot think,
tool calls printed as text; and real Claude Code requests, which the fake validates as
Ollama's Go decoder would."""

from __future__ import annotations

import pytest

from lynkr_core.testing.fake_ollama import OllamaReply, validate_chat_body
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
ARGUMENTS = {"file_path": "/tmp/work/hello.txt", "content": 'line 1\nsay "hi"'}
PRINTED_CALL = (
    "Creating it.\n<tool_call>\n"
    '{"name": "Write", "arguments": '
    '{"file_path": "/tmp/work/hello.txt", "content": "line 1\\nsay \\"hi\\""}}'
    "\n</tool_call>"
)
CREATE = [{"role": "user", "content": "create hello.txt"}]
HELLO = [{"role": "user", "content": "hello"}]


async def test_check_is_ok_when_the_model_is_pulled(gateway):
    async with gateway(models=["qwen2.5-coder:7b", "llama3.2"]) as gw:
        result = await gw.check()
    assert result.ok, result.detail
    assert "qwen2.5-coder:7b" in result.detail
    assert gw.fake.chat_requests == []


async def test_check_accepts_a_model_named_without_its_latest_tag(gateway):
    async with gateway(models=["llama3.2"], OLLAMA_MODEL="llama3.2") as gw:
        result = await gw.check()  # the fake lists it as llama3.2:latest
    assert result.ok, result.detail


async def test_check_is_not_ok_with_a_pull_hint_when_the_model_is_missing(gateway):
    async with gateway(models=["llama3.2"]) as gw:
        result = await gw.check()
    assert not result.ok
    assert "ollama pull qwen2.5-coder:7b" in result.detail


async def test_check_is_not_ok_when_ollama_is_unreachable(gateway):
    async with gateway(OLLAMA_ENDPOINT=f"http://127.0.0.1:{free_port()}") as gw:
        result = await gw.check()
    assert not result.ok and "ClientConnectorError" in result.detail


async def test_models_list_is_what_ollama_has_pulled(gateway):
    async with gateway(models=["qwen2.5-coder:7b", "llama3.2", "gpt-oss:20b"]) as gw:
        page = await gw.sdk.models.list()
        one = await gw.sdk.models.retrieve("llama3.2:latest")
    assert [m.id for m in page.data] == ["qwen2.5-coder:7b", "llama3.2:latest", "gpt-oss:20b"]
    assert one.id == "llama3.2:latest"
    assert [r.path for r in gw.fake.requests].count("/api/tags") == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_is_dropped_for_a_model_that_cannot_think(gateway, stream):
    script = [OllamaReply("no thoughts here", chunk_size=4), OllamaReply("still none")]
    async with gateway(script, thinking_models=["qwen3:8b"]) as gw:
        request = dict(
            model="m",
            max_tokens=2000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                first = await events.get_final_message()
            async with gw.sdk.messages.stream(**request) as events:
                second = await events.get_final_message()
        else:
            first = await gw.sdk.messages.create(**request)
            second = await gw.sdk.messages.create(**request)
    assert first.content[0].text == "no thoughts here"
    assert second.content[0].text == "still none"
    sent = [r.json for r in gw.fake.chat_requests]
    # the first request learns the model cannot think; the next one does not ask again
    assert [body.get("think") for body in sent] == [True, None, None]


async def test_a_model_that_can_think_is_asked_to(gateway):
    async with gateway(
        [OllamaReply("ok", thinking="hmm")], thinking_models=["qwen2.5-coder:7b"]
    ) as gw:
        message = await gw.sdk.messages.create(
            model="m",
            max_tokens=2000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert [r.json.get("think") for r in gw.fake.chat_requests] == [True]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_printed_as_text_becomes_a_tool_use_block(gateway, stream):
    pytest.importorskip("lynkr_core.translate.tool_text")
    async with gateway([OllamaReply(PRINTED_CALL, chunk_size=4)]) as gw:
        request = dict(model="m", max_tokens=100, messages=CREATE, tools=[WRITE])
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                kinds = [event.type async for event in events]
                message = await events.get_final_message()
            assert "input_json" in kinds
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["text", "tool_use"]
    assert message.content[0].text.strip() == "Creating it."
    assert (message.content[1].name, message.content[1].input) == ("Write", ARGUMENTS)
    assert message.stop_reason == "tool_use"


async def test_printed_calls_stay_text_when_turned_off(gateway):
    async with gateway(
        [OllamaReply(PRINTED_CALL, chunk_size=4)], OLLAMA_TEXT_TOOL_CALLS="false"
    ) as gw:
        message = await gw.sdk.messages.create(
            model="m", max_tokens=100, messages=CREATE, tools=[WRITE]
        )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == PRINTED_CALL
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize("turn", [0, 1])
async def test_a_real_claude_code_request_streams_back_cleanly(
    gateway, claude_code_turns, parse_sse, turn
):
    body = claude_code_turns[turn]
    reply = OllamaReply(
        "Writing it.",
        chunk_size=3,
        tool_calls=[("Write", ARGUMENTS)],
        prompt_eval_count=18000,
        eval_count=25,
    )
    env = {"OLLAMA_NUM_CTX": "32768", "OLLAMA_MAX_OUTPUT_TOKENS": "8192"}
    async with gateway([reply], **env) as gw:
        status, _, raw = await gw.post_raw(body, {"anthropic-beta": "claude-code-20250219"})
    assert status == 200, raw
    events = parse_sse(raw)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_stop" and "error" not in names
    delta = next(data for name, data in events if name == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert (delta["usage"]["input_tokens"], delta["usage"]["output_tokens"]) == (18000, 25)
    tool = next(
        data["content_block"]
        for name, data in events
        if name == "content_block_start" and data["content_block"]["type"] == "tool_use"
    )
    assert tool["name"] == "Write"

    sent = gw.fake.chat_requests[0].json
    assert validate_chat_body(sent) is None
    assert sent["model"] == "qwen2.5-coder:7b" and sent["stream"] is True
    assert sent["options"] == {"num_predict": 8192, "num_ctx": 32768}
    assert sent["think"] is True  # Claude Code asks for (adaptive) thinking
    roles = [m["role"] for m in sent["messages"]]
    assert roles[0] == "system" and "system" not in roles[1:]
    assert {t["function"]["name"] for t in sent["tools"]} >= {"Bash", "Edit", "Read", "Write"}
    if turn == 1:
        assert roles[-2:] == ["assistant", "tool"]
        call = sent["messages"][-2]["tool_calls"][0]["function"]
        assert call["name"] == "Write" and isinstance(call["arguments"], dict)
        assert sent["messages"][-1]["tool_name"] == "Write"


async def test_claude_code_through_a_model_that_cannot_think(gateway, claude_code_turns, parse_sse):
    async with gateway([OllamaReply("done", chunk_size=2)], thinking_models=[]) as gw:
        status, _, raw = await gw.post_raw(claude_code_turns[1])
    assert status == 200, raw
    assert [name for name, _ in parse_sse(raw)][-1] == "message_stop"
    assert [r.json.get("think") for r in gw.fake.chat_requests] == [True, None]
