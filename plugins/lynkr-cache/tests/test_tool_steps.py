"""In lynkr's agent loop (server mode), a step after one of lynkr's tools that may have
changed the workspace is neither served from the cache nor stored; after read-only tools,
and after refused calls, it is."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from lynkr_cache.rules import workspace_changed_by

from lynkr_core import (
    Denial,
    Policy,
    Step,
    Tool,
    ToolCallRecord,
    ToolContext,
    ToolEffects,
    anthropic,
)
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin

CLIENT_TOOLS = [{"name": "client_tool", "description": "The client's.", "input_schema": {"type": "object"}}]


class PathInput(msgspec.Struct, kw_only=True):
    path: str


class FakeRead(Tool):
    name = "fake_read"  # not a bundled tool's name: its declared effects make it read-only
    description = "Reads a file."
    Input = PathInput

    def __init__(self) -> None:
        self.runs = 0

    def effects(self, args: PathInput) -> ToolEffects:
        return ToolEffects(reads=(args.path,))

    async def run(self, args: PathInput, context: ToolContext) -> str:
        self.runs += 1
        return "contents of a.txt"


class FakeWrite(FakeRead):
    name = "fake_write"
    description = "Writes a file."

    def effects(self, args: PathInput) -> ToolEffects:
        return ToolEffects(writes=(args.path,), bytes_written=3)

    async def run(self, args: PathInput, context: ToolContext) -> str:
        self.runs += 1
        return "wrote 3 bytes"


class NoWrites(Policy):
    name = "no-writes"

    async def check_tool(self, call: Any, context: Any) -> Denial | None:
        return Denial("no writing here") if call.effects.writes else None


def script(tool: str):
    """Calls ``tool`` first, then, given its result, answers."""

    def answer(body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]["content"]
        if isinstance(last, list) and any(block.get("type") == "tool_result" for block in last):
            return Reply.text("all done")
        return Reply.tool_use(tool, {"path": "a.txt"})

    return answer


async def run_twice(
    lynkr, home, tool: Tool, policies: list[Policy] = (), *, stream: bool = False
) -> tuple[FakeAnthropic, list[Any]]:
    plugin = inline_plugin(tools=[tool], policies=list(policies))
    async with FakeAnthropic(script(tool.name)) as upstream:
        async with lynkr(upstream, home, plugins=[("tools", plugin)], WORKSPACE_ROOT=str(home.parent)) as gw:
            for _ in range(2):
                if stream:
                    message, _ = await gw.streamed(tools=CLIENT_TOOLS)
                else:
                    message = await gw.create(tools=CLIENT_TOOLS)
                assert message.content[-1].text == "all done"
    return upstream, gw.exchanges


@pytest.mark.parametrize("stream", [False, True])
async def test_a_step_after_a_workspace_change_is_not_cached(lynkr, home, stream):
    tool = FakeWrite()
    upstream, exchanges = await run_twice(lynkr, home, tool, stream=stream)
    # run 1: two upstream calls; run 2: step 1 from the cache, step 2 upstream again
    assert len(upstream.message_requests) == 3
    assert tool.runs == 2
    assert [s.answered_by for s in exchanges[1].steps] == ["lynkr-cache", None]


@pytest.mark.parametrize("stream", [False, True])
async def test_steps_after_read_only_tools_are_cached(lynkr, home, stream):
    tool = FakeRead()
    upstream, exchanges = await run_twice(lynkr, home, tool, stream=stream)
    assert len(upstream.message_requests) == 2
    assert tool.runs == 2  # the replayed answer still calls the tool: its result is live
    assert [s.answered_by for s in exchanges[1].steps] == ["lynkr-cache", "lynkr-cache"]


async def test_a_refused_call_changed_nothing(lynkr, home):
    tool = FakeWrite()
    upstream, exchanges = await run_twice(lynkr, home, tool, policies=[NoWrites()])
    assert tool.runs == 0
    assert len(upstream.message_requests) == 2
    assert [s.answered_by for s in exchanges[1].steps] == ["lynkr-cache", "lynkr-cache"]


def step_with(*calls: ToolCallRecord) -> Step:
    step = Step(index=0, request=anthropic.MessagesRequest(model="m", messages=[]))
    step.tool_calls.extend(calls)
    return step


@pytest.mark.parametrize(
    ("calls", "changed"),
    [
        ([], None),
        ([ToolCallRecord(id="1", name="fake_read", input={}, read_only=True)], None),
        ([ToolCallRecord(id="1", name="workspace_write", input={}, refused=True)], None),
        ([ToolCallRecord(id="1", name="workspace_write", input={})], "workspace_write"),
        ([ToolCallRecord(id="1", name="workspace_write", input={}, is_error=True)], "workspace_write"),
        ([ToolCallRecord(id="1", name="mcp_thing", input={})], "mcp_thing"),
    ],
)
def test_which_tool_calls_count_as_changes(calls, changed):
    assert workspace_changed_by([step_with(*calls)]) == changed
