"""The fake OpenAI-format upstreams speak each provider's wire format exactly enough."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import openai
import pytest

from lynkr_core.testing.fake_openai import (
    DIALECTS,
    ChatReply,
    CutStream,
    ErrorReply,
    FakeOpenAI,
    ToolCallSpec,
)
from lynkr_core.wire.openai import decode_chunk, decode_completion

MODEL = "gpt-4o-mini"
USER = [{"role": "user", "content": "create hello.txt"}]
WRITE_ARGS = {"file_path": "/tmp/hello.txt", "content": "hi from lynkr \u00e9\u2603"}
BASH_ARGS = {"command": "ls -la", "description": "List files"}

CHAT_PATHS = {
    "openai": "/v1/chat/completions",
    "azure": "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21",
    "databricks": "/serving-endpoints/claude/invocations",
    "openrouter": "/api/v1/chat/completions",
    "llamacpp": "/v1/chat/completions",
}
GOOD_AUTH = {
    "openai": {"Authorization": "Bearer k"},
    "azure": {"api-key": "k"},
    "databricks": {"Authorization": "Bearer k"},
    "openrouter": {"Authorization": "Bearer k"},
    "llamacpp": {"Authorization": "Bearer k"},
}


@pytest.fixture
def fake_factory(after_test):
    """Start FakeOpenAI servers on demand and stop them after the test."""
    return lambda script=None, **options: after_test.enter_async_context(
        FakeOpenAI(script, **options)
    )


@pytest.fixture
def sdk(after_test):
    """Make official async OpenAI clients; close them after the test."""

    def make(fake: FakeOpenAI, *, azure: bool = False, **options) -> openai.AsyncOpenAI:
        options.setdefault("api_key", "k")
        if azure:
            options.setdefault("api_version", "2024-10-21")
            client = openai.AsyncAzureOpenAI(azure_endpoint=fake.base_url, max_retries=0, **options)
        else:
            options.setdefault("base_url", fake.base_url + "/v1")
            client = openai.AsyncOpenAI(max_retries=0, **options)
        after_test.push_async_callback(client.close)
        return client

    return make


def body(stream: bool = False, **extra) -> dict:
    """A chat completion body."""
    return {"model": MODEL, "messages": USER, "stream": stream, **extra}


async def post(fake: FakeOpenAI, path: str, payload, headers=None):
    """POST with aiohttp; return (status, headers, raw body)."""
    async with aiohttp.ClientSession() as session:
        kwargs = {"data": payload} if isinstance(payload, bytes | str) else {"json": payload}
        async with session.post(fake.base_url + path, headers=headers, **kwargs) as response:
            return response.status, response.headers, await response.read()


def frames(raw: bytes) -> list[str]:
    """Split an SSE body into frames, asserting the `\\n\\n` framing."""
    text = raw.decode()
    assert text.endswith("\n\n")
    parts = text.split("\n\n")[:-1]
    assert all(part.startswith(("data: ", ": ")) and "\n" not in part for part in parts)
    return parts


def chunks(raw: bytes) -> list[dict]:
    """The decoded JSON data chunks of an SSE body (no comments, no `[DONE]`)."""
    return [
        json.loads(part[len("data: ") :])
        for part in frames(raw)
        if part.startswith("data: ") and part != "data: [DONE]"
    ]


def choice_deltas(raw: bytes) -> list[dict]:
    """The first choice's delta of every chunk that has choices."""
    return [chunk["choices"][0]["delta"] for chunk in chunks(raw) if chunk.get("choices")]


def rebuild_tool_calls(deltas: list[dict]) -> dict[int, dict]:
    """Reassemble tool calls from stream fragments, as a client does."""
    calls: dict[int, dict] = {}
    for delta in deltas:
        for fragment in delta.get("tool_calls", []):
            call = calls.setdefault(fragment["index"], {"arguments": ""})
            if "id" in fragment:
                call.update(id=fragment["id"], name=fragment["function"]["name"])
            call["arguments"] += fragment["function"].get("arguments", "")
    return calls


