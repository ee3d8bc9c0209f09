"""What only OpenRouter does: attribution headers, SSE comments, errors inside 200 answers,
``reasoning`` both ways; and real Claude Code requests through it."""

from __future__ import annotations

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request

HELLO = [{"role": "user", "content": "hello"}]


def without_breakpoints(body):
    """``body`` without the ``cache_control`` of its content parts (OpenRouter's own key)."""
    def part(p):
        return {k: v for k, v in p.items() if k != "cache_control"}
    return {**body, "messages": [
        {**m, "content": [part(p) for p in m["content"]]} if isinstance(m.get("content"), list) else m
        for m in body["messages"]
    ]}


def names(events):
    """The event names of parsed SSE events."""
    return [name for name, _ in events]


async def test_attribution_headers_come_from_the_settings(gateway):
    env = {"OPENROUTER_HTTP_REFERER": "https://example.com/my-app", "OPENROUTER_X_TITLE": "My App"}
    async with gateway([ChatReply("ok")], **env) as gw:
        await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    headers = gw.fake.chat_requests[0].headers
    assert headers["http-referer"] == "https://example.com/my-app"
    assert headers["x-title"] == "My App"


async def test_empty_attribution_settings_send_no_headers(gateway):
    async with gateway([ChatReply("ok")], OPENROUTER_HTTP_REFERER="", OPENROUTER_X_TITLE="") as gw:
        await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    headers = gw.fake.chat_requests[0].headers
    assert "http-referer" not in headers and "x-title" not in headers
    assert headers["authorization"] == f"Bearer {gw.upstream_key}"


async def test_processing_comments_are_skipped(gateway, parse_sse):
    text = "warming up, then answering"
    # the fake sends ": OPENROUTER PROCESSING" first and after every delay between chunks
    reply = ChatReply(text, chunk_size=5, delay=0.01)
    async with gateway([reply, reply]) as gw:
        async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
            message = await stream.get_final_message()
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    assert message.content[0].text == text
    assert status == 200 and "OPENROUTER" not in raw
    assert names(parse_sse(raw))[-1] == "message_stop"


async def test_error_inside_a_200_answer_is_an_error_with_the_upstream_message(gateway):
    error = ErrorReply(429, "Rate limit exceeded upstream (Fake)", in_stream=True)
    async with gateway([error]) as gw:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.body["error"]["message"] == "Rate limit exceeded upstream (Fake)"


