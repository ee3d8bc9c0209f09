"""The server-side agent loop through the app: a scripted Anthropic upstream, lynkr with
tools from an inline plugin, the official SDK as the client."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Annotated, Any

import aiohttp
import anthropic
import lynkr_provider_anthropic
import msgspec
import pytest

from lynkr_core import Denial, Policy, Tool, ToolEffects, ToolError, hookimpl
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.wire.sse import SSEParser

UPSTREAM_KEY = "upstream-key"
CLIENT_TOOL = {"name": "Read", "description": "client side read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}
ASK = [{"role": "user", "content": "please look at notes"}]


class TextInput(msgspec.Struct, kw_only=True):
    text: Annotated[str, msgspec.Meta(description="What to echo")]


class Echo(Tool):
    name = "lynkr_echo"
    description = "Echo the text back, upper-cased."
    Input = TextInput

    def __init__(self) -> None:
        self.calls: list[str] = []

    def effects(self, args: TextInput) -> ToolEffects:
        return ToolEffects()  # reads nothing, changes nothing

    async def run(self, args: TextInput, context) -> str:
        self.calls.append(args.text)
        return args.text.upper()


class Slow(Tool):
    name = "lynkr_slow"
    description = "Takes a while."
    Input = TextInput

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.started = asyncio.Event()

    def effects(self, args: TextInput) -> ToolEffects:
        return ToolEffects(actions=frozenset({"test.slow"}))

    async def run(self, args: TextInput, context) -> str:
        self.started.set()
        try:
            await asyncio.sleep(float(args.text))
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "slept"


class Broken(Tool):
    name = "lynkr_broken"
    description = "Always fails."
    Input = TextInput

    def effects(self, args: TextInput) -> ToolEffects:
        return ToolEffects()

    async def run(self, args: TextInput, context) -> str:
        if args.text == "expected":
            raise ToolError("the thing is missing")
        raise RuntimeError("boom")


class DenyEcho(Policy):
    name = "deny-echo"

    async def check_tool(self, call, context):
        if call.name == "lynkr_echo":
            return Denial("echo is not allowed here")
        return None


def tools_plugin(*tools: Tool, policies: tuple[Policy, ...] = ()):
    @hookimpl
    def lynkr_register_tools(register, settings):
        for tool in tools:
            register(tool)

    @hookimpl
    def lynkr_register_policies(register, settings):
        for policy in policies:
            register(policy)

    return SimpleNamespace(lynkr_register_tools=lynkr_register_tools,
                           lynkr_register_policies=lynkr_register_policies)


async def gateway(after_test, fake: FakeAnthropic, *tools: Tool, policies=(), ping=None, **env: str):
    await after_test.enter_async_context(fake)
    settings = {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        **env,
    }
    app = make_test_app(
        settings,
        plugins=[("lynkr-provider-anthropic", lynkr_provider_anthropic),
                 ("test-tools", tools_plugin(*tools, policies=policies))],
        load_entry_points=False,
    )
    if ping is not None:
        app.state.pipeline.agent.ping_interval = ping
    url = await after_test.enter_async_context(serving(app))
    client = anthropic.AsyncAnthropic(base_url=url, api_key="client", max_retries=0)
    after_test.push_async_callback(client.close)
    return client


def tool_use(name: str, tool_input: dict[str, Any], id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": tool_input}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def advertised(request) -> list[str]:
    return [tool["name"] for tool in request.json.get("tools", [])]


async def test_json_loop_runs_lynkr_tools_and_returns_one_message(after_test):
    echo = Echo()
    fake = FakeAnthropic([
        Reply([text("Let me echo."), tool_use("lynkr_echo", {"text": "hi"}, "toolu_a")],
              usage={"input_tokens": 100, "output_tokens": 10}),
        Reply.text("It said HI.", usage={"input_tokens": 130, "output_tokens": 5}),
    ], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo)

    message = await client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=ASK,
                                           tools=[CLIENT_TOOL])

    assert echo.calls == ["hi"]
    assert [block.type for block in message.content] == ["text", "text"]
    assert message.content[0].text == "Let me echo." and message.content[1].text == "It said HI."
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (230, 15)
    first, second = fake.message_requests
    assert advertised(first) == ["Read", "lynkr_echo"]
    assert second.json["messages"][-2] == {
        "role": "assistant",
        "content": [text("Let me echo."), tool_use("lynkr_echo", {"text": "hi"}, "toolu_a")],
    }
    assert second.json["messages"][-1] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "HI"}],
    }


async def test_stream_loop_is_one_well_formed_message(after_test):
    echo = Echo()
    fake = FakeAnthropic([
        Reply([text("Checking."), tool_use("lynkr_echo", {"text": "a"}, "toolu_1"),
               tool_use("lynkr_echo", {"text": "b"}, "toolu_2")], chunk_size=3),
        Reply([text("Both done.")], chunk_size=4),
    ], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo)

    events = []
    async with client.messages.stream(model="claude-sonnet-4-6", max_tokens=100, messages=ASK, tools=[CLIENT_TOOL]) as stream:
        async for event in stream:
            events.append(event)
        message = await stream.get_final_message()

    assert sorted(echo.calls) == ["a", "b"]
    assert [block.type for block in message.content] == ["text", "text"]
    assert [block.text for block in message.content] == ["Checking.", "Both done."]
    assert message.stop_reason == "end_turn"
    kinds = [event.type for event in events if event.type not in ("text", "ping")]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("message_start") == 1 and kinds.count("message_stop") == 1
    starts = [e.index for e in events if e.type == "content_block_start"]
    stops = [e.index for e in events if e.type == "content_block_stop"]
    assert starts == stops == [0, 1]
    results = fake.message_requests[1].json["messages"][-1]["content"]
    assert [r["content"] for r in results] == ["A", "B"]


async def test_a_step_with_a_client_tool_goes_back_to_the_client(after_test):
    echo = Echo()
    fake = FakeAnthropic([
        Reply([tool_use("lynkr_echo", {"text": "x"}, "toolu_ours"),
               tool_use("Read", {"file_path": "a.txt"}, "toolu_client")]),
    ] * 2, api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo)

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])
    async with client.messages.stream(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL]) as stream:
        streamed = await stream.get_final_message()

    for answer in (message, streamed):
        assert [(b.type, b.name) for b in answer.content] == [("tool_use", "Read")]
        assert answer.stop_reason == "tool_use"
    assert echo.calls == []
    assert len(fake.message_requests) == 2


async def test_an_answer_without_lynkr_tools_is_passed_on_unchanged(after_test):
    fake = FakeAnthropic([Reply([text("plain")], usage={"input_tokens": 7, "output_tokens": 3})] * 2,
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Echo())

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])
    async with client.messages.stream(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL]) as stream:
        streamed = await stream.get_final_message()

    for answer in (message, streamed):
        assert answer.content[0].text == "plain"
        assert (answer.usage.input_tokens, answer.usage.output_tokens) == (7, 3)


@pytest.mark.parametrize("streamed", [False, True])
async def test_the_step_limit_ends_the_turn_with_a_note(after_test, streamed):
    echo = Echo()
    fake = FakeAnthropic(lambda body: Reply([tool_use("lynkr_echo", {"text": "again"}, "toolu_x")]),
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo, POLICY_MAX_STEPS="3")

    if streamed:
        async with client.messages.stream(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL]) as stream:
            message = await stream.get_final_message()
    else:
        message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])

    assert len(fake.message_requests) == 3
    assert len(echo.calls) == 2
    assert message.stop_reason == "end_turn"
    assert "POLICY_MAX_STEPS=3" in message.content[-1].text


async def test_a_denied_call_reaches_the_model_as_an_error_result(after_test):
    echo = Echo()
    fake = FakeAnthropic([Reply.tool_use("lynkr_echo", {"text": "hi"}), Reply.text("ok, denied")],
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo, policies=(DenyEcho(),))

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])

    assert message.content[0].text == "ok, denied"
    assert echo.calls == []
    result = fake.message_requests[1].json["messages"][-1]["content"][0]
    assert result["is_error"] is True
    assert "denied by policy 'deny-echo': echo is not allowed here" in result["content"]


@pytest.mark.parametrize(("tool_input", "expected"), [
    ({"text": "expected"}, "the thing is missing"),
    ({"text": "crash"}, "lynkr_broken failed: RuntimeError: boom"),
    ({"wrong": 1}, "invalid input"),
])
async def test_failing_tools_become_error_results(after_test, tool_input, expected):
    fake = FakeAnthropic([Reply.tool_use("lynkr_broken", tool_input), Reply.text("noted")],
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Broken())

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])

    assert message.content[0].text == "noted"
    result = fake.message_requests[1].json["messages"][-1]["content"][0]
    assert result["is_error"] is True and expected in result["content"]


@pytest.mark.parametrize("mode", ["client", "passthrough"])
async def test_client_mode_advertises_nothing_and_returns_every_call(after_test, mode):
    echo = Echo()
    fake = FakeAnthropic([Reply.tool_use("lynkr_echo", {"text": "hi"})], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo, TOOL_EXECUTION_MODE=mode)

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL])

    assert advertised(fake.message_requests[0]) == ["Read"]
    assert message.content[0].type == "tool_use" and message.stop_reason == "tool_use"
    assert echo.calls == []


@pytest.mark.parametrize("options", [
    {},
    {"tools": []},
    {"tools": [CLIENT_TOOL], "tool_choice": {"type": "none"}},
])
async def test_a_request_without_tools_of_its_own_is_offered_none(after_test, options):
    fake = FakeAnthropic([Reply.text("a plain answer")], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Echo())

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, **options)

    assert message.content[0].text == "a plain answer"
    assert [name for name in advertised(fake.message_requests[0]) if name.startswith("lynkr_")] == []


async def test_a_client_tool_with_the_same_name_wins(after_test):
    echo = Echo()
    clash = {**CLIENT_TOOL, "name": "lynkr_echo"}
    fake = FakeAnthropic([Reply.tool_use("lynkr_echo", {"text": "hi"})], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, echo, Slow())

    message = await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[clash])

    assert advertised(fake.message_requests[0]) == ["lynkr_echo", "lynkr_slow"]
    assert fake.message_requests[0].json["tools"][0]["description"] == "client side read"
    assert message.content[0].type == "tool_use" and echo.calls == []


async def test_a_forced_tool_choice_becomes_auto_after_the_first_step(after_test):
    fake = FakeAnthropic([Reply.tool_use("lynkr_echo", {"text": "hi"}), Reply.text("done")],
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Echo())

    await client.messages.create(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL],
                                 tool_choice={"type": "any", "disable_parallel_tool_use": True})

    first, second = fake.message_requests
    assert first.json["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert second.json["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


async def test_pings_keep_the_stream_alive_while_tools_run(after_test):
    fake = FakeAnthropic([Reply.tool_use("lynkr_slow", {"text": "0.35"}, ping=False), Reply.text("rested", ping=False)],
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Slow(), ping=0.1)

    async with aiohttp.ClientSession() as http, http.post(
        f"{str(client.base_url).rstrip('/')}/v1/messages", json={"model": "m", "max_tokens": 50, "messages": ASK, "stream": True,
                  "tools": [CLIENT_TOOL]},
    ) as response:
        events = [event.event for event in SSEParser().feed(await response.read())]

    assert events.count("ping") >= 2
    assert events[0] == "message_start" and events[-1] == "message_stop"


async def test_a_client_leaving_during_a_tool_cancels_it(after_test):
    slow = Slow()
    fake = FakeAnthropic([Reply([text("working"), tool_use("lynkr_slow", {"text": "30"}, "toolu_s")], ping=False)],
                         api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, slow, ping=0.05)

    async with aiohttp.ClientSession() as http, http.post(
        f"{str(client.base_url).rstrip('/')}/v1/messages", json={"model": "m", "max_tokens": 50, "messages": ASK, "stream": True,
                  "tools": [CLIENT_TOOL]},
    ) as response:
        async for line in response.content:
            if line.startswith(b"event: ping"):
                break
    assert slow.started.is_set()

    await asyncio.wait_for(slow.cancelled.wait(), timeout=2)


async def test_an_upstream_failure_in_a_later_step_ends_the_stream_with_an_error(after_test):
    fake = FakeAnthropic([Reply([text("first"), tool_use("lynkr_echo", {"text": "x"}, "toolu_e")]),
                          ErrorReply(529, message="busy")], api_key=UPSTREAM_KEY)
    client = await gateway(after_test, fake, Echo())

    seen = []
    with pytest.raises(anthropic.APIStatusError) as failure:
        async with client.messages.stream(model="m", max_tokens=50, messages=ASK, tools=[CLIENT_TOOL]) as stream:
            async for event in stream:
                seen.append(event.type)

    assert "busy" in str(failure.value)
    assert "text" in seen
