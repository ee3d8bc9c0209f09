"""The record ``lynkr_exchange_finished`` receives: every step with its request, answer,
attempts (a failover included) and tool calls (a denied one included), the session id,
the client's headers without credentials, usage added up."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from lynkr_core import ToolError
from lynkr_core.client_headers import session_id_for
from lynkr_core.testing.exchange_parts import WHISPER_DENIAL, UpperTool, recording_plugin
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.faults import eventually
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.wire.anthropic import decode_request

UPSTREAM_KEY = "upstream-key"
ASK = [{"role": "user", "content": "shout the notes"}]
CLIENT_TOOL = {"name": "Read", "description": "client side read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}}}


def observer(seen: list):
    async def lynkr_exchange_finished(exchange):
        seen.append(exchange)

    return recording_plugin(lynkr_exchange_finished=lynkr_exchange_finished)[1]


async def finished(seen: list, count: int) -> None:
    assert await eventually(lambda: len(seen) >= count), f"{len(seen)} exchanges seen, expected {count}"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_server_mode_exchange_records_steps_attempts_failover_and_tool_calls(anthropic_client, streamed):
    fake = FakeAnthropic([
        ErrorReply(529, message="overloaded right now"),
        Reply([{"type": "text", "text": "On it."},
               {"type": "tool_use", "id": "toolu_w", "name": "lynkr_whisper", "input": {"text": "Hi"}},
               {"type": "tool_use", "id": "toolu_u", "name": "lynkr_upper", "input": {"text": "hi"}}],
              usage={"input_tokens": 100, "output_tokens": 20}),
        Reply.text("HI, and no whispering.", usage={"input_tokens": 150, "output_tokens": 7}),
    ], api_key=UPSTREAM_KEY)
    seen: list = []
    client = await anthropic_client(fake, ("observer", observer(seen)), headers={"X-Claude-Code-Session-Id": "sess-42"},
                                    FALLBACK_PROVIDER="anthropic:fallback-model")

    request = dict(model="claude-x", max_tokens=100, messages=ASK, tools=[CLIENT_TOOL])
    if streamed:
        async with client.messages.stream(**request) as stream:
            message = await stream.get_final_message()
    else:
        message = await client.messages.create(**request)
    await finished(seen, 1)

    assert message.content[-1].text == "HI, and no whispering."
    (exchange,) = seen
    assert exchange.streamed is streamed and exchange.status == 200
    assert exchange.session_id == "sess-42"
    headers = exchange.context.client_headers
    assert headers["x-claude-code-session-id"] == "sess-42"
    assert "authorization" not in headers and "x-api-key" not in headers
    assert "client-secret" not in repr(headers)

    first, second = exchange.steps
    assert [(a.provider, a.model, a.status, a.error_type) for a in first.attempts] == [
        ("anthropic", "", 529, "overloaded_error"), ("anthropic", "fallback-model", 200, None)]
    assert first.attempts[0].error == "overloaded right now"
    assert [(a.provider, a.model, a.status) for a in second.attempts] == [("anthropic", "", 200)]
    assert fake.message_requests[1].json["model"] == "fallback-model"
    if streamed:
        assert all(a.time_to_first_token is not None for a in exchange.attempts if a.status == 200)

    whisper, upper = first.tool_calls
    assert (whisper.name, whisper.refused, whisper.denied_by, whisper.is_error) == (
        "lynkr_whisper", True, "no-whispers", True)
    assert WHISPER_DENIAL in whisper.result
    assert (upper.name, upper.input, upper.result, upper.refused, upper.is_error, upper.read_only) == (
        "lynkr_upper", {"text": "hi"}, "HI", False, False, True)
    assert whisper.read_only is True  # its declared effects, though a policy refused it
    assert second.tool_calls == []

    assert len(first.request.messages) == 1 and len(second.request.messages) == 3
    assert [b["type"] for b in map(msgspec.json.decode, first.response.content)] == ["text", "tool_use", "tool_use"]
    assert second.response.text() == "HI, and no whispering."
    assert [b["text"] for b in map(msgspec.json.decode, exchange.response.content)] == [
        "On it.", "HI, and no whispering."]  # the client's message: lynkr's tool calls left out
    usage = exchange.usage()
    assert (usage.input_tokens, usage.output_tokens) == (250, 27)
    assert exchange.client_request is not None and exchange.tool_calls == [whisper, upper]


class SlowTool(UpperTool):
    """``lynkr_slow``: outlasts the tool time limit."""

    name = "lynkr_slow"

    async def run(self, args, context):
        await asyncio.sleep(30)


class TimeoutTalkTool(UpperTool):
    """``lynkr_talker``: fails with a message that reads like a timeout, without one."""

    name = "lynkr_talker"

    async def run(self, args, context):
        raise ToolError("lynkr_talker timed out after 5 s (its own words)")


async def test_a_tool_call_past_the_time_limit_is_a_timeout_and_a_message_alone_is_not(anthropic_client):
    fake = FakeAnthropic([
        Reply([{"type": "tool_use", "id": "toolu_s", "name": "lynkr_slow", "input": {"text": "a"}},
               {"type": "tool_use", "id": "toolu_t", "name": "lynkr_talker", "input": {"text": "b"}},
               {"type": "tool_use", "id": "toolu_u", "name": "lynkr_upper", "input": {"text": "c"}}]),
        Reply.text("done"),
    ], api_key=UPSTREAM_KEY)
    seen: list = []
    client = await anthropic_client(fake, ("observer", observer(seen)),  # lynkr_upper among its tools
                                    ("slow-tools", inline_plugin(tools=[SlowTool(), TimeoutTalkTool()])),
                                    LYNKR_TOOL_TIMEOUT_SECONDS="0.2")
    await client.messages.create(model="claude-x", max_tokens=100, messages=ASK, tools=[CLIENT_TOOL])
    await finished(seen, 1)

    slow, talker, upper = seen[0].steps[0].tool_calls
    assert (slow.timed_out, slow.outcome) == (True, "timeout") and "timed out after 0.2 s" in slow.result
    assert (talker.timed_out, talker.is_error, talker.outcome) == (False, True, "error")
    assert (upper.timed_out, upper.outcome) == (False, "ok")
    assert [attempt.outcome for step in seen[0].steps for attempt in step.attempts] == ["ok", "ok"]


async def test_the_session_id_comes_from_claude_codes_metadata_when_the_header_is_missing(anthropic_client):
    seen: list = []
    client = await anthropic_client(FakeAnthropic([Reply.text("ok")], api_key=UPSTREAM_KEY),
                                    ("observer", observer(seen)))
    user_id = '{"device_id":"ab12","account_uuid":"","session_id":"5f0c8f4e-1111-4a2b-9c3d-222233334444"}'
    await client.messages.create(model="m", max_tokens=5, messages=ASK, metadata={"user_id": user_id})
    await finished(seen, 1)
    assert seen[0].session_id == "5f0c8f4e-1111-4a2b-9c3d-222233334444"


def body(**fields) -> object:
    return decode_request(msgspec.json.encode({"model": "m", "max_tokens": 1, "messages": ASK, **fields}))


@pytest.mark.parametrize(("headers", "fields", "expected"), [
    ({"x-claude-code-session-id": "abc-1"}, {}, "abc-1"),
    ({"x-claude-code-session-id": "../../etc/passwd"}, {}, None),
    ({"x-claude-code-session-id": "x" * 500}, {"metadata": {"user_id": '{"session_id":"s-2"}'}}, "s-2"),
    ({}, {"metadata": {"user_id": "user_9f_account__session_1e2d3c4b-aaaa-bbbb-cccc-ddddeeeeffff"}},
     "1e2d3c4b-aaaa-bbbb-cccc-ddddeeeeffff"),
    ({}, {}, None),
    ({}, {"metadata": {"user_id": None}}, None),
])
def test_session_ids_are_taken_only_when_safe(headers, fields, expected):
    assert session_id_for(headers, body(**fields)) == expected


def test_any_other_user_id_gives_a_stable_digest_not_the_id_itself():
    first = session_id_for({}, body(metadata={"user_id": "alice@example.com"}))
    assert first == session_id_for({}, body(metadata={"user_id": "alice@example.com"}))
    assert first != session_id_for({}, body(metadata={"user_id": "bob@example.com"}))
    assert first.startswith("user-") and "alice" not in first


async def test_an_interceptor_can_ask_where_routing_would_send_a_request(anthropic_client):
    from lynkr_core import Interceptor

    routes: list = []

    class Where(Interceptor):
        name = "where"

        async def complete(self, request, context, call_next):
            routes.append(context.route(request))
            return await call_next(request)

    client = await anthropic_client(
        FakeAnthropic([Reply.text("ok"), Reply.text("ok")], api_key=UPSTREAM_KEY),
        ("where", inline_plugin(interceptors=[Where()])),
        LYNKR_MODEL_ROUTES="haiku=anthropic:small-model", FALLBACK_PROVIDER="anthropic:backup")
    await client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=ASK)
    await client.messages.create(model="claude-opus-4-1", max_tokens=5, messages=ASK)
    assert routes == [[("anthropic", "small-model"), ("anthropic", "backup")],
                      [("anthropic", ""), ("anthropic", "backup")]]
