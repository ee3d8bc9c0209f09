"""The fake Anthropic API speaks the wire format the official SDK (and Claude Code) accept."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import (
    CutStream,
    ErrorReply,
    FakeAnthropic,
    Reply,
    count_input_tokens,
)

MODEL = "claude-opus-4-8"
USER = [{"role": "user", "content": "hello"}]
FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"

TOOL_BLOCK = {
    "type": "tool_use",
    "id": "toolu_01",
    "name": "Write",
    "input": {"file_path": "/tmp/hello.txt", "content": "hi from lynkr \u00e9\u2603"},
}


@pytest.fixture
def fake_factory(after_test):
    """Start FakeAnthropic servers on demand and stop them after the test."""
    return lambda script=None, **options: after_test.enter_async_context(
        FakeAnthropic(script, **options)
    )


@pytest.fixture
def sdk(after_test):
    """Make official async SDK clients pointed at a fake; close them after the test."""

    def make(fake: FakeAnthropic, **options) -> anthropic.AsyncAnthropic:
        options.setdefault("api_key", "test-key")
        client = anthropic.AsyncAnthropic(base_url=fake.base_url, max_retries=0, **options)
        after_test.push_async_callback(client.close)
        return client

    return make


async def post_raw(fake: FakeAnthropic, path: str, body: object, headers=None):
    """POST JSON with aiohttp; return (status, headers, raw body bytes)."""
    async with aiohttp.ClientSession() as session:
        async with session.post(fake.base_url + path, json=body, headers=headers) as response:
            return response.status, response.headers, await response.read()


def parse_sse(raw: bytes) -> list[tuple[str, dict]]:
    """Split an SSE body into (event, data) pairs, asserting Anthropic's exact framing."""
    assert raw.endswith(b"\n\n")
    events = []
    for frame in raw.decode().split("\n\n")[:-1]:
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        name, data = event_line[len("event: ") :], json.loads(data_line[len("data: ") :])
        assert data["type"] == name
        events.append((name, data))
    return events


# --- happy paths through the official SDK ------------------------------------------------


async def test_create_returns_scripted_text_message(fake_factory, sdk):
    fake = await fake_factory([Reply.text("hello there")])
    message = await sdk(fake).messages.create(model=MODEL, max_tokens=100, messages=USER)

    assert message.content[0].type == "text" and message.content[0].text == "hello there"
    assert (message.role, message.model, message.stop_reason) == ("assistant", MODEL, "end_turn")
    assert message.id.startswith("msg_") and message.stop_sequence is None
    assert message.usage.input_tokens == count_input_tokens({"messages": USER})
    assert message.usage.output_tokens > 0