# --- OpenAI, through the official SDK ---------------------------------------------------


async def test_sdk_stream_text_and_usage(fake_factory, sdk):
    text = "Streaming text longer than one chunk, unicode \u00e9\u2603."
    fake = await fake_factory([ChatReply(text, chunk_size=5, usage=(120, 30, 100))])
    stream = await sdk(fake).chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    received = [chunk async for chunk in stream]

    pieces = [c.choices[0].delta.content for c in received if c.choices]
    assert pieces[0] == "" and received[0].choices[0].delta.role == "assistant"
    assert "".join(p or "" for p in pieces) == text
    assert len([p for p in pieces if p]) == -(-len(text) // 5)
    assert [c.choices[0].finish_reason for c in received if c.choices][-1] == "stop"
    last = received[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (120, 30)
    assert last.usage.total_tokens == 150 and last.usage.prompt_tokens_details.cached_tokens == 100
    assert received[0].id.startswith("chatcmpl-") and received[0].model == MODEL


async def test_sdk_stream_parallel_tool_calls_reassemble(fake_factory, sdk):
    calls = [ToolCallSpec("Write", WRITE_ARGS, id="call_w"), ToolCallSpec("Bash", BASH_ARGS)]
    reply = ChatReply(tool_calls=calls, arguments_chunk_size=4, interleave=True)
    fake = await fake_factory([reply])
    stream = await sdk(fake).chat.completions.create(model=MODEL, messages=USER, stream=True)
    received = [chunk async for chunk in stream]

    rebuilt: dict[int, dict] = {}
    for chunk in received:
        for fragment in chunk.choices[0].delta.tool_calls or []:
            call = rebuilt.setdefault(fragment.index, {"arguments": ""})
            if fragment.id:
                call.update(id=fragment.id, name=fragment.function.name)
            call["arguments"] += fragment.function.arguments or ""
    assert rebuilt[0]["id"] == "call_w" and rebuilt[0]["name"] == "Write"
    assert json.loads(rebuilt[0]["arguments"]) == WRITE_ARGS
    assert rebuilt[1]["name"] == "Bash" and rebuilt[1]["id"].startswith("call_")
    assert json.loads(rebuilt[1]["arguments"]) == BASH_ARGS
    assert received[-1].choices[0].finish_reason == "tool_calls"


async def test_sdk_non_stream_tool_only_message_has_null_content(fake_factory, sdk):
    reply = ChatReply(tool_calls=[ToolCallSpec("Write", WRITE_ARGS, id="call_1")])
    fake = await fake_factory([reply])
    completion = await sdk(fake).chat.completions.create(model=MODEL, messages=USER)

    choice = completion.choices[0]
    assert choice.message.content is None and choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("call_1", "function", "Write")
    assert json.loads(call.function.arguments) == WRITE_ARGS
    assert completion.object == "chat.completion" and completion.usage.total_tokens > 0


async def test_sdk_rate_limit_error_body_and_retry_after(fake_factory, sdk):
    fake = await fake_factory([ErrorReply(429, "Rate limit reached", retry_after=3)])
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk(fake).chat.completions.create(model=MODEL, messages=USER)

    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.body == {
        "message": "Rate limit reached",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


async def test_sdk_in_stream_error_raises_after_partial_text(fake_factory, sdk):
    fake = await fake_factory([ErrorReply(500, "boom", in_stream=True, partial="half")])
    stream = await sdk(fake).chat.completions.create(model=MODEL, messages=USER, stream=True)
    seen = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "half"]
    assert caught.value.message == "boom" and caught.value.body["type"] == "server_error"


async def test_sdk_wrong_key_is_openai_401(fake_factory, sdk):
    fake = await fake_factory(api_key="sk-right-key-123")
    with pytest.raises(openai.AuthenticationError) as caught:
        await sdk(fake, api_key="sk-wrong-key-456").chat.completions.create(
            model=MODEL, messages=USER
        )
    assert caught.value.body["code"] == "invalid_api_key"
    assert caught.value.body["message"].startswith("Incorrect API key provided: sk-")
    assert "wrong" not in caught.value.body["message"]  # the key is masked
    ok = await sdk(fake, api_key="sk-right-key-123").chat.completions.create(
        model=MODEL, messages=USER
    )
    assert ok.choices[0].message.content == "ok"


async def test_sdk_models_list(fake_factory, sdk):
    fake = await fake_factory(model="gpt-test")
    page = await sdk(fake).models.list()
    assert [(m.id, m.object, m.owned_by) for m in page.data] == [("gpt-test", "model", "fake")]


def test_sync_sdk_against_fake_in_a_thread():
    fake = FakeOpenAI([ChatReply("from a thread")])
    base_url = fake.run_in_thread()
    try:
        client = openai.OpenAI(base_url=base_url + "/v1", api_key="k", max_retries=0)
        completion = client.chat.completions.create(model=MODEL, messages=USER)
        client.close()
    finally:
        fake.stop_thread()
    assert completion.choices[0].message.content == "from a thread"
    assert fake.chat_requests[0].json["messages"] == USER


# --- OpenAI raw wire format --------------------------------------------------------------


async def test_raw_stream_shape(fake_factory):
    calls = [ToolCallSpec("Write", WRITE_ARGS, id="call_a"), ToolCallSpec("Bash", BASH_ARGS)]
    reply = ChatReply("Writing.", tool_calls=calls, arguments_chunk_size=10)
    fake = await fake_factory([reply])
    status, headers, raw = await post(fake, "/v1/chat/completions", body(stream=True))

    assert status == 200 and headers["content-type"] == "text/event-stream; charset=utf-8"
    assert frames(raw)[-1] == "data: [DONE]"
    data = chunks(raw)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in data)
    assert len({chunk["id"] for chunk in data}) == 1
    assert all("usage" not in chunk for chunk in data)  # no include_usage: no usage keys
    deltas = [chunk["choices"][0]["delta"] for chunk in data]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"content": "Writing."}
    assert deltas[2]["tool_calls"] == [
        {
            "index": 0,
            "id": "call_a",
            "type": "function",
            "function": {"name": "Write", "arguments": ""},
        }
    ]
    assert set(deltas[3]["tool_calls"][0]) == {"index", "function"}
    # not interleaved: every fragment of call 0 comes before call 1
    order = [d["tool_calls"][0]["index"] for d in deltas if "tool_calls" in d]
    assert order == sorted(order) and order.count(1) > 1
    assert data[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }
    rebuilt = rebuild_tool_calls(deltas)
    assert json.loads(rebuilt[1]["arguments"]) == BASH_ARGS


