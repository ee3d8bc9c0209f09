"""Memory in a running gateway: loaded from its entry point, fed by the anthropic SDK with
session headers through lynkr-provider-anthropic to a scripted upstream that records the
system prompt it gets; the memory tools through the server-side agent loop."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic as anthropic_sdk
from lynkr_memory.inject import HEADER

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

CLAUDE_CODE_SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {"type": "text", "text": "Primary working directory: /work/app", "cache_control": {"type": "ephemeral"}},
]
CLIENT_TOOL = {"name": "Read", "description": "Read a file", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}
PREFERENCE = "I prefer Python for data processing."


@contextlib.asynccontextmanager
async def gateway(fake: FakeAnthropic, lynkr_env: dict[str, str], **env: str) -> AsyncIterator[anthropic_sdk.AsyncAnthropic]:
    """lynkr with only the Anthropic provider and the memory, from their entry points, in
    front of ``fake``; the server stops (and the memory learns what is queued) on the way out."""
    app = make_test_app({
        **lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-memory",
        "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": "upstream-key", "LYNKR_UPSTREAM_RETRIES": "0", **env,
    })
    async with serving(app) as url:
        async with anthropic_sdk.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            yield sdk


async def say(sdk: anthropic_sdk.AsyncAnthropic, session: str, messages: list[dict[str, Any]],
              stream: bool = True, tools: list[dict[str, Any]] | None = None) -> Any:
    """A Claude Code-like turn: its system prompt, its session header, streamed."""
    fields = {"model": "claude-opus-4-8", "max_tokens": 200, "system": CLAUDE_CODE_SYSTEM, "messages": messages,
              "extra_headers": {"x-claude-code-session-id": session}}
    if tools:
        fields["tools"] = tools
    if not stream:
        return await sdk.messages.create(**fields)
    async with sdk.messages.stream(**fields) as events:
        return await events.get_final_message()


def memory_block(body: dict[str, Any]) -> str | None:
    """The text of the memory block in a system prompt, or ``None``."""
    system = body.get("system") or []
    texts = [block["text"] for block in system if isinstance(block, dict) and block["text"].startswith(HEADER)]
    return texts[0] if texts else None


class Upstream:
    """Answers every request, recording each system prompt; says ``ok``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Reply:
        self.bodies.append(body)
        return Reply.text("ok")


async def test_a_preference_from_one_session_is_injected_in_a_later_one(lynkr_env, lynkr_command):
    upstream = Upstream()
    async with FakeAnthropic(upstream) as fake:
        async with gateway(fake, lynkr_env) as sdk:
            await say(sdk, "session-one", [{"role": "user", "content": PREFERENCE}])
        assert memory_block(upstream.bodies[0]) is None  # nothing known yet
        later = [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>Today is Monday.</system-reminder>"},
            {"type": "text", "text": "Write a script that processes the sales data in sales.csv",
             "cache_control": {"type": "ephemeral"}}]}]
        async with gateway(fake, lynkr_env) as sdk:
            await say(sdk, "session-two", later)
            await say(sdk, "session-two", later, stream=False)
            await say(sdk, "session-three", [{"role": "user", "content": "What's the weather in Paris?"}])

    first, again, unrelated = upstream.bodies[1:]
    assert memory_block(first) == f"{HEADER}\n- [preference] {PREFERENCE}"
    # after the client's blocks, cache_control marks where the client put them, none of its own
    assert first["system"][:2] == CLAUDE_CODE_SYSTEM and "cache_control" not in first["system"][2]
    assert first["messages"] == later
    # byte-stable: the same memories give the same bytes (the prompt cache keeps hitting)
    assert json.dumps(first["system"]) == json.dumps(again["system"])
    assert memory_block(unrelated) is None
    code, out = lynkr_command("memory", "stats", "--json")
    assert code == 0 and json.loads(out)["by_type"] == {"preference": 1}


async def test_assistant_preamble_leaves_system_and_history_untouched(lynkr_env):
    upstream = Upstream()
    async with FakeAnthropic(upstream) as fake:
        async with gateway(fake, lynkr_env) as sdk:
            await say(sdk, "one", [{"role": "user", "content": PREFERENCE}])
        history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"},
                   {"role": "user", "content": [{"type": "text", "text": "clean up the data processing job",
                                                 "cache_control": {"type": "ephemeral"}}]}]
        async with gateway(fake, lynkr_env, MEMORY_INJECTION_FORMAT="assistant_preamble") as sdk:
            await say(sdk, "two", history)
    sent = upstream.bodies[-1]
    assert sent["system"] == CLAUDE_CODE_SYSTEM
    assert sent["messages"][:2] == history[:2]
    last = sent["messages"][2]["content"]
    assert last[0] == history[2]["content"][0]
    assert last[1] == {"type": "text", "text": f"{HEADER}\n- [preference] {PREFERENCE}"}


async def test_a_contradiction_replaces_what_is_injected(lynkr_env, lynkr_command):
    upstream = Upstream()
    async with FakeAnthropic(upstream) as fake:
        async with gateway(fake, lynkr_env) as sdk:
            await say(sdk, "one", [{"role": "user", "content": PREFERENCE}])
            await say(sdk, "two", [{"role": "user", "content": "Actually I now prefer Rust for data processing."}])
        async with gateway(fake, lynkr_env) as sdk:
            await say(sdk, "three", [{"role": "user", "content": "process the data"}])
    assert memory_block(upstream.bodies[-1]) == \
        f"{HEADER}\n- [preference] Actually I now prefer Rust for data processing."
    _, out = lynkr_command("memory", "export", "--history")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["content"], r["superseded_by"]) for r in rows] == [
        (PREFERENCE, 2), ("Actually I now prefer Rust for data processing.", None)]


async def test_the_model_adds_and_searches_memories_through_the_agent_loop(lynkr_env):
    script = [
        Reply.tool_use("memory_add", {"content": "The staging database is db-stage-2.", "type": "fact"}, id="toolu_1"),
        Reply.tool_use("memory_search", {"query": "staging database"}, id="toolu_2"),
        Reply.tool_use("memory_stats", {}, id="toolu_3"),
        Reply.tool_use("memory_forget", {"id": 1}, id="toolu_4"),
        Reply.tool_use("memory_search", {"query": "staging database"}, id="toolu_5"),
        Reply.text("done"),
    ]
    async with FakeAnthropic(script) as fake:
        async with gateway(fake, lynkr_env, MEMORY_EXTRACTION_ENABLED="false") as sdk:
            answer = await say(sdk, "tools", [{"role": "user", "content": "remember the staging db"}],
                               tools=[CLIENT_TOOL])
        bodies = [request.json for request in fake.message_requests]
    assert answer.content[0].text == "done"
    offered = [tool["name"] for tool in bodies[0]["tools"]]
    assert {"memory_search", "memory_add", "memory_forget", "memory_stats"} <= set(offered)

    def result(body: dict[str, Any]) -> str:
        block = body["messages"][-1]["content"][0]
        assert block["type"] == "tool_result"
        content = block["content"]
        return content if isinstance(content, str) else content[0]["text"]

    assert result(bodies[1]) == "remembered as memory 1"
    assert result(bodies[2]) == "[1] (fact) The staging database is db-stage-2."
    assert json.loads(result(bodies[3]))["by_type"] == {"fact": 1}
    assert result(bodies[4]) == "forgot memory 1"
    assert result(bodies[5]) == "no memories match"