async def test_stream_text_arrives_in_deltas(fake_factory, sdk):
    text = "Streaming text that is longer than one chunk, with unicode: \u00e9\u2603."
    fake = await fake_factory([Reply.text(text, chunk_size=5)])
    async with sdk(fake).messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        pieces = [piece async for piece in stream.text_stream]
        final = await stream.get_final_message()

    assert "".join(pieces) == text and len(pieces) == -(-len(text) // 5)
    assert [block.model_dump() for block in final.content] == [
        {"type": "text", "text": text, "citations": None}
    ]
    assert final.stop_reason == "end_turn"


async def test_stream_tool_use_input_is_rebuilt_from_json_deltas(fake_factory, sdk):
    content = [{"type": "text", "text": "Writing the file."}, TOOL_BLOCK]
    fake = await fake_factory([Reply(content, chunk_size=7)])
    async with sdk(fake).messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        final = await stream.get_final_message()

    assert [block.model_dump(exclude_none=True) for block in final.content] == content
    assert final.stop_reason == "tool_use"


async def test_stream_thinking_block_with_signature(fake_factory, sdk):
    thinking = {"type": "thinking", "thinking": "Let me think about this.", "signature": "sig=="}
    fake = await fake_factory([Reply([thinking, {"type": "text", "text": "42"}])])
    async with sdk(fake).messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        final = await stream.get_final_message()

    assert final.content[0].model_dump() == thinking
    assert final.content[1].text == "42"


async def test_reply_overrides_model_usage_and_stop_reason(fake_factory, sdk):
    reply = Reply.text(
        "x", model="served-model", stop_reason="max_tokens", usage={"input_tokens": 7}
    )
    fake = await fake_factory([reply])
    message = await sdk(fake).messages.create(model=MODEL, max_tokens=1, messages=USER)

    assert (message.model, message.stop_reason, message.usage.input_tokens) == (
        "served-model",
        "max_tokens",
        7,
    )


async def test_count_tokens_is_deterministic_and_records_beta_query(fake_factory, sdk):
    fake = await fake_factory()
    client = sdk(fake)
    beta = {"beta": "true"}  # what Claude Code appends to every call
    first = await client.messages.count_tokens(model=MODEL, messages=USER, extra_query=beta)
    second = await client.messages.count_tokens(model=MODEL, messages=USER, extra_query=beta)

    assert first.input_tokens == second.input_tokens == count_input_tokens({"messages": USER})
    assert fake.requests[0].path == "/v1/messages/count_tokens"
    assert fake.requests[0].query == {"beta": "true"}


async def test_models_list_shape(fake_factory, sdk):
    fake = await fake_factory(models=["model-a", "model-b"])
    page = await sdk(fake).models.list()

    assert [model.id for model in page.data] == ["model-a", "model-b"]
    assert (page.first_id, page.last_id, page.has_more) == ("model-a", "model-b", False)


async def test_requests_are_recorded_with_body_and_headers(fake_factory, sdk):
    fake = await fake_factory()
    client = sdk(fake, default_headers={"X-Trace": "abc"})
    await client.messages.create(model=MODEL, max_tokens=10, messages=USER)

    (request,) = fake.requests
    assert (request.method, request.path, request.query) == ("POST", "/v1/messages", {})
    assert request.headers["x-trace"] == "abc"
    assert request.headers["content-type"] == "application/json"
    assert "anthropic-version" in request.headers
    assert request.json == {"max_tokens": 10, "messages": USER, "model": MODEL}
    assert json.loads(request.body) == request.json
    assert fake.message_requests == [request]


# --- scripting ----------------------------------------------------------------------------


async def test_script_is_consumed_in_order_then_defaults_to_ok(fake_factory, sdk):
    fake = await fake_factory([Reply.text("one"), Reply.text("two")])
    client = sdk(fake)
    texts = [
        (await client.messages.create(model=MODEL, max_tokens=5, messages=USER)).content[0].text
        for _ in range(3)
    ]
    assert texts == ["one", "two", "ok"]


async def test_callable_script_sees_the_request_body(fake_factory, sdk):
    fake = await fake_factory(
        lambda body: Reply.text(f"you said {body['messages'][-1]['content']}")
    )
    message = await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert message.content[0].text == "you said hello"


# --- errors --------------------------------------------------------------------------------


async def test_rate_limit_error_with_retry_after(fake_factory, sdk):
    fake = await fake_factory([ErrorReply(429, retry_after=2, message="slow down")])
    with pytest.raises(anthropic.RateLimitError) as caught:
        await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER)

    error = caught.value
    assert error.status_code == 429
    assert error.response.headers["retry-after"] == "2"
    assert error.response.headers["request-id"].startswith("req_")
    assert error.body["type"] == "error"
    assert error.body["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert error.body["request_id"] == error.response.headers["request-id"]


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.APIStatusError, "request_too_large"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
    ],
)
async def test_error_types_follow_the_status(fake_factory, status, error_class, error_type, sdk):
    fake = await fake_factory([ErrorReply(status)])
    with pytest.raises(error_class) as caught:
        await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER, stream=True)
    assert caught.value.status_code == status
    assert caught.value.body["error"]["type"] == error_type


async def test_in_stream_error_raises_from_the_stream(fake_factory, sdk):
    fake = await fake_factory([ErrorReply(529, message="Overloaded", in_stream=True)])
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with sdk(fake).messages.stream(model=MODEL, max_tokens=5, messages=USER) as stream:
            await stream.get_final_message()

    assert caught.value.status_code == 200
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


