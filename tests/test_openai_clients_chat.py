"""``POST /v1/chat/completions`` driven by the official ``openai`` SDK through lynkr, to an
Anthropic-format and to an OpenAI-format scripted upstream: JSON and streamed answers, tools
and parallel tool calls (argument fragments streamed as they arrive), structured output,
reasoning, the options' translation, and errors in OpenAI's shape."""

from __future__ import annotations

import json

import openai
import pytest

from lynkr_core.testing.openai_clients import UPSTREAMS, Turn, openai_gateway

HELLO = [{"role": "user", "content": "hello"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TWO_CALLS = [("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_weather", {"city": "Oslo"})]

pytestmark = pytest.mark.parametrize("kind", ["anthropic", "openai"])


def _sent_messages(gw) -> list[dict]:
    return gw.requests()[-1]["messages"]


async def test_a_chat_completion_comes_back_as_json(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("hi there", usage=(21, 7))]) as gw:
        answer = await gw.client.chat.completions.create(
            model="claude-sonnet-4-5", messages=[{"role": "system", "content": "be brief"}, *HELLO]
        )
        sent = gw.requests()[0]
    assert answer.object == "chat.completion"
    assert answer.model == "claude-sonnet-4-5"
    assert answer.choices[0].message.content == "hi there"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (21, 7, 28)
    if kind == "anthropic":
        assert sent["system"] == "be brief"
        assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    else:
        assert sent["messages"][0] == {"role": "system", "content": "be brief"}
        assert sent["messages"][1]["role"] == "user"


async def test_a_streamed_chat_completion_arrives_in_chunks_with_usage(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("streamed answer", chunk_size=3)]) as gw:
        stream = await gw.client.chat.completions.create(
            model="m", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "streamed answer"
    assert len(texts) > 2  # as it arrived, not in one piece
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 7


async def test_a_stream_without_include_usage_sends_no_usage_chunk(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("x")]) as gw:
        stream = await gw.client.chat.completions.create(model="m", messages=HELLO, stream=True)
        chunks = [chunk async for chunk in stream]
    assert all(c.choices for c in chunks)


async def test_parallel_tool_calls_and_their_results_round_trip(kind):
    turns = [Turn("", calls=TWO_CALLS), Turn("Paris 20C, Oslo 5C")]
    async with openai_gateway(UPSTREAMS[kind], turns) as gw:
        first = await gw.client.chat.completions.create(
            model="m", messages=HELLO, tools=[WEATHER], tool_choice="auto"
        )
        message = first.choices[0].message
        calls = message.tool_calls
        history = [
            *HELLO,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": calls[0].id, "content": "20C"},
            {"role": "tool", "tool_call_id": calls[1].id, "content": "5C"},
        ]
        second = await gw.client.chat.completions.create(model="m", messages=history, tools=[WEATHER])
        sent = gw.requests()
    assert first.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_weather", {"city": "Oslo"})]
    assert second.choices[0].message.content == "Paris 20C, Oslo 5C"
    if kind == "anthropic":
        assert sent[0]["tools"][0]["name"] == "get_weather"
        assert sent[0]["tool_choice"] == {"type": "auto"}
        results = sent[1]["messages"][2]["content"]
        assert [(r["type"], r["tool_use_id"], r["content"]) for r in results] == [
            ("tool_result", "call_1", "20C"), ("tool_result", "call_2", "5C")]
    else:
        assert sent[0]["tools"][0]["function"]["name"] == "get_weather"
        tool_messages = [m for m in sent[1]["messages"] if m["role"] == "tool"]
        assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [("call_1", "20C"), ("call_2", "5C")]


async def test_streamed_tool_calls_send_argument_fragments_as_they_arrive(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("Let me look.", calls=TWO_CALLS, chunk_size=3)]) as gw:
        stream = await gw.client.chat.completions.create(
            model="m", messages=HELLO, tools=[WEATHER], stream=True
        )
        chunks = [chunk async for chunk in stream]
    fragments: dict[int, list[str]] = {}
    starts = {}
    for chunk in chunks:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if call.id:
                starts[call.index] = (call.id, call.function.name)
            if call.function and call.function.arguments:
                fragments.setdefault(call.index, []).append(call.function.arguments)
    assert starts == {0: ("call_1", "get_weather"), 1: ("call_2", "get_weather")}
    assert json.loads("".join(fragments[0])) == {"city": "Paris"}
    assert json.loads("".join(fragments[1])) == {"city": "Oslo"}
    assert len(fragments[0]) > 1  # fragments, not the whole arguments at the end
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Let me look."
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


async def test_the_sdk_stream_helper_assembles_tool_calls(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("", calls=TWO_CALLS[:1], chunk_size=2)]) as gw:
        async with gw.client.chat.completions.stream(model="m", messages=HELLO, tools=[WEATHER]) as stream:
            async for _ in stream:
                pass
            final = await stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("call_1", "get_weather", {"city": "Paris"})


