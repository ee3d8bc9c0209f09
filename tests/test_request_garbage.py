"""A request leaves no reference cycles behind: what it allocated is freed when it ends,
not kept (with the server's per-request objects) until the garbage collector runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import aiohttp
import pytest

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.server import make_test_app, serving

SERVER_CODE = ("lynkr_core", "hypercorn", "starlette", "asyncio")
# A tool of the client's own: only then are lynkr's tools offered too.
# a client tool that no tool of lynkr's duplicates: all of lynkr's are offered (server mode)
TOOLS = [{"name": "get_weather", "description": "weather of a city", "input_schema": {"type": "object"}}]
BODY = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}], "tools": TOOLS}


def server_objects(garbage: list[object]) -> Iterator[str]:
    """What among ``garbage`` belongs to lynkr or its server: their objects, and the
    frames of their code (the test's own client may leave cycles of its own)."""
    for thing in garbage:
        code = getattr(thing, "f_code", None)
        if code is not None and any(part in code.co_filename for part in SERVER_CODE):
            yield f"frame {code.co_name} ({code.co_filename})"
        elif type(thing).__module__.startswith(SERVER_CODE):
            yield type(thing).__qualname__


TOOL_PLUGINS = "lynkr-provider-openai,lynkr-tools-workspace,lynkr-tools-git,lynkr-policy"
#: name: (plugins, what the model answers each request)
CASES = {
    "provider": ("lynkr-provider-openai", False),
    # lynkr's tools offered on every request, and the agent loop's relay in between
    "tools offered": (TOOL_PLUGINS, False),
    # the model calls one of lynkr's tools, lynkr runs it, then the model answers
    "tool run": (TOOL_PLUGINS, True),
}


def replies(calls_a_tool: bool):
    """The model's answers: text, or (every other call) a call of ``workspace_read`` first."""
    answered = {"calls": 0}

    def reply(_: object) -> ChatReply:
        answered["calls"] += 1
        if calls_a_tool and answered["calls"] % 2:
            return ChatReply("", tool_calls=[ToolCallSpec("workspace_read", {"path": "notes.txt"})])
        return ChatReply("hello there, world", chunk_size=4)

    return reply


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_request_leaves_no_reference_cycles(stream: bool, case: str, tmp_path) -> None:
    plugins, calls_a_tool = CASES[case]
    (tmp_path / "notes.txt").write_text("a note\n")
    env = {"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k", "OPENAI_MODEL": "gpt-4o",
           "LYNKR_PLUGINS": plugins, "WORKSPACE_ROOT": str(tmp_path)}
    async with FakeOpenAI(replies(calls_a_tool)) as fake:
        env["OPENAI_ENDPOINT"] = fake.base_url + "/v1/chat/completions"
        async with serving(make_test_app(env)) as url, aiohttp.ClientSession() as client:

            async def ask() -> None:
                async with client.post(f"{url}/v1/messages", json={**BODY, "stream": stream}) as response:
                    assert response.status == 200, await response.text()
                    await response.read()

            for _ in range(5):  # warm: first-use caches and pools
                await ask()
            gc.collect()
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                for _ in range(20):
                    await ask()
                gc.collect()
                leaked = list(server_objects(gc.garbage))
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
        if calls_a_tool:  # the tool really ran: its result went back to the model
            results = [m for r in fake.chat_requests for m in r.json["messages"] if m["role"] == "tool"]
            assert len(results) == 25 and "a note" in results[-1]["content"]
    assert leaked == [], f"{len(leaked)} objects in reference cycles, e.g. {leaked[:5]}"
