"""``POST /v1/responses`` driven by the official ``openai`` SDK through lynkr, to an
Anthropic-format and to an OpenAI-format scripted upstream: streamed events, a function call
round trip, ``previous_response_id`` from the session store, ``store: false``, reasoning items,
and errors in OpenAI's shape."""

from __future__ import annotations

import json

import openai
import pytest

from lynkr_core.testing.openai_clients import UPSTREAMS, Turn, openai_gateway
from lynkr_core.testing.plugins import RecordingSessions, inline_plugin

SHELL = {
    "type": "function",
    "name": "shell",
    "description": "Run a command",
    "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}

pytestmark = pytest.mark.parametrize("kind", ["anthropic", "openai"])


async def test_a_response_comes_back_as_json(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("hi there", usage=(30, 5))]) as gw:
        response = await gw.client.responses.create(model="m", instructions="be brief", input="hello")
        sent = gw.requests()[0]
    assert response.object == "response"
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.output_text == "hi there"
    assert response.output[0].type == "message" and response.output[0].role == "assistant"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (30, 5, 35)
    assert response.instructions == "be brief"
    if kind == "anthropic":
        assert sent["system"] == "be brief"
        assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    else:
        assert sent["messages"][0] == {"role": "system", "content": "be brief"}


async def test_a_streamed_response_sends_the_responses_events(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("streamed text", chunk_size=3)]) as gw:
        stream = await gw.client.responses.create(model="m", input="hello", stream=True)
        events = [event async for event in stream]
    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    for expected in ("response.output_item.added", "response.content_part.added", "response.output_text.done",
                     "response.content_part.done", "response.output_item.done"):
        assert expected in types
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert "".join(deltas) == "streamed text" and len(deltas) > 2
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].response.output_text == "streamed text"


async def test_a_function_call_round_trip_through_the_stream_helper(kind):
    turns = [Turn("", calls=[("call_7", "shell", {"command": "ls -la"})], chunk_size=3), Turn("two files")]
    async with openai_gateway(UPSTREAMS[kind], turns) as gw:
        async with gw.client.responses.stream(model="m", input="list files", tools=[SHELL]) as stream:
            events = [event async for event in stream]
            first = await stream.get_final_response()
        call = first.output[0]
        second = await gw.client.responses.create(
            model="m", tools=[SHELL],
            input=[
                {"role": "user", "content": "list files"},
                {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
                {"type": "function_call_output", "call_id": call.call_id, "output": "a.txt b.txt"},
            ],
        )
        sent = gw.requests()
    fragments = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == {"command": "ls -la"}
    assert (call.type, call.call_id, call.name, json.loads(call.arguments)) == (
        "function_call", "call_7", "shell", {"command": "ls -la"})
    assert second.output_text == "two files"
    if kind == "anthropic":
        assert sent[0]["tools"][0]["name"] == "shell"
        assert sent[1]["messages"][1]["content"][0]["type"] == "tool_use"
        assert sent[1]["messages"][2]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_7", "content": "a.txt b.txt"}]
    else:
        assert sent[1]["messages"][-1] == {"role": "tool", "content": "a.txt b.txt", "tool_call_id": "call_7"}


async def test_previous_response_id_continues_the_stored_conversation(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("I am Ada."), Turn("You asked my name.")]) as gw:
        first = await gw.client.responses.create(model="m", input="what is your name?")
        second = await gw.client.responses.create(model="m", input="what did I ask?",
                                                  previous_response_id=first.id)
        sent = gw.requests()[1]
    assert second.previous_response_id == first.id
    assert second.output_text == "You asked my name."
    texts = [json.dumps(message["content"]) for message in sent["messages"] if message["role"] != "system"]
    assert ["what is your name?" in texts[0], "I am Ada." in texts[1], "what did I ask?" in texts[2]] == [True] * 3


async def test_an_unknown_previous_response_id_is_a_404_in_openai_shape(kind):
    async with openai_gateway(UPSTREAMS[kind], []) as gw:
        with pytest.raises(openai.NotFoundError) as caught:
            await gw.client.responses.create(model="m", input="x", previous_response_id="resp_0000")
        assert gw.requests() == []
    assert caught.value.body["code"] == "previous_response_not_found"
    assert caught.value.body["param"] == "previous_response_id"


async def test_store_false_is_not_kept(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("not kept")]) as gw:
        first = await gw.client.responses.create(model="m", input="x", store=False)
        with pytest.raises(openai.NotFoundError):
            await gw.client.responses.create(model="m", input="y", previous_response_id=first.id)
    assert first.store is False


async def test_no_session_store_means_previous_response_id_is_a_404(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("a")], LYNKR_DISABLE_PLUGINS="lynkr-sessions") as gw:
        first = await gw.client.responses.create(model="m", input="x")
        with pytest.raises(openai.NotFoundError) as caught:
            await gw.client.responses.create(model="m", input="y", previous_response_id=first.id)
    assert "no session store" in caught.value.body["message"]