async def test_in_stream_error_sse_sequence(fake_factory):
    fake = await fake_factory([ErrorReply(529, in_stream=True)])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    status, _, raw = await post_raw(fake, "/v1/messages", body)
    assert status == 200
    assert [name for name, _ in parse_sse(raw)] == ["message_start", "error"]


async def test_wrong_key_is_rejected(fake_factory, sdk):
    # The SDK sends auth_token as "Authorization: Bearer" in every version (api_key moved
    # from x-api-key to Bearer in SDK 2.x), so the SDK side of this test uses auth_token.
    fake = await fake_factory(api_key="right-key", auth_header="authorization")
    wrong = sdk(fake, api_key=None, auth_token="wrong-key")
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await wrong.messages.create(model=MODEL, max_tokens=5, messages=USER)

    assert caught.value.status_code == 401
    assert caught.value.body["error"]["type"] == "authentication_error"
    assert fake.requests[0].headers["authorization"] == "Bearer wrong-key"
    right = sdk(fake, api_key=None, auth_token="right-key")
    message = await right.messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert message.content[0].text == "ok"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"x-api-key": "k"}, 200),
        ({"X-Api-Key": "k"}, 200),
        ({"x-api-key": "other"}, 401),
        ({"authorization": "Bearer k"}, 401),
        ({}, 401),
    ],
)
async def test_x_api_key_auth(fake_factory, headers, status):
    fake = await fake_factory(api_key="k")
    body = {"model": MODEL, "max_tokens": 5, "messages": USER}
    assert (await post_raw(fake, "/v1/messages", body, headers))[0] == status


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": MODEL, "messages": USER}, "max_tokens: Field required"),
        ({"model": MODEL, "max_tokens": 5}, "messages: Field required"),
        ({"messages": USER, "max_tokens": 5}, "model: Field required"),
        (
            {"model": MODEL, "messages": "hi", "max_tokens": 5},
            "messages: Input should be a valid list",
        ),
        (
            {"model": MODEL, "messages": USER, "max_tokens": "5"},
            "max_tokens: Input should be a valid integer",
        ),
        ([1, 2], "Request body must be a JSON object"),
    ],
)
async def test_invalid_bodies_get_400_and_do_not_consume_the_script(fake_factory, body, message):
    fake = await fake_factory([Reply.text("scripted")])
    status, headers, raw = await post_raw(fake, "/v1/messages", body)

    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(raw)["error"] == {"type": "invalid_request_error", "message": message}
    valid = {"model": MODEL, "messages": USER, "max_tokens": 5}
    _, _, raw = await post_raw(fake, "/v1/messages", valid)
    assert json.loads(raw)["content"][0]["text"] == "scripted"


async def test_unknown_route_is_anthropic_404(fake_factory):
    fake = await fake_factory()
    status, _, raw = await post_raw(fake, "/v1/complete", {})
    assert status == 404 and json.loads(raw)["error"]["type"] == "not_found_error"


# --- raw wire format -------------------------------------------------------------------------


async def test_sse_framing_and_headers_are_anthropic_exact(fake_factory):
    fake = await fake_factory([Reply([{"type": "text", "text": "abcdefghij"}, TOOL_BLOCK])])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    status, headers, raw = await post_raw(fake, "/v1/messages", body)

    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    assert headers["request-id"].startswith("req_")
    events = parse_sse(raw)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1 and start["usage"]["input_tokens"] > 0
    assert events[2][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert events[3][1]["delta"] == {"type": "text_delta", "text": "abcdefgh"}
    tool_start = next(d for n, d in events if n == "content_block_start" and d["index"] == 1)
    assert tool_start["content_block"] == {**TOOL_BLOCK, "input": {}}
    partial = "".join(
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["index"] == 1
    )
    assert json.loads(partial) == TOOL_BLOCK["input"]
    message_delta = events[-2][1]
    assert message_delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert set(message_delta["usage"]) == {"output_tokens"}


async def test_non_streaming_json_shape(fake_factory):
    fake = await fake_factory([Reply.text("hi")])
    status, headers, raw = await post_raw(
        fake, "/v1/messages", {"model": MODEL, "max_tokens": 5, "messages": USER}
    )

    message = json.loads(raw)
    assert status == 200 and headers["content-type"] == "application/json"
    assert list(message) == [
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    ]
    assert message["content"] == [{"type": "text", "text": "hi"}]
    assert set(message["usage"]) == {"input_tokens", "output_tokens"}


async def test_no_ping_when_disabled(fake_factory):
    fake = await fake_factory([Reply.text("hi", ping=False)])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    names = [name for name, _ in parse_sse((await post_raw(fake, "/v1/messages", body))[2])]
    assert "ping" not in names


async def test_azure_path_and_query_string_are_accepted(fake_factory):
    fake = await fake_factory([Reply.text("azure")])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER}
    status, _, raw = await post_raw(fake, "/anthropic/v1/messages?api-version=2025-01-01", body)

    assert status == 200 and json.loads(raw)["content"][0]["text"] == "azure"
    assert fake.requests[0].path == "/anthropic/v1/messages"
    assert fake.requests[0].query == {"api-version": "2025-01-01"}