async def test_json_schema_output_is_parsed_by_the_sdk(kind):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    async with openai_gateway(UPSTREAMS[kind], [Turn('{"city": "Paris"}')]) as gw:
        answer = await gw.client.chat.completions.create(
            model="m", messages=HELLO,
            response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": True}},
        )
        sent = gw.requests()[0]
    assert json.loads(answer.choices[0].message.content) == {"city": "Paris"}
    if kind == "anthropic":
        assert sent["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    else:
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["schema"]["properties"] == schema["properties"]


async def test_json_object_format_asks_for_json_in_the_system_prompt(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn('{"ok": true}')]) as gw:
        answer = await gw.client.chat.completions.create(
            model="m", messages=HELLO, response_format={"type": "json_object"})
        sent = gw.requests()[0]
    assert json.loads(answer.choices[0].message.content) == {"ok": True}
    system = sent["system"] if kind == "anthropic" else sent["messages"][0]["content"]
    assert "JSON object" in system


async def test_reasoning_effort_becomes_thinking_and_comes_back_as_reasoning_content(kind):
    turn = Turn("42", reasoning="six times seven")
    reasoning_model = {"OPENAI_MODEL": "o4-mini"} if kind == "openai" else {}
    async with openai_gateway(UPSTREAMS[kind], [turn, turn], **reasoning_model) as gw:
        answer = await gw.client.chat.completions.create(
            model="claude-sonnet-4-5", messages=HELLO, reasoning_effort="low", max_completion_tokens=4000)
        stream = await gw.client.chat.completions.create(
            model="claude-sonnet-4-5", messages=HELLO, reasoning_effort="low", max_completion_tokens=4000,
            stream=True)
        chunks = [chunk async for chunk in stream]
        sent = gw.requests()[0]
    message = answer.choices[0].message
    assert message.content == "42"
    assert message.model_extra["reasoning_content"] == "six times seven"
    streamed = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
                       for c in chunks if c.choices)
    assert streamed == "six times seven"
    if kind == "anthropic":
        assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert sent["max_tokens"] == 4000
    else:
        assert sent["reasoning_effort"] == "low"


async def test_stop_max_tokens_and_user_are_passed_on(kind):
    async with openai_gateway(UPSTREAMS[kind], [Turn("a")]) as gw:
        await gw.client.chat.completions.create(
            model="m", messages=HELLO, stop=["END"], max_tokens=77, user="alice", temperature=0.5)
        sent = gw.requests()[0]
    if kind == "anthropic":
        assert (sent["stop_sequences"], sent["max_tokens"], sent["metadata"]) == (["END"], 77, {"user_id": "alice"})
        assert sent["temperature"] == 0.5
    else:
        assert (sent["stop"], sent["max_tokens"], sent["user"]) == (["END"], 77, "alice")


async def test_images_are_sent_as_images(kind):
    image = "data:image/png;base64,iVBORw0KGgo="
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": image}}]
    async with openai_gateway(UPSTREAMS[kind], [Turn("a picture")]) as gw:
        await gw.client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": content}])
        sent = gw.requests()[0]
    parts = sent["messages"][-1]["content"]
    if kind == "anthropic":
        assert parts[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                        "data": "iVBORw0KGgo="}}
    else:
        assert parts[1] == {"type": "image_url", "image_url": {"url": image}}


async def test_n_other_than_one_is_a_clear_400_in_openai_shape(kind):
    async with openai_gateway(UPSTREAMS[kind], []) as gw:
        with pytest.raises(openai.BadRequestError) as caught:
            await gw.client.chat.completions.create(model="m", messages=HELLO, n=2)
        assert gw.requests() == []
    assert caught.value.status_code == 400
    assert caught.value.body["type"] == "invalid_request_error"
    assert "n=1" in caught.value.body["message"]


async def test_a_malformed_request_is_a_400_naming_the_place(kind):
    async with openai_gateway(UPSTREAMS[kind], []) as gw:
        with pytest.raises(openai.BadRequestError) as caught:
            await gw.client.chat.completions.create(model="m", messages=[{"role": "wizard", "content": "x"}])
    assert "messages[0].role" in caught.value.body["message"]


@pytest.mark.parametrize("stream", [False, True])
async def test_server_mode_runs_lynkrs_tools_and_the_client_sees_the_answer(kind, stream, tmp_path):
    """lynkr offers its tools next to the client's (only to a request that declares tools)."""
    (tmp_path / "notes.txt").write_text("the secret word is heron\n")
    turns = [Turn("", calls=[("call_r", "workspace_read", {"path": "notes.txt"})]), Turn("It says heron.")]
    async with openai_gateway(UPSTREAMS[kind], turns, TOOL_EXECUTION_MODE="server",
                              WORKSPACE_ROOT=str(tmp_path)) as gw:
        if stream:
            chunks = [c async for c in await gw.client.chat.completions.create(
                model="m", messages=HELLO, tools=[WEATHER], stream=True)]
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            calls = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls]
            finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        else:
            answer = await gw.client.chat.completions.create(model="m", messages=HELLO, tools=[WEATHER])
            text, calls = answer.choices[0].message.content, answer.choices[0].message.tool_calls or []
            finish = [answer.choices[0].finish_reason]
        sent = gw.requests()
    assert "It says heron." in text
    assert calls == [] and finish == ["stop"]  # lynkr ran its own tool; the client saw none
    assert len(sent) == 2 and "heron" in json.dumps(sent[1]["messages"])
    offered = [t["name"] if kind == "anthropic" else t["function"]["name"] for t in sent[0]["tools"]]
    assert "get_weather" in offered and "workspace_read" in offered
