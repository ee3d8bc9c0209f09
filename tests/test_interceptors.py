"""Interceptors wrap each model call: they may answer by themselves (JSON or a replayed
stream), see every step of the agent loop, nest in hook order, and fail without taking the
server down. A scripted Anthropic upstream, the official SDK as the client."""

from __future__ import annotations

import asyncio
from typing import Annotated

import anthropic
import msgspec
import pytest

from lynkr_core import Interceptor, MessageAccumulator, Tool, ToolEffects, message_frames, tap
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin

UPSTREAM_KEY = "upstream-key"
ASK = [{"role": "user", "content": "what is in the notes?"}]
CLIENT_TOOL = {"name": "Read", "description": "client side read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}}}


class StoredAnswers(Interceptor):
    """A tiny cache: answers a request it has seen from the message stored for it."""

    name = "stored-answers"

    def __init__(self) -> None:
        self.stored: dict[bytes, object] = {}
        self.hits = 0

    @staticmethod
    def key(request) -> bytes:
        return msgspec.json.encode([request.model, request.messages])

    async def complete(self, request, context, call_next):
        key = self.key(request)
        if key in self.stored:
            self.hit(context)
            return self.stored[key]
        self.stored[key] = message = await call_next(request)
        return message

    def hit(self, context) -> None:
        self.hits += 1
        context.response_headers["x-stored-answer"] = "hit"
        context.steps[-1].answered_by = self.name

    async def stream(self, request, context, call_next):
        key = self.key(request)
        if key in self.stored:
            self.hit(context)
            for frame in message_frames(self.stored[key]):
                yield frame
            return
        accumulator = MessageAccumulator()
        async for frame in tap(call_next(request), accumulator.add):
            yield frame
        self.stored[key] = accumulator.message()


class StepLog(Interceptor):
    """Records every model call it wraps, and its own name on the way in (for nesting)."""

    def __init__(self, name: str, entered: list[str] | None = None) -> None:
        self.name = name
        self.entered = entered if entered is not None else []
        self.steps: list[int] = []

    async def complete(self, request, context, call_next):
        self.entered.append(self.name)
        self.steps.append(len(request.messages))
        return await call_next(request)

    async def stream(self, request, context, call_next):
        self.entered.append(self.name)
        self.steps.append(len(request.messages))
        async for frame in call_next(request):
            yield frame


class Broken(Interceptor):
    name = "broken"

    def __init__(self) -> None:
        self.armed = True

    async def complete(self, request, context, call_next):
        if self.armed:
            raise RuntimeError("interceptor bug")
        return await call_next(request)

    async def stream(self, request, context, call_next):
        if self.armed:
            raise RuntimeError("interceptor bug")
        async for frame in call_next(request):
            yield frame


class TextInput(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(description="text")]


class Upper(Tool):
    name = "lynkr_upper"
    description = "Upper-case the text."
    Input = TextInput

    def effects(self, args):
        return ToolEffects()

    async def run(self, args, context):
        return args.text.upper()


async def test_an_interceptor_answers_json_and_a_replayed_stream_from_a_stored_message(anthropic_client):
    cache = StoredAnswers()
    fake = FakeAnthropic([
        Reply([{"type": "text", "text": "The notes say hello."},
               {"type": "tool_use", "id": "toolu_9", "name": "Read", "input": {"file_path": "/n.txt"}}],
              usage={"input_tokens": 40, "output_tokens": 12}),
    ], api_key=UPSTREAM_KEY)
    seen: list = []

    def lynkr_exchange_finished(exchange):
        seen.append(exchange)

    client = await anthropic_client(fake, ("cache", inline_plugin(
        interceptors=[cache], hooks={"lynkr_exchange_finished": lynkr_exchange_finished})))

    first = await client.messages.with_raw_response.create(model="m", max_tokens=50, messages=ASK,
                                                           tools=[CLIENT_TOOL])
    again = await client.messages.with_raw_response.create(model="m", max_tokens=50, messages=ASK,
                                                           tools=[CLIENT_TOOL])
    async with client.messages.stream(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL]) as stream:
        replayed = await stream.get_final_message()
        replay_headers = stream.response.headers

    assert len(fake.message_requests) == 1 and cache.hits == 2
    assert "x-stored-answer" not in first.headers
    assert again.headers["x-stored-answer"] == replay_headers["x-stored-answer"] == "hit"
    first, again = await first.parse(), await again.parse()
    assert again.model_dump() == first.model_dump()
    assert replayed.model_dump() == first.model_dump()
    assert replayed.content[1].input == {"file_path": "/n.txt"}
    for _ in range(100):
        if len(seen) == 3:
            break
        await asyncio.sleep(0.01)
    assert [e.steps[0].answered_by for e in seen] == [None, "stored-answers", "stored-answers"]
    assert [len(e.attempts) for e in seen] == [1, 0, 0]
    assert seen[2].response.content == seen[0].response.content  # the replay, rebuilt from its frames
    assert (replayed.usage.input_tokens, replayed.usage.output_tokens) == (40, 12)


