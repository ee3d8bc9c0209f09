"""The fake Ollama server speaks Ollama's native /api wire format."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from lynkr_core.testing.fake_ollama import (
    OLLAMA_VERSION,
    FakeOllama,
    OllamaCut,
    OllamaError,
    OllamaReply,
    decode_ndjson,
)

MODEL = "qwen2.5-coder:7b"
USER = [{"role": "user", "content": "create hello.txt"}]
WRITE_ARGS = {"file_path": "/tmp/hello.txt", "content": "hi from lynkr \u00e9"}


@pytest.fixture
def fake_factory(after_test):
    """Start FakeOllama servers on demand and stop them after the test."""
    return lambda script=None, **options: after_test.enter_async_context(
        FakeOllama(script, **options)
    )


async def call(fake: FakeOllama, method: str, path: str, payload=None):
    """One request with aiohttp; return (status, headers, raw body)."""
    kwargs = {}
    if payload is not None:
        kwargs = {"data": payload} if isinstance(payload, bytes) else {"json": payload}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, fake.base_url + path, **kwargs) as response:
            return response.status, response.headers, await response.read()


def chat(**extra) -> dict:
    """An /api/chat body (no "stream" key: Ollama streams by default)."""
    return {"model": MODEL, "messages": USER, **extra}


async def test_stream_is_the_default_and_is_ndjson(fake_factory):
    reply = OllamaReply("Hello world", thinking="Let me see", chunk_size=4, eval_count=9)
    fake = await fake_factory([reply])
    status, headers, raw = await call(fake, "POST", "/api/chat", chat())

    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    assert raw.endswith(b"}\n") and raw.count(b"\n") == len(decode_ndjson(raw))
    lines = decode_ndjson(raw)
    body_lines, final = lines[:-1], lines[-1]
    assert all(line["done"] is False and line["model"] == MODEL for line in body_lines)
    assert all(line["created_at"].endswith("Z") for line in lines)
    assert "".join(line["message"].get("thinking", "") for line in body_lines) == "Let me see"
    assert "".join(line["message"]["content"] for line in body_lines) == "Hello world"
    assert body_lines[0]["message"] == {"role": "assistant", "content": "", "thinking": "Let "}
    assert final["message"] == {"role": "assistant", "content": ""}
    assert (final["done"], final["done_reason"], final["eval_count"]) == (True, "stop", 9)
    assert final["prompt_eval_count"] == 10
    assert {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"} <= set(
        final
    )


async def test_tool_calls_arrive_whole_with_object_arguments(fake_factory):
    reply = OllamaReply(tool_calls=[("Write", WRITE_ARGS), ("Bash", {"command": "ls"})])
    fake = await fake_factory([reply, reply])
    lines = decode_ndjson((await call(fake, "POST", "/api/chat", chat(stream=True)))[2])

    with_calls = [line for line in lines if "tool_calls" in line["message"]]
    assert len(with_calls) == 1 and with_calls[0]["done"] is False
    assert with_calls[0]["message"]["tool_calls"] == [
        {"function": {"index": 0, "name": "Write", "arguments": WRITE_ARGS}},
        {"function": {"index": 1, "name": "Bash", "arguments": {"command": "ls"}}},
    ]
    assert lines[-1]["done_reason"] == "stop"

    status, headers, raw = await call(fake, "POST", "/api/chat", chat(stream=False))
    message = json.loads(raw)["message"]
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    assert message["tool_calls"][0]["function"]["arguments"] == WRITE_ARGS


async def test_non_stream_is_one_object_with_the_whole_message(fake_factory):
    reply = OllamaReply("All done.", thinking="ok", done_reason="length", prompt_eval_count=42)
    fake = await fake_factory([reply])
    status, _, raw = await call(fake, "POST", "/api/chat", chat(stream=False))

    answer = json.loads(raw)
    assert status == 200 and answer["done"] is True and answer["done_reason"] == "length"
    assert answer["message"] == {"role": "assistant", "content": "All done.", "thinking": "ok"}
    assert answer["prompt_eval_count"] == 42 and answer["eval_count"] == 5


async def test_request_fields_are_recorded(fake_factory):
    fake = await fake_factory()
    payload = chat(
        stream=False,
        think=True,
        format="json",
        keep_alive="5m",
        tools=[{"type": "function", "function": {"name": "Write", "parameters": {}}}],
        options={"num_predict": 1024, "temperature": 0.2, "num_ctx": 32768, "stop": ["\n\n"]},
    )
    await call(fake, "POST", "/api/chat", payload)
    (request,) = fake.chat_requests
    assert request.json == payload and request.path == "/api/chat"


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        (chat(model="llama3"), 404, 'model "llama3" not found, try pulling it first'),
        ({"messages": USER}, 400, "model is required"),
        (
            chat(messages="hi"),
            400,
            "json: cannot unmarshal string into Go struct field ChatRequest.messages "
            "of type []api.Message",
        ),
        (
            chat(messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}]),
            400,
            "json: cannot unmarshal array into Go struct field Message.messages.content "
            "of type string",
        ),
        (
            chat(
                messages=[
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [{"function": {"name": "Write", "arguments": "{}"}}],
                    }
                ]
            ),
            400,
            "json: cannot unmarshal string into Go struct field "
            "ToolCallFunction.messages.tool_calls.function.arguments of type "
            "api.ToolCallFunctionArguments",
        ),
        (b"{nope", 400, "invalid character looking for beginning of value"),
    ],
)
async def test_bad_requests_get_ollama_errors_and_keep_the_script(
    fake_factory, payload, status, error
):
    fake = await fake_factory([OllamaReply("scripted")])
    got, headers, raw = await call(fake, "POST", "/api/chat", payload)
    assert (got, json.loads(raw)) == (status, {"error": error})
    assert headers["content-type"].startswith("application/json")

    _, _, raw = await call(fake, "POST", "/api/chat", chat(stream=False))
    assert json.loads(raw)["message"]["content"] == "scripted"


async def test_tool_results_and_images_are_accepted(fake_factory):
    messages = [
        {"role": "user", "content": "look", "images": ["aGVsbG8="]},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "Write", "arguments": WRITE_ARGS}}],
        },
        {"role": "tool", "content": "File created", "tool_name": "Write"},
    ]
    fake = await fake_factory()
    status, _, raw = await call(fake, "POST", "/api/chat", chat(messages=messages, stream=False))
    assert status == 200 and json.loads(raw)["message"]["content"] == "ok"


async def test_model_names_resolve_latest_and_capabilities_are_enforced(fake_factory):
    fake = await fake_factory(
        models=["llama3.2", MODEL], thinking_models=["llama3.2"], tool_models=[]
    )
    status, _, _ = await call(fake, "POST", "/api/chat", chat(model="llama3.2:latest", think=True))
    assert status == 200

    status, _, raw = await call(fake, "POST", "/api/chat", chat(think=True))
    assert (status, json.loads(raw)) == (400, {"error": f'"{MODEL}" does not support thinking'})
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    status, _, raw = await call(fake, "POST", "/api/chat", chat(tools=tools))
    assert status == 400 and json.loads(raw)["error"].endswith("does not support tools")

    _, _, raw = await call(fake, "POST", "/api/show", {"model": "llama3.2"})
    assert json.loads(raw)["capabilities"] == ["completion", "thinking"]
    status, _, raw = await call(fake, "POST", "/api/show", {"model": "nope"})
    assert status == 404 and "not found" in json.loads(raw)["error"]


async def test_empty_messages_only_loads_the_model(fake_factory):
    fake = await fake_factory([OllamaReply("scripted")])
    _, _, raw = await call(fake, "POST", "/api/chat", {"model": MODEL, "messages": []})
    (line,) = decode_ndjson(raw)
    assert (line["done"], line["done_reason"]) == (True, "load")
    _, _, raw = await call(fake, "POST", "/api/chat", chat(stream=False))
    assert json.loads(raw)["message"]["content"] == "scripted"


async def test_errors_http_and_mid_stream(fake_factory):
    script = [
        OllamaError(500, "llama runner process has terminated"),
        OllamaError(
            500, "an error was encountered while running the model", in_stream=True, partial="Hel"
        ),
        OllamaError(503, "server busy", in_stream=True),
    ]
    fake = await fake_factory(script)
    status, _, raw = await call(fake, "POST", "/api/chat", chat())
    assert (status, json.loads(raw)) == (500, {"error": "llama runner process has terminated"})

    status, headers, raw = await call(fake, "POST", "/api/chat", chat())
    lines = decode_ndjson(raw)
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    assert lines[0]["message"]["content"] == "Hel" and lines[0]["done"] is False
    assert lines[-1] == {"error": "an error was encountered while running the model"}

    status, _, raw = await call(fake, "POST", "/api/chat", chat(stream=False))
    assert (status, json.loads(raw)) == (503, {"error": "server busy"})


async def test_cut_stream_drops_the_connection(fake_factory):
    fake = await fake_factory([OllamaCut(after_lines=2), OllamaCut()])
    received = b""
    async with aiohttp.ClientSession() as session:
        async with session.post(fake.base_url + "/api/chat", json=chat()) as response:
            with pytest.raises(aiohttp.ClientPayloadError):
                async for piece in response.content.iter_any():
                    received += piece
    lines = decode_ndjson(received)
    assert [line["message"]["content"] for line in lines] == ["this ans", "wer is c"]
    assert all(line["done"] is False for line in lines)

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(fake, "POST", "/api/chat", chat(stream=False))


async def test_delays_between_lines(fake_factory):
    fake = await fake_factory(
        [OllamaReply("abcd", chunk_size=1, delay=0.01, first_byte_delay=0.02)]
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    lines = decode_ndjson((await call(fake, "POST", "/api/chat", chat()))[2])
    assert loop.time() - start >= 0.02 + 0.01 * 4 and len(lines) == 5


async def test_callable_script_sees_the_body(fake_factory):
    fake = await fake_factory(lambda body: OllamaReply(f"model was {body['model']}"))
    _, _, raw = await call(fake, "POST", "/api/chat", chat(stream=False))
    assert json.loads(raw)["message"]["content"] == f"model was {MODEL}"


async def test_tags_version_and_root(fake_factory):
    fake = await fake_factory(models=["qwen2.5-coder:7b", "llama3.2"])
    _, _, raw = await call(fake, "GET", "/api/tags")
    models = json.loads(raw)["models"]
    assert [(m["name"], m["model"]) for m in models] == [
        ("qwen2.5-coder:7b", "qwen2.5-coder:7b"),
        ("llama3.2:latest", "llama3.2:latest"),
    ]
    assert len(models[0]["digest"]) == 64 and models[0]["details"]["format"] == "gguf"
    assert {"modified_at", "size"} <= set(models[0])

    _, _, raw = await call(fake, "GET", "/api/version")
    assert json.loads(raw) == {"version": OLLAMA_VERSION}
    status, _, raw = await call(fake, "GET", "/")
    assert (status, raw) == (200, b"Ollama is running")
    status, _, raw = await call(fake, "HEAD", "/")
    assert status == 200
    status, _, raw = await call(fake, "POST", "/v1/messages", {})
    assert (status, raw) == (404, b"404 page not found")


def test_run_in_thread_for_sync_clients():
    import urllib.request

    fake = FakeOllama([OllamaReply("threaded")])
    base_url = fake.run_in_thread()
    try:
        request = urllib.request.Request(
            base_url + "/api/chat",
            data=json.dumps(chat(stream=False)).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
    finally:
        fake.stop_thread()
    assert answer["message"]["content"] == "threaded"
    assert fake.chat_requests[0].json["model"] == MODEL