async def test_interleaved_fragments_alternate_by_index(fake_factory):
    calls = [ToolCallSpec("A", '{"x": "1234567890"}'), ToolCallSpec("B", '{"y": "abcdefghij"}')]
    fake = await fake_factory(
        [ChatReply(tool_calls=calls, arguments_chunk_size=5, interleave=True)]
    )
    _, _, raw = await post(fake, "/v1/chat/completions", body(stream=True))

    deltas = choice_deltas(raw)
    order = [d["tool_calls"][0]["index"] for d in deltas if "tool_calls" in d]
    assert order == [0, 1] * 5
    rebuilt = rebuild_tool_calls(deltas)
    assert [rebuilt[i]["arguments"] for i in (0, 1)] == [
        calls[0].arguments_json,
        calls[1].arguments_json,
    ]


async def test_include_usage_adds_null_usage_and_final_usage_chunk(fake_factory):
    fake = await fake_factory([ChatReply("hi", usage=(7, 2))])
    payload = body(stream=True, stream_options={"include_usage": True})
    data = chunks((await post(fake, "/v1/chat/completions", payload))[2])

    assert all(chunk["usage"] is None for chunk in data[:-1])
    assert data[-1]["choices"] == [] and data[-1]["usage"]["total_tokens"] == 9
    assert data[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("options", "has_finish", "has_usage", "has_done"),
    [
        ({"omit_finish": True}, False, False, True),
        ({"omit_done": True}, True, False, False),
        ({"include_usage_chunk": True}, True, True, True),
    ],
)
async def test_stream_ending_options(fake_factory, options, has_finish, has_usage, has_done):
    fake = await fake_factory([ChatReply("hi", **options)])
    raw = (await post(fake, "/v1/chat/completions", body(stream=True)))[2]

    finishes = [c["choices"][0]["finish_reason"] for c in chunks(raw) if c["choices"]]
    assert (finishes[-1] == "stop") is has_finish
    assert (chunks(raw)[-1]["choices"] == []) is has_usage
    assert (frames(raw)[-1] == "data: [DONE]") is has_done


