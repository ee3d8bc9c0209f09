"""Prompt caching toward providers: what lynkr sends upstream keeps a provider's cache warm,
and what the provider says about its cache reaches the client.

- OpenRouter's Claude and Gemini models get the client's ``cache_control`` breakpoints on
  the matching content parts (at most four); other models get none;
- OpenAI gets a ``prompt_cache_key``, a digest of the session id: the same on every turn
  of a session, different between sessions (a setting turns it off);
- Claude Code's per-run ``x-anthropic-billing-header`` line leaves the system prompt for
  OpenAI-format upstreams; an Anthropic-format upstream gets the request as it came;
- cache reads and writes (OpenAI/OpenRouter ``prompt_tokens_details``, DeepSeek's
  ``prompt_cache_hit_tokens``, llama.cpp's ``cached_tokens``) become Anthropic's
  ``cache_read_input_tokens`` / ``cache_creation_input_tokens``, JSON and streamed, and the
  other way on lynkr's OpenAI routes.

The prefix measurement on a replayed Claude Code session is in
``tests/test_prompt_caching_prefix.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import openai
import pytest
from aiohttp import web

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.gateway import CLIENT_KEY, Harness, claude_code_headers, openai_upstream_env
from lynkr_core.testing.gateway import claude_code_turns as claude_code_turns  # a fixture
from lynkr_core.testing.scripted import ScriptedServer
from lynkr_core.testing.server import make_test_app, serving

KEY = "sk-upstream"
EPHEMERAL = {"type": "ephemeral"}
BILLING = "x-anthropic-billing-header:"


def openrouter_env(base: str, **extra: str) -> dict[str, str]:
    return {
        "MODEL_PROVIDER": "openrouter",
        "OPENROUTER_ENDPOINT": f"{base}/api/v1/chat/completions",
        "OPENROUTER_API_KEY": KEY,
        "OPENROUTER_MODEL": "anthropic/claude-sonnet-4.5",
        "LYNKR_UPSTREAM_RETRIES": "0",
        **extra,
    }


def openai_env(base: str, **extra: str) -> dict[str, str]:
    # the prompt cache key is on by default only toward api.openai.com
    return openai_upstream_env(base, KEY, **{"OPENAI_PROMPT_CACHE_KEY": "true", "LYNKR_UPSTREAM_RETRIES": "0",
                                             **extra})


OPENROUTER = Harness(openrouter_env)
OPENAI = Harness(openai_env)


def claude_code_request(turn: dict[str, Any], session: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A captured Claude Code body and its headers, as a run with session ``session`` sent them."""
    body = json.loads(json.dumps(turn).replace("SESSION_ID", session))
    headers = {**claude_code_headers(), "x-claude-code-session-id": session}
    return body, headers


def breakpoints(body: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """Each marked content part sent upstream: its message's index and role, its marker."""
    return [
        (index, message["role"], part["cache_control"])
        for index, message in enumerate(body["messages"])
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if "cache_control" in part
    ]


# --------------------------------------------------------------------------- breakpoints


@pytest.mark.parametrize("model", ["anthropic/claude-sonnet-4.5", "google/gemini-2.5-pro"])
async def test_claude_code_breakpoints_reach_openrouter_claude_and_gemini(claude_code_turns, model):
    fake = FakeOpenAI([ChatReply("ok"), ChatReply("done")], dialect="openrouter", api_key=KEY)
    async with OPENROUTER.run(fake, OPENROUTER_MODEL=model) as gw:
        for turn in claude_code_turns:
            body, headers = claude_code_request(turn, "3f0c8f3e-0000-4000-8000-000000000001")
            status, _, raw = await gw.post(body, headers)
            assert status == 200, raw
    first, second = (request.json for request in fake.chat_requests)
    system = claude_code_turns[0]["system"]

    # the system prompt as parts: the billing line gone, Claude Code's two breakpoints kept
    assert first["messages"][0] == {
        "role": "system",
        "content": [
            {"type": "text", "text": system[1]["text"], "cache_control": EPHEMERAL},
            {"type": "text", "text": system[2]["text"], "cache_control": EPHEMERAL},
            {"type": "text", "text": claude_code_turns[0]["messages"][1]["content"]},
        ],
    }
    # turn 1: the last breakpoint on the prompt's text part
    user = claude_code_turns[0]["messages"][0]["content"]
    assert first["messages"][1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": user[0]["text"]},
            {"type": "text", "text": user[1]["text"], "cache_control": EPHEMERAL},
        ],
    }
    assert breakpoints(first) == [(0, "system", EPHEMERAL)] * 2 + [(1, "user", EPHEMERAL)]
    # turn 2: the breakpoint moved to the tool result, as Claude Code moved it
    result = claude_code_turns[1]["messages"][3]["content"][0]
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": result["tool_use_id"],
        "content": [{"type": "text", "text": result["content"], "cache_control": EPHEMERAL}],
    }
    assert breakpoints(second) == [(0, "system", EPHEMERAL)] * 2 + [(3, "tool", EPHEMERAL)]
    assert second["messages"][0] == first["messages"][0]