async def test_a_store_that_cannot_look_up_means_previous_response_id_is_a_404(kind):
    store = RecordingSessions()
    async with openai_gateway(UPSTREAMS[kind], [Turn("a")], plugins=[("record-only", inline_plugin(stores=[store]))],
                              LYNKR_DISABLE_PLUGINS="lynkr-sessions") as gw:
        first = await gw.client.responses.create(model="m", input="x")
        with pytest.raises(openai.NotFoundError) as caught:
            await gw.client.responses.create(model="m", input="y", previous_response_id=first.id)
    assert "cannot look responses up" in caught.value.body["message"]
    assert [exchange.session_id for exchange in store.recorded] == [first.id]  # named after the response


async def test_a_stored_response_is_recorded_under_the_clients_session_header(kind):
    store = RecordingSessions()
    async with openai_gateway(UPSTREAMS[kind], [Turn("a"), Turn("b")],
                              plugins=[("record-only", inline_plugin(stores=[store]))],
                              LYNKR_DISABLE_PLUGINS="lynkr-sessions") as gw:
        await gw.client.responses.create(model="m", input="x", extra_headers={"session-id": "codex-thread-1"})
        await gw.client.responses.create(model="m", input="y", store=False,
                                         extra_headers={"session-id": "codex-thread-1"})
    # store: false has no session: a session store skips it (lynkr-sessions does)
    assert [exchange.session_id for exchange in store.recorded] == ["codex-thread-1", None]


async def test_reasoning_comes_back_as_a_reasoning_item(kind):
    turn = Turn("42", reasoning="six times seven", chunk_size=5)
    env = {"OPENAI_MODEL": "o4-mini"} if kind == "openai" else {}
    async with openai_gateway(UPSTREAMS[kind], [turn, turn, Turn("ok")], **env) as gw:
        response = await gw.client.responses.create(
            model="claude-sonnet-4-5", input="x", reasoning={"effort": "medium"}, max_output_tokens=16000)
        stream = await gw.client.responses.create(
            model="claude-sonnet-4-5", input="x", reasoning={"effort": "medium"}, stream=True)
        events = [event async for event in stream]
        reasoning = response.output[0]
        await gw.client.responses.create(model="claude-sonnet-4-5", input=[
            {"role": "user", "content": "x"}, reasoning.model_dump(exclude_none=True),
            {"role": "assistant", "content": "42"}, {"role": "user", "content": "thanks"}])
        sent = gw.requests()
    assert reasoning.type == "reasoning"
    assert reasoning.summary[0].text == "six times seven"
    assert response.output[1].content[0].text == "42"
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == "six times seven"
    if kind == "anthropic":
        assert sent[0]["thinking"] == {"type": "enabled", "budget_tokens": 8192}
        assert reasoning.encrypted_content == "sig-1"
        assert sent[2]["messages"][1]["content"][0] == {
            "type": "thinking", "thinking": "six times seven", "signature": "sig-1"}
    else:
        assert sent[0]["reasoning_effort"] == "medium"


async def test_an_upstream_error_keeps_its_status_in_openai_shape(kind):
    from lynkr_core.testing.upstream_scripts import AnthropicScripting, OpenAIScripting

    scripting = AnthropicScripting() if kind == "anthropic" else OpenAIScripting()
    upstream = UPSTREAMS[kind]
    error_upstream = type(upstream)(upstream.name, lambda _: _fake_with(kind, scripting.error(429, "slow down")),
                                    upstream.env, upstream.requests)
    async with openai_gateway(error_upstream, []) as gw:
        with pytest.raises(openai.RateLimitError) as caught:
            await gw.client.responses.create(model="m", input="x")
        with pytest.raises(openai.RateLimitError):
            await gw.client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}],
                                                    stream=True)
    assert caught.value.body["type"] == "rate_limit_error"
    assert "slow down" in caught.value.body["message"]


def _fake_with(kind, item):
    from lynkr_core.testing.fake_anthropic import FakeAnthropic
    from lynkr_core.testing.fake_openai import FakeOpenAI
    from lynkr_core.testing.openai_clients import UPSTREAM_KEY

    if kind == "anthropic":
        return FakeAnthropic([item, item], api_key=UPSTREAM_KEY)
    return FakeOpenAI([item, item], dialect="openai", api_key=UPSTREAM_KEY)


async def test_functions_of_a_namespace_group_are_offered_and_their_calls_name_it(kind):
    group = {"type": "namespace", "name": "multi_agent_v1", "description": "sub-agents",
             "tools": [{"type": "function", "name": "close_agent", "parameters": {
                 "type": "object", "properties": {"target": {"type": "string"}}}}]}
    turns = [Turn("", calls=[("call_a", "close_agent", {"target": "a1"})], chunk_size=3)]
    async with openai_gateway(UPSTREAMS[kind], turns * 2) as gw:
        tools = [SHELL, group, {"type": "web_search"}]
        answer = await gw.client.responses.create(model="m", input="x", tools=tools)
        stream = await gw.client.responses.create(model="m", input="x", tools=tools, stream=True)
        done = [e.item for e in [event async for event in stream] if e.type == "response.output_item.done"]
        sent = gw.requests()[0]
    names = [t["name"] if kind == "anthropic" else t["function"]["name"] for t in sent["tools"]]
    assert names == ["shell", "close_agent"]  # flat; the hosted web_search left out
    for call in (answer.output[0], done[0]):
        assert (call.type, call.name, call.namespace, json.loads(call.arguments)) == (
            "function_call", "close_agent", "multi_agent_v1", {"target": "a1"})