async def test_error_inside_a_200_answer_with_a_non_http_code_is_a_502(gateway):
    error = ErrorReply(500, "Internal provider hiccup", in_stream=True, code="provider_error")
    async with gateway([error]) as gw:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await gw.sdk.messages.create(model="m", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["error"]["message"] == "Internal provider hiccup"


async def test_error_chunk_before_any_content_is_retried_and_the_client_sees_a_clean_answer(
    gateway, parse_sse
):
    script = [ErrorReply(502, "Provider returned error", in_stream=True), ChatReply("clean answer")]
    async with gateway(script, LYNKR_UPSTREAM_RETRIES="1") as gw:
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    events = parse_sse(raw)
    assert status == 200
    assert names(events) == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[2][1]["delta"] == {"type": "text_delta", "text": "clean answer"}
    assert len(gw.fake.chat_requests) == 2


async def test_error_chunk_before_any_content_fails_over_to_the_fallback_provider(gateway):
    async with FakeOpenAI([ChatReply("answer from llama.cpp")], dialect="llamacpp") as local:
        env = {"FALLBACK_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": local.base_url}
        script = [ErrorReply(503, "No endpoints available", in_stream=True)]
        async with gateway(script, **env) as gw:
            async with gw.sdk.messages.stream(model="m", max_tokens=10, messages=HELLO) as stream:
                message = await stream.get_final_message()
    assert message.content[0].text == "answer from llama.cpp"
    assert len(gw.fake.chat_requests) == 1 and len(local.chat_requests) == 1
    assert "authorization" not in local.chat_requests[0].headers  # OpenRouter's key stays there


async def test_client_error_chunk_before_any_content_is_an_http_error(gateway):
    error = ErrorReply(400, "tools are not supported by this model", in_stream=True)
    async with gateway([error], LYNKR_UPSTREAM_RETRIES="2") as gw:
        status, _, raw = await gw.post_raw(
            {"model": "m", "max_tokens": 10, "messages": HELLO, "stream": True}
        )
    assert status == 400  # nothing was sent yet: a real HTTP error, not an SSE error event
    assert "tools are not supported by this model" in raw
    assert len(gw.fake.chat_requests) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_becomes_a_thinking_block(gateway, stream):
    reply = ChatReply("The answer is 4.", reasoning="2 + 2 is 4, simple.", chunk_size=3)
    async with gateway([reply]) as gw:
        request = dict(
            model="m",
            max_tokens=4000,
            messages=[{"role": "user", "content": "2+2?"}],
            thinking={"type": "enabled", "budget_tokens": 2048},
        )
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "2 + 2 is 4, simple."
    assert message.content[1].text == "The answer is 4."
    body = gw.fake.chat_requests[0].json
    assert body["reasoning"] == {"max_tokens": 2048}
    assert "reasoning_effort" not in body


@pytest.mark.parametrize(
    ("thinking", "output_config", "expected"),
    [
        ({"type": "enabled", "budget_tokens": 20000}, None, {"max_tokens": 20000}),
        ({"type": "adaptive"}, {"effort": "high"}, {"effort": "high"}),
        ({"type": "adaptive"}, None, {"effort": "medium"}),
        ({"type": "disabled"}, None, None),
    ],
)
async def test_client_thinking_becomes_openrouters_reasoning_object(
    gateway, thinking, output_config, expected
):
    extra = {"output_config": output_config} if output_config else {}
    async with gateway([ChatReply("ok")]) as gw:
        async with gw.sdk.messages.stream(
            model="m", max_tokens=32000, messages=HELLO, thinking=thinking, extra_body=extra
        ) as stream:
            await stream.get_final_message()
    body = gw.fake.chat_requests[0].json
    assert body.get("reasoning") == expected
    assert_valid_chat_request({k: v for k, v in body.items() if k != "reasoning"})


@pytest.mark.parametrize("turn", [0, 1])
async def test_a_real_claude_code_request_streams_back_cleanly(
    gateway, claude_code_turns, parse_sse, turn
):
    body = claude_code_turns[turn]
    assert body["stream"] is True
    reply = ChatReply(
        "I'll write it.",
        chunk_size=4,
        tool_calls=[ToolCallSpec("Write", {"file_path": "/tmp/x/hello.txt", "content": "hi"})],
        arguments_chunk_size=5,
        usage=(21000, 40),
    )
    headers = {"anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14"}
    async with gateway([reply], OPENROUTER_MODEL="anthropic/claude-opus-4.8") as gw:
        status, response_headers, raw = await gw.post_raw(body, headers)
    assert status == 200, raw
    assert response_headers["content-type"].startswith("text/event-stream")
    events = parse_sse(raw)
    assert names(events)[0] == "message_start" and names(events)[-1] == "message_stop"
    assert "error" not in names(events)
    delta = next(data for name, data in events if name == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert delta["usage"]["output_tokens"] == 40

    sent = gw.fake.chat_requests[0]
    upstream = sent.json
    marked = [
        p for m in upstream["messages"] if isinstance(m.get("content"), list)
        for p in m["content"] if "cache_control" in p
    ]
    # Claude Code's three breakpoints reach a Claude model: two in the system prompt, the
    # last on its latest message (the prompt on turn 1, the tool result on turn 2)
    assert [p["cache_control"] for p in marked] == [{"type": "ephemeral"}] * 3
    assert_valid_chat_request(
        {k: v for k, v in without_breakpoints(upstream).items() if k != "reasoning"}
    )
    assert "anthropic-beta" not in sent.headers and "x-api-key" not in sent.headers
    assert upstream["model"] == "anthropic/claude-opus-4.8"
    assert upstream["max_tokens"] == 64000
    assert upstream["stream"] is True and upstream["stream_options"] == {"include_usage": True}
    assert upstream["reasoning"] == {"effort": "high"}  # adaptive thinking, effort high
    roles = [m["role"] for m in upstream["messages"]]
    assert roles[0] == "system" and "system" not in roles[1:]
    assert {t["function"]["name"] for t in upstream["tools"]} >= {"Bash", "Edit", "Read", "Write"}
    if turn == 1:
        assert roles[-2:] == ["assistant", "tool"]
        call = upstream["messages"][-2]["tool_calls"][0]
        assert call["function"]["name"] == "Write"
        assert upstream["messages"][-1]["tool_call_id"] == call["id"]


async def test_doctor_check_through_the_registered_provider(gateway):
    async with gateway([ChatReply("pong")]) as gw:
        good = await gw.check()
    assert good.ok, good.detail
    probe = gw.fake.chat_requests[0].json
    assert probe["model"] == gw.model and probe["max_tokens"] == 1
    async with gateway(OPENROUTER_API_KEY="sk-or-v1-wrong") as gw:
        bad = await gw.check()
    assert not bad.ok and "401" in bad.detail and "User not found." in bad.detail