async def test_a_stream_stored_by_an_interceptor_replays_as_the_same_message(anthropic_client):
    cache = StoredAnswers()
    fake = FakeAnthropic([Reply.text("streamed once, replayed after", chunk_size=3)], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("cache", inline_plugin(interceptors=[cache])))

    async with client.messages.stream(model="m", max_tokens=50, messages=ASK) as stream:
        live = await stream.get_final_message()
    async with client.messages.stream(model="m", max_tokens=50, messages=ASK) as stream:
        replayed = await stream.get_final_message()

    assert len(fake.message_requests) == 1 and cache.hits == 1
    assert replayed.model_dump() == live.model_dump()
    assert replayed.content[0].text == "streamed once, replayed after"


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_interceptor_sees_every_step_of_the_agent_loop(anthropic_client, streamed):
    steps = StepLog("steps")
    fake = FakeAnthropic([
        Reply([{"type": "tool_use", "id": "toolu_1", "name": "lynkr_upper", "input": {"text": "hi"}}]),
        Reply.text("It says HI."),
    ], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("tools", inline_plugin(tools=[Upper()], interceptors=[steps])))

    request = dict(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])
    if streamed:
        async with client.messages.stream(**request) as stream:
            message = await stream.get_final_message()
    else:
        message = await client.messages.create(**request)

    assert message.content[-1].text == "It says HI."
    assert steps.steps == [1, 3]  # the question; then question, tool call, tool result


async def test_interceptors_nest_in_hook_order_tryfirst_and_trylast_honoured(anthropic_client):
    entered: list[str] = []
    plugins = [
        ("late", inline_plugin(interceptors=[StepLog("late", entered)], trylast=True)),
        ("b1", inline_plugin(interceptors=[StepLog("b1", entered)])),
        ("b2", inline_plugin(interceptors=[StepLog("b2", entered)])),
        ("early", inline_plugin(interceptors=[StepLog("early", entered)], tryfirst=True)),
    ]
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, *plugins)

    await client.messages.create(model="m", max_tokens=50, messages=ASK)
    async with client.messages.stream(model="m", max_tokens=50, messages=ASK) as stream:
        await stream.get_final_message()

    # tryfirst outermost, then the plugin registered last, ..., trylast innermost
    assert entered == ["early", "b2", "b1", "late"] * 2


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_raising_interceptor_is_an_anthropic_500_and_the_server_keeps_serving(anthropic_client, streamed):
    broken = Broken()
    fake = FakeAnthropic([Reply.text("fine again")], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("broken", inline_plugin(interceptors=[broken])))

    with pytest.raises(anthropic.InternalServerError) as failure:
        if streamed:
            async with client.messages.stream(model="m", max_tokens=50, messages=ASK) as stream:
                await stream.get_final_message()
        else:
            await client.messages.create(model="m", max_tokens=50, messages=ASK)
    assert failure.value.status_code == 500
    assert failure.value.body["type"] == "error"
    assert failure.value.body["error"]["type"] == "api_error"
    assert "internal error in lynkr (RuntimeError)" in failure.value.body["error"]["message"]
    assert fake.message_requests == []

    broken.armed = False
    message = await client.messages.create(model="m", max_tokens=50, messages=ASK)
    assert message.content[0].text == "fine again"