async def test_a_model_without_breakpoints_gets_none(claude_code_turns):
    fake = FakeOpenAI([ChatReply("ok")], dialect="openrouter", api_key=KEY)
    async with OPENROUTER.run(fake, OPENROUTER_MODEL="openai/gpt-4o") as gw:
        body, headers = claude_code_request(claude_code_turns[1], "3f0c8f3e-0000-4000-8000-000000000002")
        status, _, raw = await gw.post(body, headers)
        assert status == 200, raw
    sent = fake.chat_requests[0]
    assert b"cache_control" not in sent.body
    system = sent.json["messages"][0]["content"]
    assert isinstance(system, str) and system.startswith("You are a Claude agent")
    assert isinstance(sent.json["messages"][-1]["content"], str)  # the tool result


async def test_the_model_list_is_a_setting_and_a_ttl_is_kept():
    fake = FakeOpenAI([ChatReply("ok")], dialect="openrouter", api_key=KEY)
    settings = {"OPENROUTER_MODEL": "qwen/qwen3-max", "OPENROUTER_CACHE_CONTROL_MODELS": "qwen/*"}
    async with OPENROUTER.run(fake, **settings) as gw:
        await gw.sdk.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=50,
            system=[{"type": "text", "text": "a long manual", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            messages=[{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": EPHEMERAL}]}],
        )
    assert fake.chat_requests[0].json["messages"] == [
        {"role": "system", "content": [
            {"type": "text", "text": "a long manual", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ]},
        {"role": "user", "content": [{"type": "text", "text": "q", "cache_control": EPHEMERAL}]},
    ]


async def test_at_most_four_breakpoints_the_first_three_and_the_last():
    fake = FakeOpenAI([ChatReply("ok")], dialect="openrouter", api_key=KEY)
    texts = [f"part {n}" for n in range(6)]
    async with OPENROUTER.run(fake) as gw:
        await gw.sdk.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=50,
            system=[{"type": "text", "text": t, "cache_control": EPHEMERAL} for t in texts[:3]],
            messages=[{"role": "user", "content": [
                {"type": "text", "text": t, "cache_control": EPHEMERAL} for t in texts[3:]
            ]}],
        )
    sent = fake.chat_requests[0].json["messages"]
    marked = [p["text"] for m in sent for p in m["content"] if "cache_control" in p]
    assert marked == ["part 0", "part 1", "part 2", "part 5"]
    assert [p["text"] for p in sent[1]["content"]] == texts[3:]  # nothing else lost


# --------------------------------------------------------------------------- prompt_cache_key


def expected_key(session: str) -> str:
    return "lynkr-" + hashlib.sha256(b"lynkr prompt cache key\x00" + session.encode()).hexdigest()[:32]


async def test_prompt_cache_key_is_stable_in_a_session_and_differs_between_sessions(claude_code_turns):
    one, two = "3f0c8f3e-0000-4000-8000-00000000000a", "3f0c8f3e-0000-4000-8000-00000000000b"
    fake = FakeOpenAI([ChatReply("ok")] * 3, api_key=KEY)
    async with OPENAI.run(fake) as gw:
        for turn, session in ((claude_code_turns[0], one), (claude_code_turns[1], one), (claude_code_turns[0], two)):
            body, headers = claude_code_request(turn, session)
            status, _, raw = await gw.post(body, headers)
            assert status == 200, raw
    keys = [request.json["prompt_cache_key"] for request in fake.chat_requests]
    assert keys == [expected_key(one), expected_key(one), expected_key(two)]
    assert keys[0] != keys[2] and len(keys[0]) <= 64
    assert all(one not in request.body.decode() for request in fake.chat_requests[:2])  # a digest, not the id


async def test_no_prompt_cache_key_without_a_session_or_when_turned_off(claude_code_turns):
    fake = FakeOpenAI([ChatReply("ok")] * 2, api_key=KEY)
    async with OPENAI.run(fake) as gw:
        await gw.sdk.messages.create(model="gpt-4o", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    assert "prompt_cache_key" not in fake.chat_requests[0].json
    fake = FakeOpenAI([ChatReply("ok")], api_key=KEY)
    async with OPENAI.run(fake, OPENAI_PROMPT_CACHE_KEY="false") as gw:
        body, headers = claude_code_request(claude_code_turns[0], "3f0c8f3e-0000-4000-8000-00000000000c")
        status, _, raw = await gw.post(body, headers)
        assert status == 200, raw
    assert "prompt_cache_key" not in fake.chat_requests[0].json


async def test_no_prompt_cache_key_by_default_toward_a_server_that_is_not_openai(claude_code_turns):
    """Another OpenAI-compatible server may refuse a field it does not know: the key goes
    there only when the operator says so."""
    fake = FakeOpenAI([ChatReply("ok")], api_key=KEY)
    def default_env(base: str, **extra: str) -> dict[str, str]:
        return {k: v for k, v in openai_env(base, **extra).items() if k != "OPENAI_PROMPT_CACHE_KEY"}

    async with Harness(default_env).run(fake) as gw:
        body, headers = claude_code_request(claude_code_turns[0], "3f0c8f3e-0000-4000-8000-00000000000d")
        status, _, raw = await gw.post(body, headers)
        assert status == 200, raw
    assert "prompt_cache_key" not in fake.chat_requests[0].json


# --------------------------------------------------------------------------- billing line


async def test_the_billing_line_leaves_openai_format_requests(claude_code_turns):
    fake = FakeOpenAI([ChatReply("ok")], api_key=KEY)
    async with OPENAI.run(fake) as gw:
        body, headers = claude_code_request(claude_code_turns[0], "3f0c8f3e-0000-4000-8000-00000000000d")
        status, _, raw = await gw.post(body, headers)
        assert status == 200, raw
    sent = fake.chat_requests[0]
    assert BILLING.encode() not in sent.body and b"cc_version=" not in sent.body
    system = claude_code_turns[0]["system"]
    assert sent.json["messages"][0]["content"] == "\n\n".join(
        [system[1]["text"], system[2]["text"], claude_code_turns[0]["messages"][1]["content"]]
    )


async def test_an_anthropic_format_upstream_keeps_the_billing_line(claude_code_turns):
    anthropic_format = Harness(lambda base, **extra: {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": base,
        "ANTHROPIC_UPSTREAM_API_KEY": KEY,
        **extra,
    })
    fake = FakeAnthropic([Reply.text("ok")], api_key=KEY)
    async with anthropic_format.run(fake) as gw:
        body, headers = claude_code_request(claude_code_turns[0], "3f0c8f3e-0000-4000-8000-00000000000e")
        status, _, raw = await gw.post(body, headers)
        assert status == 200, raw
    assert fake.message_requests[0].json["system"] == body["system"]
    assert fake.message_requests[0].json["system"][0]["text"].startswith(BILLING)


# --------------------------------------------------------------------------- cached tokens in


class UsageUpstream(ScriptedServer):
    """A Chat Completions upstream that answers "ok" with exactly the ``usage`` object it was
    given: JSON, or a stream whose last chunk carries it (as OpenAI, OpenRouter, DeepSeek
    and llama.cpp send it)."""

    def __init__(self, usage: dict[str, Any]) -> None:
        super().__init__(None)
        self.usage = usage

    @property
    def chat_requests(self):
        return self.requests

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        body = record.json
        head = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            choice = {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
            return web.json_response({**head, "choices": [choice], "usage": self.usage})
        chunks = [
            {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}}]},
            {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**head, "choices": [], "usage": self.usage},
        ]
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


#: (usage as the upstream reports it, input_tokens, cache_read_input_tokens, cache_creation_input_tokens)
USAGES = {
    "openai": (
        {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
         "prompt_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 0, "audio_tokens": 0}},
        86, 1920, None,
    ),
    "openai-write": (
        {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
         "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 1920}},
        86, None, 1920,
    ),
    "openrouter": (
        {"prompt_tokens": 10339, "completion_tokens": 60, "total_tokens": 10399, "cost": 0.0012,
         "prompt_tokens_details": {"cached_tokens": 10000, "cache_write_tokens": 318}},
        21, 10000, 318,
    ),
    "deepseek": (
        {"prompt_tokens": 1500, "completion_tokens": 20, "total_tokens": 1520,
         "prompt_cache_hit_tokens": 1408, "prompt_cache_miss_tokens": 92},
        92, 1408, None,
    ),
    "llamacpp": (
        {"prompt_tokens": 812, "completion_tokens": 9, "total_tokens": 821,
         "prompt_tokens_details": {"cached_tokens": 800}},
        12, 800, None,
    ),
    "ollama-none": ({"prompt_tokens": 812, "completion_tokens": 9, "total_tokens": 821}, 812, None, None),
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("dialect", list(USAGES))
async def test_cached_tokens_reach_the_anthropic_sdk(dialect, stream):
    usage, fresh, read, written = USAGES[dialect]
    async with OPENAI.run(UsageUpstream(usage)) as gw:
        request = {"model": "gpt-4o", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    assert message.content[0].text == "ok"
    assert message.usage.input_tokens == fresh
    assert message.usage.cache_read_input_tokens == read
    assert message.usage.cache_creation_input_tokens == written
    assert message.usage.output_tokens == usage["completion_tokens"]


async def test_the_streamed_usage_is_in_the_message_delta(claude_code_turns):
    usage, fresh, read, written = USAGES["openrouter"]
    async with OPENROUTER.run(UsageUpstream(usage)) as gw:
        status, events = await gw.post_sse(*claude_code_request(claude_code_turns[0], "3f0c8f3e-0000-4000-8000-00000000000f"))
    assert status == 200
    (delta,) = [data for name, data in events if name == "message_delta"]
    assert delta["usage"] == {
        "output_tokens": 60, "input_tokens": fresh, "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


# --------------------------------------------------------------------------- cached tokens out


CACHED_ANSWER = {"input_tokens": 40, "output_tokens": 7, "cache_read_input_tokens": 1900,
                 "cache_creation_input_tokens": 60}


def lynkr_before(fake: FakeAnthropic):
    """lynkr in front of an Anthropic-format ``fake``, for an ``openai`` SDK client."""
    return make_test_app({
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": KEY,
        "LYNKR_API_KEYS": CLIENT_KEY,
        "TOOL_EXECUTION_MODE": "client",
    })


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_openai_sdk_reads_cached_tokens_from_chat_completions(stream):
    async with FakeAnthropic([Reply.text("hi", usage=copy.deepcopy(CACHED_ANSWER))], api_key=KEY) as fake:
        async with serving(lynkr_before(fake)) as url:
            async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0) as client:
                messages = [{"role": "user", "content": "hello"}]
                if stream:
                    chunks = await client.chat.completions.create(
                        model="m", messages=messages, stream=True, stream_options={"include_usage": True}
                    )
                    usage = [chunk.usage async for chunk in chunks if chunk.usage is not None][-1]
                else:
                    usage = (await client.chat.completions.create(model="m", messages=messages)).usage
    assert usage.prompt_tokens == 2000 and usage.completion_tokens == 7 and usage.total_tokens == 2007
    assert usage.prompt_tokens_details.cached_tokens == 1900
    assert usage.prompt_tokens_details.cache_write_tokens == 60


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_the_openai_sdk_reads_cached_tokens_from_responses(stream):
    async with FakeAnthropic([Reply.text("hi", usage=copy.deepcopy(CACHED_ANSWER))], api_key=KEY) as fake:
        async with serving(lynkr_before(fake)) as url:
            async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0) as client:
                if stream:
                    events = await client.responses.create(model="m", input="hello", stream=True)
                    usage = [e.response.usage async for e in events if e.type == "response.completed"][-1]
                else:
                    usage = (await client.responses.create(model="m", input="hello")).usage
    assert usage.input_tokens == 2000 and usage.output_tokens == 7
    assert usage.input_tokens_details.cached_tokens == 1900
    assert usage.input_tokens_details.cache_write_tokens == 60
