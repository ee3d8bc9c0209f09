"""Hostile input on every route: whatever a client sends, lynkr answers with the right
Anthropic error (a 4xx ``{"type":"error","error":{...}}`` with a ``request-id``) or
serves it, never a 500, never a stack trace, and it keeps serving.

lynkr runs on a real loopback socket, configured as in production (API keys, the
installed plugins, lynkr's own tools offered in server mode), in front of two fake
upstreams: an OpenAI-format one (every request is translated) and an Anthropic-format
one (passed through). The client is raw aiohttp, or a raw socket where aiohttp would
refuse to send the bytes. Covered:

- malformed JSON, wrong types, missing fields, NaN/Infinity, lone surrogate escapes,
  invalid UTF-8, a JSON array, number, string or null as the body, an empty body;
- deep nesting (100,000 levels; and 100 or 600: parsed, then translated or passed on);
- unknown content block types, duplicate keys, very long strings, max_tokens overflow;
- bodies over ``LYNKR_MAX_BODY_BYTES``, declared and chunked, on every POST route; a
  100 MB base64 image under the default limit (413 at once, memory bounded); 10,000 tools;
- header injection (CR, LF, NUL, obs-text, oversized headers; nothing echoed back or
  forwarded), path-like and control-character model names, in the body and the URL;
- every route (core and plugin) with every method, hostile query strings and paths,
  wrong content types;
- property-based: hypothesis draws valid and near-valid Messages API requests
  (``lynkr_core.testing.messages``) for /v1/messages (JSON and stream) and count_tokens.

``LYNKR_HOSTILE_EXAMPLES=2000`` runs each property test for that many examples (default
30, from a fixed seed) from a random seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import msgspec
import pydantic
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse

from lynkr_core import ExtraRoute, InvalidRequest, hookimpl
from lynkr_core.errors import ERROR_TYPE_BY_STATUS
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.fake_openai import FakeOpenAI
from lynkr_core.testing.gateway import sse_events
from lynkr_core.testing.messages import (
    Mutated,
    count_tokens_requests,
    messages_requests,
    near_valid,
)
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.translate import TargetOptions, translate_request
from lynkr_core.wire.anthropic import decode_request, request_problem

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLIENT_KEY = "sk-client-hostile-0123456789"
UPSTREAM_KEY = "sk-upstream-hostile"
DEFAULT_LIMIT = 32 * 1024 * 1024
HELLO = [{"role": "user", "content": "hello"}]
VALID = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": HELLO}
#: Examples per property test: a fixed seed in CI; random seeds when raised by hand.
EXAMPLES = int(os.environ.get("LYNKR_HOSTILE_EXAMPLES", "30"))
DERANDOMIZE = "LYNKR_HOSTILE_EXAMPLES" not in os.environ
#: What Python puts in exception text and tracebacks: none of it may reach a client.
PYTHON_LEAK = re.compile(
    rb"Traceback|File \"|line \d+, in |\b[A-Z]\w*(?:Error|Exception)\b|<[a-z_.]+ object at 0x"
)


# --------------------------------------------------------------------------- #
# lynkr in front of the two fake upstreams


@dataclass
class Answer:
    """One HTTP answer, read whole."""

    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Lynkr:
    """A running lynkr, the fake upstream behind it, and a keyed aiohttp client."""

    name: str
    url: str
    fake: Any
    http: aiohttp.ClientSession

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def send(self, method: str, path: str, body: Any = None, headers: Any = None) -> Answer:
        async with self.http.request(
            method, self.url + path, data=body, headers=headers, allow_redirects=False
        ) as response:
            return Answer(response.status, response.headers, await response.read())

    async def post(self, body: Any, path: str = "/v1/messages", headers: Any = None) -> Answer:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return await self.send("POST", path, data, headers)

    def upstream_requests(self) -> list[Any]:
        return self.fake.requests


class EchoRoute:
    """A third-party plugin with a JSON route, as plugins write them."""

    @staticmethod
    async def endpoint(request: Request) -> JSONResponse:
        try:
            value = msgspec.json.decode(await request.body())
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            raise InvalidRequest("plugin route: body is not JSON") from None
        return JSONResponse({"type": type(value).__name__})

    @hookimpl
    def lynkr_register_routes(self, register, settings):
        register(ExtraRoute("/hostile/echo", self.endpoint, methods=("POST",)))


def _env(provider: str, upstream: str, workspace: str) -> dict[str, str]:
    common = {
        "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "WORKSPACE_ROOT": workspace,
    }
    if provider == "openai":
        return {
            "MODEL_PROVIDER": "openai",
            "OPENAI_ENDPOINT": upstream + "/v1/chat/completions",
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_MODEL": "gpt-4o",
            # a window that holds 10,000 tools (570k tokens): gpt-4o's 128k would refuse them
            "OPENAI_CONTEXT_WINDOW": "2000000",
            **common,
        }
    return {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        **common,
    }


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gateways(tmp_path_factory) -> AsyncIterator[dict[str, Lynkr]]:
    """lynkr in front of a fake OpenAI-format upstream ("openai") and in front of a fake
    Anthropic one ("anthropic"), with the default body limit."""
    workspace = str(tmp_path_factory.mktemp("workspace"))
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(headers={"x-api-key": CLIENT_KEY}))
        running = {}
        for name, fake in (
            ("openai", FakeOpenAI(dialect="openai", api_key=UPSTREAM_KEY)),
            ("anthropic", FakeAnthropic(api_key=UPSTREAM_KEY)),
        ):
            await stack.enter_async_context(fake)
            app = make_test_app(_env(name, fake.base_url, workspace), plugins=[("hostile-echo", EchoRoute())])
            url = await stack.enter_async_context(serving(app))
            running[name] = Lynkr(name, url, fake, http)
        yield running


@pytest.fixture(params=["openai", "anthropic"])
def lynkr(request, gateways) -> Lynkr:
    """Each test runs against both: the translating and the passing-through lynkr."""
    return gateways[request.param]


# --------------------------------------------------------------------------- #
# What every answer must be


def assert_anthropic_error(answer: Answer, status: int | None = None, hint: str | None = None) -> dict:
    """A 4xx Anthropic error body, its type matching the status, with a request id."""
    assert 400 <= answer.status < 500, (answer.status, answer.body[:300])
    if status is not None:
        assert answer.status == status, answer.body[:300]
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["request-id"].startswith("req_")
    body = answer.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}, body
    assert body["error"]["type"] == ERROR_TYPE_BY_STATUS.get(answer.status, "invalid_request_error"), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if hint is not None:
        assert hint in body["error"]["message"], body
    assert not PYTHON_LEAK.search(answer.body), answer.body
    return body["error"]


_stream_event = pydantic.TypeAdapter(anthropic.types.RawMessageStreamEvent)


def assert_served_message(answer: Answer, streamed: bool) -> None:
    """A complete Anthropic message as JSON, or a well-formed SSE stream of one."""
    assert answer.status == 200, answer.body[:300]
    assert answer.headers["request-id"].startswith("req_")
    assert not PYTHON_LEAK.search(answer.body), answer.body[:300]
    if not streamed:
        anthropic.types.Message.model_validate(answer.json())
        return
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse_events(answer.body)
    names = [name for name, _ in events]
    assert names[0] == "message_start", names
    assert names[-1] == "message_stop", names
    open_blocks: list[int] = []
    started = -1
    for name, data in events:
        assert data["type"] == name, (name, data)
        if name == "error":
            pytest.fail(f"stream ended with an error: {data}")
        if name == "ping":
            continue
        _stream_event.validate_python(data)
        if name == "content_block_start":
            assert data["index"] == started + 1 and not open_blocks, events
            started = data["index"]
            open_blocks.append(started)
        elif name == "content_block_delta":
            assert open_blocks == [data["index"]], events
        elif name == "content_block_stop":
            assert open_blocks.pop() == data["index"], events


def assert_served_count(answer: Answer) -> None:
    assert answer.status == 200, answer.body[:300]
    count = answer.json()
    assert set(count) == {"input_tokens"} and isinstance(count["input_tokens"], int), count
    assert count["input_tokens"] >= 0


async def assert_still_serving(lynkr: Lynkr) -> None:
    """The health probe and a plain request are answered."""
    health = await lynkr.send("GET", "/health")
    assert health.status == 200 and health.json() == {"status": "ok"}
    assert_served_message(await lynkr.post(VALID), streamed=False)


def _b(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _with(**fields: Any) -> dict[str, Any]:
    return {**VALID, **fields}


def _blocks(*blocks: Any) -> dict[str, Any]:
    return _with(messages=[{"role": "user", "content": list(blocks)}])


def _nested(depth: int, opener: bytes = b'{"a":', inner: bytes = b"1", closer: bytes = b"}") -> bytes:
    return opener * depth + inner + closer * depth


# --------------------------------------------------------------------------- #
# Malformed bodies: a 400 that says what is wrong


@dataclass(frozen=True)
class Bad:
    """A body both POST routes answer with a 400. ``hint`` is part of the message;
    ``translated`` is, when lynkr translates the request (an Anthropic-format upstream
    gets malformed blocks as they came, and refuses them in its own words)."""

    id: str
    body: bytes
    hint: str | None
    count_tokens_accepts: bool = False
    translated: str | None = None


TEXT_BLOCK = {"type": "text", "text": "hi"}
BAD_BODIES = [
    Bad("not json", b"{not json", "not valid JSON"),
    Bad("truncated", b'{"model": "m", "messages": [', "not valid JSON"),
    Bad("trailing garbage", _b(VALID) + b" x", "not valid JSON"),
    Bad("empty", b"", "empty"),
    Bad("whitespace only", b" \r\n\t ", "empty"),
    Bad("array", b"[1, 2]", "Expected `object`, got `array`"),
    Bad("number", b"42", "Expected `object`, got `int`"),
    Bad("string", b'"hello"', "Expected `object`, got `str`"),
    Bad("null", b"null", "Expected `object`, got `null`"),
    Bad("100,000 levels of [", b"[" * 100_000, "Expected `object`, got `array`"),
    Bad("100,000 levels in metadata", _b(VALID)[:-1] + b',"metadata":' + _nested(100_000) + b"}", "nested too deeply"),
    Bad(
        "100,000 levels in a tool_use input",
        _b(_blocks({"type": "tool_use", "id": "t", "name": "n", "input": 0})).replace(
            b'"input": 0', b'"input": ' + _nested(100_000, b"[", b"", b"]")
        ),
        "nested too deeply",
    ),
    Bad("NaN", _b(_with(temperature=0.5)).replace(b"0.5", b"NaN"), "not valid JSON"),
    Bad("Infinity", _b(_with(temperature=0.5)).replace(b"0.5", b"Infinity"), "not valid JSON"),
    Bad("-Infinity", _b(_with(temperature=0.5)).replace(b"0.5", b"-Infinity"), "not valid JSON"),
    Bad("lone high surrogate", _b(VALID).replace(b"hello", b"\\ud800"), "not valid JSON"),
    Bad("lone low surrogate", _b(VALID).replace(b"hello", b"\\udc00x"), "not valid JSON"),
    Bad("surrogate in a block", _b(_blocks({"type": "text", "text": "\\ud800"})).replace(b"\\\\", b"\\"), "not valid JSON"),
    Bad("invalid UTF-8 in a string", _b(VALID).replace(b"hello", b"\xff\xfe"), "not valid UTF-8"),
    Bad("invalid UTF-8 in the model", _b(VALID).replace(b"claude", b"\xc3\x28"), "not valid UTF-8"),
    Bad("invalid UTF-8 outside strings", b"\xff\xfe" + _b(VALID), "not valid JSON"),
    Bad("UTF-16 body", json.dumps(VALID).encode("utf-16"), "not valid JSON"),
    Bad("model missing", _b({"max_tokens": 5, "messages": HELLO}), "missing required field `model`"),
    Bad("messages missing", _b({"model": "m", "max_tokens": 5}), "missing required field `messages`"),
    Bad("max_tokens missing", _b({"model": "m", "messages": HELLO}), "max_tokens: Field required", True),
    Bad("role missing", _b(_with(messages=[{"content": "x"}])), "messages[0]"),
    Bad("content missing", _b(_with(messages=[{"role": "user"}])), "content"),
    Bad("model empty", _b(_with(model="")), "model: must not be empty"),
    Bad("model blank", _b(_with(model=" \t")), "model: must not be empty"),
    Bad("model a number", _b(_with(model=5)), "model: Expected `str`"),
    Bad("max_tokens a string", _b(_with(max_tokens="5")), "max_tokens: Expected `int`"),
    Bad("max_tokens a float", _b(_with(max_tokens=5.5)), "max_tokens: Expected `int`"),
    Bad("max_tokens zero", _b(_with(max_tokens=0)), "max_tokens: must be at least 1", True),
    Bad("max_tokens negative", _b(_with(max_tokens=-5)), "max_tokens: must be at least 1", True),
    Bad("max_tokens -2**63", _b(_with(max_tokens=-(2**63))), "max_tokens: must be at least 1", True),
    Bad("temperature 1e400", _b(_with(temperature=0.5)).replace(b"0.5", b"1e400"), "temperature: Number out of range"),
    Bad("messages a string", _b(_with(messages="hi")), "messages: Expected `array`"),
    Bad("messages an object", _b(_with(messages={"role": "user"})), "messages: Expected `array`"),
    Bad("content a number", _b(_with(messages=[{"role": "user", "content": 5}])), "messages[0].content"),
    Bad("stream a string", _b(_with(stream="yes")), "stream: Expected `bool`"),
    Bad("stop_sequences a string", _b(_with(stop_sequences="STOP")), "stop_sequences"),
    Bad("stop_sequences of numbers", _b(_with(stop_sequences=[1])), "stop_sequences[0]"),
    Bad("system a number", _b(_with(system=5)), "system"),
    Bad("tools an object", _b(_with(tools={"name": "t"})), "tools: Expected `array`"),
    Bad("a tool a number", _b(_with(tools=[5])), "tools[0]: Expected `object`, got `int`"),
    Bad("a tool without a name", _b(_with(tools=[{"input_schema": {}}])), "tools[0]: Object missing required field `name`"),
    Bad("a tool name a number", _b(_with(tools=[{"name": 7, "input_schema": {}}])), "tools[0].name"),
    Bad("tool_choice a number", _b(_with(tool_choice=5)), "tool_choice: Expected `object`"),
    Bad("tool_choice unknown", _b(_with(tool_choice={"type": "sometimes"})), "tool_choice"),
    Bad("tool_choice tool without name", _b(_with(tool_choice={"type": "tool"})), "tool_choice"),
    Bad("thinking a string", _b(_with(thinking="yes")), "thinking: Expected `object`"),
    Bad("thinking without budget", _b(_with(thinking={"type": "enabled"})), "thinking"),
    Bad("metadata user_id a number", _b(_with(metadata={"user_id": 5})), "metadata.user_id"),
]
# Malformed blocks and tools: translated, lynkr refuses them naming the place; passed
# through, an Anthropic-format upstream gets them as they came (and refuses them itself).
BAD_CONTENT = [
    Bad("a block a number", _b(_blocks(5)), None, translated="messages[0].content[0]: Expected `object`, got `int`"),
    Bad("a block without a type", _b(_blocks({"text": "x"})), None, translated="messages[0].content[0]: Object missing required field `type`"),
    Bad("a block type null", _b(_blocks({"type": None})), None, translated="messages[0].content[0].type"),
    Bad("image without media_type", _b(_blocks({"type": "image", "source": {"type": "base64", "data": "AA=="}})), None,
        translated="messages[0].content[0].source: Object missing required field `media_type`"),
    Bad("image of an unknown source", _b(_blocks({"type": "image", "source": {"type": "ftp"}})), None,
        translated="messages[0].content[0].source.type: Invalid value 'ftp'"),
    Bad("text a number", _b(_blocks({"type": "text", "text": 5})), None, translated="messages[0].content[0].text"),
    Bad("cache_control a number", _b(_blocks({"type": "text", "text": "x", "cache_control": 5})), None,
        translated="messages[0].content[0].cache_control"),
    Bad("tool_result content of numbers", _b(_blocks({"type": "tool_result", "tool_use_id": "t", "content": [5]})), None,
        translated="messages[0].content[0].content[0]"),
    Bad("document content of numbers", _b(_blocks({"type": "document", "source": {"type": "content", "content": [7]}})),
        None, translated="messages[0].content[0].source.content[0]"),
    Bad("search result of numbers", _b(_blocks({"type": "search_result", "source": "s", "title": "t", "content": [7]})),
        None, translated="messages[0].content[0].content[0]"),
    Bad("system blocks of numbers", _b(_with(system=[5])), None, translated="system[0]"),
    Bad("a tool without a schema", _b(_with(tools=[{"name": "t"}])), None,
        translated="tools[0]: Object missing required field `input_schema`"),
    Bad("invalid UTF-8 in a block", _b(_blocks(TEXT_BLOCK)).replace(b'"hi"', b'"\xed\xa0\x80"'), None,
        translated="messages[0].content[0]: not valid UTF-8"),
    Bad("1e400 in a tool input", _b(_blocks({"type": "tool_use", "id": "t", "name": "n", "input": {"x": 7}})).replace(
        b"7", b"1e400"), None, translated="messages[0].content[0].input[...]: Number out of range"),
]


def _bad_ids(cases: list[Bad]) -> list[str]:
    return [case.id for case in cases]


@pytest.mark.parametrize("case", BAD_BODIES, ids=_bad_ids(BAD_BODIES))
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
async def test_malformed_bodies_get_a_400_that_says_what_is_wrong(lynkr, case, path):
    answer = await lynkr.post(case.body, path)
    if case.count_tokens_accepts and path.endswith("count_tokens"):
        assert_served_count(answer)
        return
    assert_anthropic_error(answer, 400, case.hint)


@pytest.mark.parametrize("case", BAD_CONTENT, ids=_bad_ids(BAD_CONTENT))
async def test_malformed_blocks_are_a_400_when_translated_and_passed_on_as_they_came(gateways, case):
    translating, passing = gateways["openai"], gateways["anthropic"]
    for stream in (False, True):
        body = case.body[:-1] + b', "stream": true}' if stream else case.body
        assert_anthropic_error(await translating.post(body), 400, case.translated)
        # The Anthropic API refuses them itself; this fake upstream does not look.
        before = len(passing.fake.message_requests)
        answer = await passing.post(body)
        assert answer.status == 200 or assert_anthropic_error(answer, 400)
        sent = passing.fake.message_requests[before:]
        assert [json.loads(r.body)["messages"] for r in sent] == [json.loads(case.body)["messages"]]
    # Counting decodes only what it counts: refused with the same message, or counted.
    counted = await translating.post(case.body, "/v1/messages/count_tokens")
    assert counted.status == 200 or assert_anthropic_error(counted, 400, case.translated)
    await assert_still_serving(translating)


async def test_invalid_utf8_in_a_url_source_is_a_400(lynkr):
    """The URL check (lynkr_core.url_sources) reads URL sources before anything else does."""
    image = {"type": "image", "source": {"type": "url", "url": "https://93.184.215.14/@.png"}}
    body = _b(_blocks(image)).replace(b"@", b"\xff")
    assert_anthropic_error(await lynkr.post(body), 400)


async def test_the_server_keeps_serving_after_all_of_them(lynkr):
    for case in BAD_BODIES[:12]:
        await lynkr.post(case.body)
    await assert_still_serving(lynkr)


async def test_no_key_is_a_401_before_the_body_is_looked_at(lynkr):
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(lynkr.url + "/v1/messages", data=b"[" * 100_000) as response:
            answer = Answer(response.status, response.headers, await response.read())
    assert assert_anthropic_error(answer, 401)["type"] == "authentication_error"


# --------------------------------------------------------------------------- #
# Odd but well-formed bodies: served


async def test_unknown_block_types_and_fields_are_served(lynkr):
    body = _blocks(
        {"type": "hologram", "payload": {"x": [1, 2]}},
        {"type": "text", "text": "hi", "future_field": {"deep": True}},
    )
    for stream in (False, True):
        assert_served_message(await lynkr.post({**body, "stream": stream}), stream)
    if lynkr.name == "anthropic":  # passed on byte for byte
        assert lynkr.fake.message_requests[-1].json["messages"][0]["content"][0]["type"] == "hologram"


async def test_duplicate_keys_the_last_one_wins(lynkr):
    body = b'{"model": "first", "model": "second", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}'
    answer = await lynkr.post(body)
    assert_served_message(answer, False)
    assert answer.json()["model"] == "second"


@pytest.mark.parametrize("max_tokens", [2**31, 2**63 - 1, 2**64, 10**30])
async def test_max_tokens_overflow_is_served_or_refused_never_a_500(lynkr, max_tokens):
    answer = await lynkr.post(_with(max_tokens=max_tokens))
    if answer.status == 200:
        assert_served_message(answer, False)
    else:
        assert_anthropic_error(answer, 400, "max_tokens")


async def test_very_long_strings_are_served(lynkr):
    long_text = "x" * 1_000_000 + "é☃𝄞"
    body = _with(
        model="m" * 65_536,
        system=long_text,
        messages=[{"role": "user", "content": [{"type": "text", "text": long_text}]}],
        stop_sequences=["s" * 10_000],
    )
    assert_served_message(await lynkr.post(body), False)
    # Counting tokens offline reads every character (about 2.5 MB/s): a shorter one.
    counted = {"model": body["model"], "system": long_text[-200_000:], "messages": HELLO}
    assert_served_count(await lynkr.post(counted, "/v1/messages/count_tokens"))


@pytest.mark.parametrize("depth", [100, 600])
@pytest.mark.parametrize("stream", [False, True])
async def test_deep_but_parseable_nesting_is_served_or_refused(lynkr, depth, stream):
    """Nesting in a tool's schema and a tool_use input: served, or refused as too deep
    (msgspec's limit is the interpreter's recursion limit minus the stack in use, so
    where exactly depends on the caller; translating a schema recurses in Python too);
    never a RecursionError's 500."""
    schema = _nested(depth, b'{"type":"object","properties":{"a":', b'{"type":"string"}', b"}}")
    tool_input = _nested(depth, b"{\"a\":", b"1", b"}")
    body = (
        b'{"model":"m","max_tokens":16,"stream":' + (b"true" if stream else b"false")
        + b',"tools":[{"name":"deep","input_schema":' + schema + b"}]"
        + b',"messages":[{"role":"user","content":"go"},'
        + b'{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"deep","input":'
        + tool_input + b"}]},"
        + b'{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"done"}]}]}'
    )
    answer = await lynkr.post(body)
    if depth == 100 or answer.status == 200:
        assert_served_message(answer, stream)
    else:
        assert_anthropic_error(answer, 400, "nested too deeply")
    await assert_still_serving(lynkr)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