async def test_non_stream_shape_with_reasoning(fake_factory):
    fake = await fake_factory([ChatReply("42", reasoning="thinking hard", finish_reason="length")])
    status, headers, raw = await post(fake, "/v1/chat/completions", body())

    completion = json.loads(raw)
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["x-request-id"].startswith("req_")
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "42"
    assert completion["choices"][0]["message"]["reasoning_content"] == "thinking hard"
    assert completion["choices"][0]["finish_reason"] == "length"
    assert completion["choices"][0]["logprobs"] is None
    assert set(completion["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}


async def test_script_order_callable_and_recording(fake_factory):
    fake = await fake_factory(lambda b: ChatReply(f"echo {b['messages'][-1]['content']}"))
    headers = {"X-Trace": "t1"}
    _, _, raw = await post(fake, "/v1/chat/completions?x=1", body(), headers)

    assert json.loads(raw)["choices"][0]["message"]["content"] == "echo create hello.txt"
    (request,) = fake.chat_requests
    assert (request.method, request.path, request.query) == (
        "POST",
        "/v1/chat/completions",
        {"x": "1"},
    )
    assert request.headers["x-trace"] == "t1" and request.json == body()
    assert json.loads(request.body) == request.json and request.disconnected is False

    listed = await fake_factory([ChatReply("one")])
    texts = []
    for _ in range(2):
        raw = (await post(listed, "/v1/chat/completions", body()))[2]
        texts.append(json.loads(raw)["choices"][0]["message"]["content"])
    assert texts == ["one", "ok"]


async def test_first_byte_and_chunk_delays(fake_factory):
    fake = await fake_factory(
        [ChatReply("abcdef", chunk_size=2, delay=0.01, first_byte_delay=0.02)]
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    raw = (await post(fake, "/v1/chat/completions", body(stream=True)))[2]
    assert loop.time() - start >= 0.02 + 0.01 * 5  # 6 frames, 5 gaps
    assert "".join(d.get("content", "") for d in choice_deltas(raw)) == "abcdef"


async def test_client_disconnect_is_recorded(fake_factory):
    fake = await fake_factory([ChatReply("abcdefgh", chunk_size=1, delay=0.05)])
    async with aiohttp.ClientSession() as session:
        async with session.post(
            fake.base_url + "/v1/chat/completions", json=body(stream=True)
        ) as r:
            await r.content.readuntil(b"\n\n")
    for _ in range(50):
        if fake.requests[0].disconnected:
            break
        await asyncio.sleep(0.01)
    assert fake.requests[0].disconnected is True


# --- cut streams --------------------------------------------------------------------------


async def test_cut_stream_drops_the_connection_after_n_chunks(fake_factory):
    fake = await fake_factory([CutStream(after_chunks=2)])
    received = b""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            fake.base_url + "/v1/chat/completions", json=body(stream=True)
        ) as r:
            with pytest.raises(aiohttp.ClientPayloadError):
                async for piece in r.content.iter_any():
                    received += piece
    data = chunks(received)
    assert len(data) == 2 and data[1]["choices"][0]["delta"] == {"content": "this ans"}
    assert b"[DONE]" not in received


async def test_cut_stream_through_the_sdk(fake_factory, sdk):
    fake = await fake_factory([CutStream(after_chunks=3)])
    stream = await sdk(fake).chat.completions.create(model=MODEL, messages=USER, stream=True)
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_clean_cut_ends_without_finish_or_done(fake_factory):
    fake = await fake_factory([CutStream(after_chunks=2, abort=False)])
    raw = (await post(fake, "/v1/chat/completions", body(stream=True)))[2]
    assert len(chunks(raw)) == 2 and frames(raw)[-1] != "data: [DONE]"


async def test_cut_non_stream_closes_without_response(fake_factory):
    fake = await fake_factory([CutStream()])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(fake, "/v1/chat/completions", body())


# --- every dialect -----------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_every_dialect_decodes_with_lynkr_wire_structs(fake_factory, dialect):
    calls = [ToolCallSpec("Write", WRITE_ARGS), ToolCallSpec("Bash", BASH_ARGS)]
    reply = ChatReply(
        "Done.", reasoning="Plan it.", tool_calls=calls, chunk_size=3, arguments_chunk_size=6
    )
    fake = await fake_factory([reply, reply], dialect=dialect, deployment=None)
    path = CHAT_PATHS[dialect]
    _, _, raw = await post(fake, path, body(stream=True, stream_options={"include_usage": True}))

    decoded = [
        decode_chunk(part[len("data: ") :]) for part in frames(raw) if part.startswith("data: {")
    ]
    text = "".join(c.choices[0].delta.content or "" for c in decoded if c.choices)
    assert text == "Done."
    reasoning = "".join(
        (c.choices[0].delta.reasoning or c.choices[0].delta.reasoning_content or "")
        for c in decoded
        if c.choices
    )
    assert reasoning == "Plan it."
    assert [c.choices[0].finish_reason for c in decoded if c.choices][-1] == "tool_calls"
    assert decoded[-1].usage is not None and decoded[-1].usage.prompt_tokens > 0

    _, _, raw = await post(fake, path, body())
    completion = decode_completion(raw)
    message = completion.choices[0].message
    assert message.content == "Done." and len(message.tool_calls) == 2
    assert json.loads(message.tool_calls[1].function.arguments) == BASH_ARGS
    assert (message.reasoning or message.reasoning_content) == "Plan it."
    assert len(fake.chat_requests) == 2


UNAUTHORIZED = {
    "openai": lambda b: b["error"]["code"] == "invalid_api_key",
    "azure": lambda b: (
        b["error"]["code"] == "401"
        and b["error"]["message"].startswith("Access denied due to invalid subscription key")
    ),
    "databricks": lambda b: b["error_code"] == "UNAUTHENTICATED" and "message" in b,
    "openrouter": lambda b: b["error"] == {"message": "User not found.", "code": 401},
    "llamacpp": lambda b: (
        b["error"] == {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_wrong_key_gets_the_dialect_401(fake_factory, dialect):
    fake = await fake_factory(dialect=dialect, api_key="k")
    path = CHAT_PATHS[dialect]
    wrong = {name: value.replace("k", "nope") for name, value in GOOD_AUTH[dialect].items()}
    status, _, raw = await post(fake, path, body(), wrong)
    assert status == 401 and UNAUTHORIZED[dialect](json.loads(raw))

    status, _, raw = await post(fake, path, body(), GOOD_AUTH[dialect])
    assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "ok"
    assert len(fake.chat_requests) == 2


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("openai", {"code": "missing_required_parameter", "param": "messages"}),
        ("azure", {"message": "'messages' is a required property"}),
        ("databricks", {"error_code": "BAD_REQUEST"}),
        ("openrouter", {"code": 400}),
        ("llamacpp", {"code": 400, "type": "invalid_request_error"}),
    ],
)
async def test_missing_messages_is_a_dialect_400_and_keeps_the_script(
    fake_factory, dialect, expected
):
    fake = await fake_factory([ChatReply("scripted")], dialect=dialect)
    path = CHAT_PATHS[dialect]
    status, _, raw = await post(fake, path, {"model": MODEL})

    error = json.loads(raw)
    error = error.get("error", error)
    assert status == 400 and expected.items() <= error.items()
    status, _, raw = await post(fake, path, b"{not json")
    assert status == 400
    _, _, raw = await post(fake, path, body())
    assert json.loads(raw)["choices"][0]["message"]["content"] == "scripted"


@pytest.mark.parametrize(
    ("dialect", "check"),
    [
        ("openai", lambda b: b["error"]["message"] == "Invalid URL (POST /v1/completions)"),
        ("azure", lambda b: b == {"error": {"code": "404", "message": "Resource not found"}}),
        ("databricks", lambda b: b["error_code"] == "ENDPOINT_NOT_FOUND"),
        ("openrouter", lambda b: b["error"]["code"] == 404),
        ("llamacpp", lambda b: b["error"]["type"] == "not_found_error"),
    ],
)
async def test_unknown_route_is_a_dialect_404(fake_factory, dialect, check):
    fake = await fake_factory(dialect=dialect)
    status, _, raw = await post(fake, "/v1/completions", body())
    assert status == 404 and check(json.loads(raw))
    assert fake.chat_requests == []


# --- Azure ---------------------------------------------------------------------------------


async def test_azure_sdk_stream_and_non_stream(fake_factory, sdk):
    script = [ChatReply("streamed", chunk_size=3), ChatReply("whole", usage=(5, 1))]
    fake = await fake_factory(script, dialect="azure", api_key="k", deployment="gpt4o")
    client = sdk(fake, azure=True, azure_deployment="gpt4o")
    stream = await client.chat.completions.create(model="gpt4o", messages=USER, stream=True)
    received = [chunk async for chunk in stream]
    completion = await client.chat.completions.create(model="gpt4o", messages=USER)

    assert received[0].choices == [] and received[0].prompt_filter_results  # type: ignore[attr-defined]
    assert "".join(c.choices[0].delta.content or "" for c in received if c.choices) == "streamed"
    assert completion.choices[0].message.content == "whole"
    assert completion.model == "gpt-4o-2024-11-20"
    first = fake.chat_requests[0]
    assert first.path == "/openai/deployments/gpt4o/chat/completions"
    assert first.query == {"api-version": "2024-10-21"} and first.headers["api-key"] == "k"


async def test_azure_v1_path_with_bearer_and_model_as_deployment(fake_factory, sdk):
    fake = await fake_factory([ChatReply("v1")], dialect="azure", api_key="k", deployment="gpt4o")
    client = sdk(fake, base_url=fake.base_url + "/openai/v1/")
    completion = await client.chat.completions.create(model="gpt4o", messages=USER)
    assert completion.choices[0].message.content == "v1"
    assert fake.requests[0].headers["authorization"] == "Bearer k"

    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="other", messages=USER)
    assert caught.value.body["code"] == "DeploymentNotFound"


async def test_azure_needs_api_version_and_a_known_deployment(fake_factory):
    fake = await fake_factory(dialect="azure", deployment="gpt4o")
    status, _, raw = await post(fake, "/openai/deployments/gpt4o/chat/completions", body())
    assert status == 404
    assert json.loads(raw) == {"error": {"code": "404", "message": "Resource not found"}}

    path = "/openai/deployments/nope/chat/completions?api-version=2025-04-01-preview"
    status, _, raw = await post(fake, path, body())
    error = json.loads(raw)["error"]
    assert status == 404 and error["code"] == "DeploymentNotFound"
    assert error["message"].startswith("The API deployment for this resource does not exist")


async def test_azure_content_filter_and_rate_limit_headers(fake_factory):
    script = [
        ChatReply("partial answ", content_filter=True),
        ChatReply("partial", content_filter=True),
        ErrorReply(429, "Requests to the ChatCompletions_Create Operation...", retry_after=2),
    ]
    fake = await fake_factory(script, dialect="azure")
    path = CHAT_PATHS["azure"]
    raw = (await post(fake, path, body(stream=True)))[2]
    data = chunks(raw)
    assert data[0]["prompt_filter_results"][0]["prompt_index"] == 0 and data[0]["id"] == ""
    last = data[-1]["choices"][0]
    assert last["finish_reason"] == "content_filter"
    assert last["content_filter_results"]["violence"] == {"filtered": True, "severity": "high"}

    completion = json.loads((await post(fake, path, body()))[2])
    assert completion["choices"][0]["finish_reason"] == "content_filter"
    assert "prompt_filter_results" in completion

    status, headers, raw = await post(fake, path, body())
    assert status == 429 and json.loads(raw)["error"]["code"] == "429"
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "2000")


# --- Databricks -----------------------------------------------------------------------------


async def test_databricks_reasoning_lists(fake_factory):
    reply = ChatReply(
        "The answer.",
        reasoning="Step one.",
        databricks_reasoning=True,
        signature="c2ln",
        chunk_size=5,
    )
    fake = await fake_factory(
        [reply, reply], dialect="databricks", api_key="dapi", deployment="claude"
    )
    headers = {"Authorization": "Bearer dapi"}
    path = CHAT_PATHS["databricks"]
    completion = json.loads((await post(fake, path, body(), headers))[2])
    assert completion["choices"][0]["message"]["content"] == [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Step one.", "signature": "c2ln"}],
        },
        {"type": "text", "text": "The answer."},
    ]

    raw = (await post(fake, path, body(stream=True), headers))[2]
    parts = [
        part
        for d in choice_deltas(raw)
        if isinstance(d.get("content"), list)
        for part in d["content"]
    ]
    assert all(
        len(d["content"]) == 1 for d in choice_deltas(raw) if isinstance(d.get("content"), list)
    )
    summaries = [p["summary"][0] for p in parts if p["type"] == "reasoning"]
    assert "".join(s["text"] for s in summaries) == "Step one."
    assert [s.get("signature") for s in summaries] == [None, "c2ln"]
    assert "".join(p["text"] for p in parts if p["type"] == "text") == "The answer."
    decoded = [decode_chunk(part[len("data: ") :]) for part in frames(raw)[:-1]]
    assert all(isinstance(c.choices[0].delta.content, list | str) for c in decoded[:-1])


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (403, "PERMISSION_DENIED"),
        (404, "RESOURCE_DOES_NOT_EXIST"),
        (429, "REQUEST_LIMIT_EXCEEDED"),
        (500, "INTERNAL_ERROR"),
        (503, "TEMPORARILY_UNAVAILABLE"),
    ],
)
async def test_databricks_error_codes(fake_factory, status, code):
    fake = await fake_factory([ErrorReply(status, "nope")], dialect="databricks")
    got, _, raw = await post(fake, CHAT_PATHS["databricks"], body())
    assert got == status and json.loads(raw) == {"error_code": code, "message": "nope"}