async def test_cut_stream_aborts_mid_body(fake_factory):
    fake = await fake_factory([CutStream(deltas=2)])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with aiohttp.ClientSession() as session:
            async with session.post(fake.base_url + "/v1/messages", json=body) as response:
                async for chunk in response.content.iter_any():
                    received += chunk
    names = [name for name, _ in parse_sse(received)]
    assert names.count("content_block_delta") == 2 and "message_stop" not in names


async def test_cut_stream_raises_in_the_sdk(fake_factory, sdk):
    fake = await fake_factory([CutStream()])
    with pytest.raises(Exception, match="incomplete chunked read"):  # httpx's RemoteProtocolError
        async with sdk(fake).messages.stream(model=MODEL, max_tokens=5, messages=USER) as stream:
            await stream.get_final_message()


async def test_cut_non_streaming_request_drops_the_connection(fake_factory, sdk):
    fake = await fake_factory([CutStream()])
    with pytest.raises(anthropic.APIConnectionError):
        await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER)


async def test_cut_stream_clean_end_has_no_stop_events(fake_factory):
    fake = await fake_factory([CutStream(deltas=0, abort=False)])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    status, _, raw = await post_raw(fake, "/v1/messages", body)
    assert status == 200
    assert [name for name, _ in parse_sse(raw)] == ["message_start", "ping", "content_block_start"]


async def test_client_disconnect_is_recorded(fake_factory):
    fake = await fake_factory([Reply.text("x" * 100, chunk_size=1, delay=0.01)])
    body = {"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True}
    async with aiohttp.ClientSession() as session:
        async with session.post(fake.base_url + "/v1/messages", json=body) as response:
            await response.content.readuntil(b"\n\n")
            response.close()
    for _ in range(100):
        if fake.requests[0].disconnected:
            break
        await asyncio.sleep(0.01)
    assert fake.requests[0].disconnected


async def test_first_byte_delay(fake_factory, sdk):
    fake = await fake_factory([Reply.text("late", first_byte_delay=0.2)])
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert loop.time() - started >= 0.2


# --- other ways to run it ----------------------------------------------------------------------


def test_run_in_thread_serves_a_sync_client():
    fake = FakeAnthropic([Reply.text("threaded")])
    base_url = fake.run_in_thread()
    try:
        with anthropic.Anthropic(base_url=base_url, api_key="k", max_retries=0) as client:
            with client.messages.stream(model=MODEL, max_tokens=5, messages=USER) as stream:
                assert stream.get_final_text() == "threaded"
    finally:
        fake.stop_thread()
    assert len(fake.requests) == 1


async def test_context_manager(sdk):
    async with FakeAnthropic() as fake:
        message = await sdk(fake).messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert message.content[0].text == "ok"


@pytest.mark.parametrize("turn", ["turn1.json", "turn2.json"])
async def test_captured_claude_code_bodies_are_accepted(fake_factory, turn):
    fake = await fake_factory([Reply.text("fine")])
    body = json.loads((FIXTURES / turn).read_text())
    status, _, raw = await post_raw(fake, "/v1/messages?beta=true", body)
    assert status == 200
    assert [name for name, _ in parse_sse(raw)][-1] == "message_stop"