async def test_a_json_body_under_another_content_type_is_read_as_json(lynkr, content_type):
    answer = await lynkr.post(VALID, headers={"content-type": content_type})
    assert_served_message(answer, False)


async def test_a_form_or_multipart_body_is_a_400(lynkr):
    form = aiohttp.FormData({"model": "m", "max_tokens": "5"})
    answer = await lynkr.send("POST", "/v1/messages", form)
    assert_anthropic_error(answer, 400, "not valid JSON")
    answer = await lynkr.post(b"model=m&max_tokens=5", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_anthropic_error(answer, 400, "not valid JSON")


async def test_ten_thousand_tools_are_served(lynkr):
    tools = [
        {"name": f"tool_{i}", "description": f"tool number {i}",
         "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}
        for i in range(10_000)
    ]
    started = time.monotonic()
    for stream in (False, True):
        assert_served_message(await lynkr.post(_with(tools=tools, stream=stream)), stream)
    took = time.monotonic() - started
    print(f"\n10,000 tools through {lynkr.name}: 2 requests in {took:.2f} s")
    if lynkr.name == "openai":
        sent = lynkr.fake.chat_requests[-1].json["tools"]
        assert [tool["function"]["name"] for tool in sent[:10_000]] == [t["name"] for t in tools]
    else:
        assert len(lynkr.fake.message_requests[-1].json["tools"]) >= 10_000
        counted = {"model": "m", "messages": HELLO, "tools": tools}
        assert_served_count(await lynkr.post(counted, "/v1/messages/count_tokens"))


# --------------------------------------------------------------------------- #
# Sizes: 413 before the body is read, or as soon as the limit is passed


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _peak_rss_during(work) -> tuple[Any, int, float]:
    """Run ``work``; its result, the peak RSS growth of this process (lynkr, the fakes
    and the client all run here) while it ran, and the seconds it took."""
    base = peak = _rss()
    done = asyncio.Event()

    async def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            await asyncio.sleep(0.002)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    try:
        result = await work
    finally:
        done.set()
        await sampler
    return result, max(peak, _rss()) - base, time.monotonic() - started


async def upload(lynkr: Lynkr, method: str, path: str, chunks, length: int | None) -> Answer:
    """Send a body from ``chunks`` on a raw connection (chunked when ``length`` is None)
    while reading the answer; stop sending once it has come. aiohttp, as a client, stops
    with a write error when the server answers and closes before the body is sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", lynkr.port)
    framing = b"transfer-encoding: chunked" if length is None else b"content-length: %d" % length
    writer.write(
        f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n".encode()
        + b"x-api-key: " + CLIENT_KEY.encode() + b"\r\ncontent-type: application/json\r\n"
        + framing + b"\r\n\r\n"
    )

    async def send_body():
        with contextlib.suppress(ConnectionError):
            async for chunk in chunks:
                writer.write(chunk if length is not None else b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
            if length is None:
                writer.write(b"0\r\n\r\n")
                await writer.drain()

    sender = asyncio.create_task(send_body())
    try:
        data = await asyncio.wait_for(_read_until_closed(reader), timeout=30)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return _parse_http(data)


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent. A write that failed because the server closed the
    connection ends the reading too, without losing what had been read."""
    received = []
    with contextlib.suppress(ConnectionError):
        while piece := await reader.read(65536):
            received.append(piece)
    return b"".join(received)


def _parse_http(data: bytes) -> Answer:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    return Answer(int(status_line.split()[1]), headers, body)


async def _image_chunks(megabytes: int):
    head = _b(_blocks({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "@"}}))
    before, after = head.split(b"@")
    chunk = b"A" * (1024 * 1024)
    yield before
    for _ in range(megabytes):
        yield chunk
    yield after


IMAGE_BODY_LENGTH = 100 * 1024 * 1024 + len(_b(_blocks({"type": "image", "source": {
    "type": "base64", "media_type": "image/png", "data": ""}})))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_100_mb_base64_image_is_a_413_without_buffering_it(lynkr, declared):
    length = IMAGE_BODY_LENGTH if declared else None
    answer, growth, seconds = await _peak_rss_during(
        upload(lynkr, "POST", "/v1/messages", _image_chunks(100), length)
    )
    print(f"\n100 MB image ({'declared' if declared else 'chunked'}) via {lynkr.name}: "
          f"{answer.status} in {seconds:.2f} s, peak RSS +{growth / 1e6:.1f} MB")
    assert assert_anthropic_error(answer, 413)["type"] == "request_too_large"
    # Declared: refused before a byte of the body is read. Chunked: read up to the limit.
    assert growth < (16 if declared else DEFAULT_LIMIT / 1e6 + 40) * 1e6
    await assert_still_serving(lynkr)


async def _spaces(megabytes: int):
    for _ in range(megabytes):
        yield b" " * (1024 * 1024)


@pytest.mark.parametrize(
    "path", ["/v1/messages", "/v1/messages/count_tokens", "/hostile/echo", "/v1/models", "/health"]
)
async def test_a_body_over_the_limit_is_a_413_on_every_route(lynkr, path):
    method = "POST" if "/v1/messages" in path or path.startswith("/hostile") else "GET"
    answer = await upload(lynkr, method, path, _spaces(1), DEFAULT_LIMIT + 1)
    assert assert_anthropic_error(answer, 413)["type"] == "request_too_large"
    if method == "POST":  # chunked: no length to refuse early; cut at the limit
        answer = await upload(lynkr, method, path, _spaces(DEFAULT_LIMIT // (1024 * 1024) + 2), None)
        assert_anthropic_error(answer, 413)
    await assert_still_serving(lynkr)


# --------------------------------------------------------------------------- #
# Headers: nothing injected, nothing echoed


async def raw_exchange(lynkr: Lynkr, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as bytes on a new connection; the status, headers and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", lynkr.port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(_read_until_closed(reader), timeout=10)
    finally:
        writer.close()
    answer = _parse_http(data)
    return answer.status, answer.headers, answer.body


def raw_request(extra_headers: bytes, *, target: bytes = b"/v1/messages", method: bytes = b"POST",
                body: bytes = _b(VALID)) -> bytes:
    return (
        method + b" " + target + b" HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        + b"x-api-key: " + CLIENT_KEY.encode() + b"\r\ncontent-type: application/json\r\n"
        + extra_headers + b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


RESPONSE_HEADERS = {"content-type", "content-length", "request-id", "date", "server", "connection",
                    "transfer-encoding", "cache-control", "x-accel-buffering"}


@pytest.mark.parametrize(
    "header",
    [
        b"anthropic-beta: a\rx-evil: 1\r\n",  # bare CR
        b"anthropic-beta: a\x00b\r\n",  # NUL
        b"anthropic beta: a\r\n",  # space in the name
        b"anthropic-beta: " + b"b" * 100_000 + b"\r\n",  # oversized
        b"x-api-key : k\r\n",  # space before the colon
    ],
    ids=["bare CR", "NUL", "space in name", "100 KB value", "space before colon"],
)
async def test_malformed_header_lines_are_refused_by_the_http_layer(lynkr, header):
    status, headers, _ = await raw_exchange(lynkr, raw_request(header))
    # Hypercorn's HTTP parser refuses these before lynkr sees the request: a bare 4xx.
    assert status in (400, 431)
    assert set(headers) <= RESPONSE_HEADERS, headers
    await assert_still_serving(lynkr)


async def test_header_values_are_never_echoed_or_forwarded_raw(lynkr):
    before = len(lynkr.upstream_requests())
    headers = (
        b"anthropic-beta: caf\xe9\xff-beta\r\n"  # obs-text
        b"anthropic-version: 2023-06-01\nx-evil: 1\r\n"  # bare LF ends a header line for h11
        b"request-id: req_from_the_client\r\n"
        b"x-request-id: forged\r\n"
    )
    body = _b(_with(model="claude\r\nx-injected: 1", metadata={"user_id": "u\r\nx-injected: 2"}))
    status, response_headers, answer = await raw_exchange(lynkr, raw_request(headers, body=body))
    assert status == 200, answer
    assert set(response_headers) <= RESPONSE_HEADERS, response_headers
    assert response_headers["request-id"].startswith("req_") and "client" not in response_headers["request-id"]
    assert json.loads(answer)["model"] == "claude\r\nx-injected: 1"  # in the JSON body, escaped
    sent = lynkr.upstream_requests()[before:]
    assert len(sent) == 1
    assert "x-evil" not in sent[0].headers and "x-injected" not in sent[0].headers
    assert "x-request-id" not in sent[0].headers
    if lynkr.name == "anthropic":  # only anthropic-version and anthropic-beta are passed on
        assert sent[0].headers["anthropic-beta"].startswith("caf")
        assert "\n" not in sent[0].headers["anthropic-version"]


async def test_error_answers_echo_no_header_either(lynkr):
    headers = b"anthropic-beta: x\r\nx-evil: 1\r\n"
    status, response_headers, body = await raw_exchange(lynkr, raw_request(headers, body=b"{oops"))
    assert status == 400 and b"invalid_request_error" in body
    assert set(response_headers) <= RESPONSE_HEADERS, response_headers


# --------------------------------------------------------------------------- #
# Path-like names


PATH_LIKE_MODELS = [
    "../../etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "file:///etc/passwd",
    "a\u0000b",
    "claude\u202e\u0007\x1b[31m",
    "http://169.254.169.254/latest/meta-data",
]


@pytest.mark.parametrize("model", PATH_LIKE_MODELS)
async def test_path_like_model_names_are_only_names(lynkr, model):
    answer = await lynkr.post(_with(model=model))
    assert_served_message(answer, False)
    assert answer.json()["model"] == model
    if lynkr.name == "anthropic":
        request = lynkr.fake.message_requests[-1]
        assert request.json["model"] == model
        assert request.path == "/v1/messages"
    else:
        request = lynkr.fake.chat_requests[-1]
        assert request.json["model"] == "gpt-4o" and request.path == "/v1/chat/completions"


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/models/../../etc/passwd",
        b"/v1/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/v1/models/..%2f..%2f..%2fetc%2fpasswd",
        b"/v1/models/a%00b",
        b"/v1/models/%ff%fe",
        b"/v1/models/%zz",
        b"/v1/models/%0d%0ax-evil:%201",
        b"/v1/models/" + b"a" * 8000,
        b"/v1/models//etc/passwd",
        b"/v1/models/C:%5cwindows",
    ],
)
async def test_path_like_model_ids_in_the_url_are_a_404(lynkr, target):
    status, headers, body = await raw_exchange(lynkr, raw_request(b"", target=target, method=b"GET", body=b""))
    answer = Answer(status, headers, body)
    assert assert_anthropic_error(answer, 404)["type"] == "not_found_error"
    assert set(headers) <= RESPONSE_HEADERS, headers


async def test_raw_control_bytes_in_the_target_are_refused_by_the_http_layer(lynkr):
    for target in (b"/v1/models/a\x00b", b"/v1/models/\xff", b"/v1/models/a b"):
        status, _, _ = await raw_exchange(lynkr, raw_request(b"", target=target, method=b"GET", body=b""))
        assert status == 400
    await assert_still_serving(lynkr)


# --------------------------------------------------------------------------- #
# Every route, every method, hostile queries


ROUTES = [
    ("/v1/messages", {"POST"}),
    ("/v1/messages/count_tokens", {"POST"}),
    ("/v1/models", {"GET"}),
    ("/v1/models/claude-opus-4-8", {"GET"}),
    ("/", {"GET", "HEAD"}),
    ("/health", {"GET", "HEAD"}),
    ("/health/live", {"GET", "HEAD"}),
    ("/ready", {"GET", "HEAD"}),
    ("/health/ready", {"GET", "HEAD"}),
    ("/echo/info", {"GET"}),  # the example plugin's route
    ("/hostile/echo", {"POST"}),  # this module's plugin route
]
QUERIES = ["", "?beta=true", "?%ff%fe=%00", "?a=1&a=2&&=&beta", "?" + "q" * 6000, "?x=%0d%0aX-Evil:%201"]


@pytest.mark.parametrize("query", QUERIES, ids=["none", "beta", "bad escapes", "odd pairs", "6 KB", "CRLF"])
async def test_every_route_and_method_answers_without_a_5xx(lynkr, query):
    for path, methods in ROUTES:
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            body = _b(VALID) if method in ("POST", "PUT", "PATCH") else None
            answer = await lynkr.send(method, path + query, body)
            assert answer.status < 500, (method, path, answer.status, answer.body[:200])
            assert answer.headers["request-id"].startswith("req_")
            assert "x-evil" not in answer.headers
            allowed = methods | {"HEAD"} if "GET" in methods else methods
            if method not in allowed:
                assert answer.status == 405, (method, path)
            if method == "HEAD" or answer.status == 200:
                continue
            assert_anthropic_error(answer)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/hostile/echo", b"{not json", 400),
        ("/hostile/echo", b"[" * 100_000, 400),
        ("/hostile/echo", b"\xff", 400),
        ("/hostile/echo", b"[1]", 200),
        ("/v1/nothing/here", b"{}", 404),
        ("/V1/MESSAGES", b"{}", 404),
    ],
)
async def test_plugin_and_unknown_routes_get_anthropic_errors(lynkr, path, body, status):
    answer = await lynkr.send("POST", path, body)
    assert answer.status == status
    if status != 200:
        assert_anthropic_error(answer, status)


async def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_clients_host(lynkr):
    status, headers, body = await raw_exchange(
        lynkr, raw_request(b"", target=b"/v1/messages/").replace(b"host: 127.0.0.1", b"host: evil.example")
    )
    assert "evil.example" not in headers.get("location", "")
    assert_anthropic_error(Answer(status, headers, body), 404)


# --------------------------------------------------------------------------- #
# Property: valid and near-valid requests are served or refused, never a 5xx


def _cases(requests: st.SearchStrategy[dict]) -> st.SearchStrategy[Mutated]:
    valid = requests.map(lambda body: Mutated("none", "", body))
    return st.one_of(valid, near_valid(requests))


PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def _refused_versioned_tool(lynkr: Lynkr, body: dict, answer: Answer) -> bool:
    """Whether a valid request was refused for the one reason it may be: one of Anthropic's
    versioned tools (``bash_20250124``...), which the translating lynkr's provider cannot take
    (the web search tool is run by lynkr-web-search), named in a 400."""
    kinds = [tool["type"] for tool in body.get("tools") or () if tool.get("type") not in (None, "custom")]
    return lynkr.name == "openai" and answer.status == 400 \
        and any(f"({kind})".encode() in answer.body for kind in kinds)


async def _check_case(lynkr: Lynkr, case: Mutated, path: str) -> None:
    note(f"{lynkr.name} {path}: {case.describe()}")
    answer = await lynkr.post(case.body, path)
    event(f"{case.mutation}: {answer.status}")
    if answer.status >= 400:
        assert case.mutation != "none" or _refused_versioned_tool(lynkr, case.body, answer), \
            f"a valid request was refused: {answer.body[:500]!r}"
        assert_anthropic_error(answer)
    elif path.endswith("count_tokens"):
        assert_served_count(answer)
    else:
        assert_served_message(answer, case.body.get("stream") is True)
    await assert_still_serving(lynkr)


@PROPERTY
@given(case=_cases(messages_requests()))
async def test_messages_valid_and_near_valid_are_served_or_refused(lynkr, case):
    await _check_case(lynkr, case, "/v1/messages")


@PROPERTY
@given(case=_cases(count_tokens_requests()))
async def test_count_tokens_valid_and_near_valid_are_served_or_refused(lynkr, case):
    await _check_case(lynkr, case, "/v1/messages/count_tokens")


# --------------------------------------------------------------------------- #
# The pieces behind the 400s


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (_blocks(TEXT_BLOCK), None),
        (_blocks({"type": "hologram", "x": 1}), None),
        (_blocks(TEXT_BLOCK, {"type": "image", "source": {"type": "base64"}}),
         "messages[0].content[1].source: Object missing required field `media_type`"),
        (_with(system=[TEXT_BLOCK, 5]), "system[1]: Expected `object`, got `int`"),
        (_blocks({"type": "tool_result", "tool_use_id": "t", "content": [TEXT_BLOCK, {"type": "text"}]}),
         "messages[0].content[0].content[1]: Object missing required field `text`"),
        (_with(tools=[{"name": "t", "input_schema": {}}, {"name": "u"}]),
         "tools[1]: Object missing required field `input_schema`"),
        (_with(output_config={"format": None}), None),
    ],
)
async def test_request_problem_names_the_first_malformed_part(body, problem):
    assert request_problem(decode_request(_b(body))) == problem


async def test_translation_refuses_what_it_cannot_read_with_a_400():
    target = TargetOptions(model="gpt-4o")
    bad_block = decode_request(_b(_blocks({"type": "image", "source": {"type": "url"}})))
    with pytest.raises(InvalidRequest, match=r"messages\[0\]\.content\[0\]\.source: Object missing required field `url`"):
        translate_request(bad_block, target)
    deep_schema = _nested(400, b'{"type":"object","properties":{"a":', b"{}", b"}}")
    deep = decode_request(_b(VALID)[:-1] + b',"tools":[{"name":"t","input_schema":' + deep_schema + b"}]}")
    with pytest.raises(InvalidRequest, match="nested too deeply"):
        translate_request(deep, target)