async def test_databricks_unknown_endpoint_and_openai_client_path(fake_factory):
    fake = await fake_factory([ChatReply("via model")], dialect="databricks", deployment="claude")
    status, _, raw = await post(fake, "/serving-endpoints/other/invocations", body())
    assert status == 404 and json.loads(raw)["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    payload = body(model="claude")
    status, _, raw = await post(fake, "/serving-endpoints/chat/completions", payload)
    assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "via model"


# --- OpenRouter -----------------------------------------------------------------------------


async def test_openrouter_stream_comments_reasoning_and_headers(fake_factory):
    reply = ChatReply("hi there", reasoning="hmm", chunk_size=4, delay=0.01)
    fake = await fake_factory([reply], dialect="openrouter", api_key="or-k")
    headers = {
        "Authorization": "Bearer or-k",
        "HTTP-Referer": "https://lynkr.dev",
        "X-Title": "lynkr",
    }
    payload = body(stream=True, usage={"include": True})
    _, _, raw = await post(fake, CHAT_PATHS["openrouter"], payload, headers)

    parts = frames(raw)
    assert parts[0] == ": OPENROUTER PROCESSING"
    assert parts.count(": OPENROUTER PROCESSING") > 1  # repeated while delays pass
    data = chunks(raw)
    assert data[0]["id"].startswith("gen-") and data[0]["provider"] == "Fake"
    assert "".join(d.get("reasoning", "") for d in choice_deltas(raw)) == "hmm"
    assert data[-1]["choices"] == [] and "cost" in data[-1]["usage"]
    recorded = fake.chat_requests[0].headers
    assert (recorded["http-referer"], recorded["x-title"]) == ("https://lynkr.dev", "lynkr")


async def test_openrouter_errors_http_200_and_mid_stream(fake_factory):
    script = [
        ErrorReply(402, "Insufficient credits", metadata={"needed": 1}),
        ErrorReply(502, "Provider returned error", in_stream=True),
        ErrorReply(502, "Provider returned error", in_stream=True, partial="Hel"),
    ]
    fake = await fake_factory(script, dialect="openrouter")
    path = CHAT_PATHS["openrouter"]
    status, _, raw = await post(fake, path, body())
    assert status == 402 and json.loads(raw) == {
        "error": {"code": 402, "message": "Insufficient credits", "metadata": {"needed": 1}}
    }

    status, _, raw = await post(fake, path, body())
    error = json.loads(raw)["error"]
    assert status == 200 and (error["code"], error["message"]) == (502, "Provider returned error")

    status, _, raw = await post(fake, path, body(stream=True))
    data = chunks(raw)
    assert status == 200 and choice_deltas(raw)[1] == {"content": "Hel"}
    last = data[-1]
    assert last["object"] == "chat.completion.chunk" and last["error"]["code"] == 502
    assert last["choices"][0]["finish_reason"] == "error"
    assert last["choices"][0]["delta"] == {"content": ""}
    assert "data: [DONE]" not in frames(raw)


# --- llama.cpp ------------------------------------------------------------------------------


async def test_llamacpp_health_models_and_loading(fake_factory):
    ready = await fake_factory(dialect="llamacpp", api_key="k", model="qwen")
    status, _, raw = await get(ready, "/health")
    assert (status, json.loads(raw)) == (200, {"status": "ok"})
    status, _, raw = await get(ready, "/v1/models")  # public even with a key
    assert status == 200 and json.loads(raw)["data"][0]["id"] == "qwen"

    loading = await fake_factory(dialect="llamacpp", loading=True)
    status, _, raw = await get(loading, "/health")
    expected = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    assert (status, json.loads(raw)) == (503, expected)
    status, _, raw = await post(loading, "/chat/completions", body())
    assert (status, json.loads(raw)) == (503, expected)


async def test_llamacpp_final_chunk_has_timings_and_usage(fake_factory):
    reply = ChatReply("ok!", reasoning="r", usage=(11, 3))
    fake = await fake_factory([reply], dialect="llamacpp")
    _, headers, raw = await post(fake, "/chat/completions", body(stream=True))

    assert headers["content-type"] == "text/event-stream"
    data = chunks(raw)
    assert choice_deltas(raw)[1] == {"reasoning_content": "r"}
    assert data[-1]["choices"][0]["finish_reason"] == "stop"
    assert data[-1]["usage"]["total_tokens"] == 14 and data[-1]["timings"]["predicted_n"] == 3


async def test_llamacpp_error_body(fake_factory):
    fake = await fake_factory([ErrorReply(400, "context too long")], dialect="llamacpp")
    status, _, raw = await post(fake, "/v1/chat/completions", body())
    assert status == 400 and json.loads(raw) == {
        "error": {"code": 400, "message": "context too long", "type": "invalid_request_error"}
    }


async def get(fake: FakeOpenAI, path: str):
    """GET with aiohttp; return (status, headers, raw body)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(fake.base_url + path) as response:
            return response.status, response.headers, await response.read()


def test_unknown_dialect_is_rejected():
    with pytest.raises(ValueError, match="unknown dialect"):
        FakeOpenAI(dialect="bedrock")
