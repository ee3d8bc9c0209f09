"""Servers that crash, hang, never start or change their tools, and lynkr's shutdown: the
model always gets a result, lynkr keeps serving, and no server process outlives it."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from lynkr_mcp.connection import CallFailed
from lynkr_mcp.source import McpToolSource

from lynkr_core import Settings
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply

from .conftest import (
    calls_then_reports,
    lynkr_serving,
    quick,
    tool_result_text,
    toy_stdio_entry,
    write_manifest,
)


def manifest_env(tmp: Path, *entries: dict[str, Any]) -> dict[str, str]:
    """``MCP_SERVER_MANIFEST`` naming a manifest with ``entries``."""
    return {"MCP_SERVER_MANIFEST": str(write_manifest(tmp / "servers.json", {"servers": list(entries)}))}


def by_prompt(calls: dict[str, tuple[str, dict[str, Any]]]):
    """A model that calls the tool named for the user's prompt, then reports its result."""

    def answer(body: dict[str, Any]) -> Reply:
        said = tool_result_text(body)
        if said is not None:
            return Reply.text(f"The tool said: {said}")
        tool, tool_input = calls[body["messages"][0]["content"]]
        return Reply.tool_use(tool, tool_input)

    return answer


def ask(prompt: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}]}


async def test_a_crash_mid_call_is_an_error_result_and_the_restarted_server_answers(tmp_path, workspace):
    script = by_prompt({"crash": ("mcp__toy__crash", {}), "echo": ("mcp__toy__echo", {"text": "back"})})
    async with FakeAnthropic(script) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, toy_stdio_entry())) as lynkr:
            crashed = await lynkr.ask(**ask("crash"))
            again = await lynkr.ask(**ask("echo"))
    assert crashed.content[0].text.startswith("The tool said: ERROR MCP server 'toy' closed the connection")
    assert again.content[0].text == "The tool said: toy echo: back"


async def test_a_hanging_call_times_out(tmp_path, workspace):
    env = {**manifest_env(tmp_path, toy_stdio_entry()), "MCP_SANDBOX_TIMEOUT_MS": "300"}
    async with FakeAnthropic(calls_then_reports("mcp__toy__hang", {})) as upstream:
        async with lynkr_serving(upstream, workspace, **env) as lynkr:
            message = await lynkr.ask(stream=True)
    assert message.content[0].text == "The tool said: ERROR MCP server 'toy': hang timed out after 0.3 s"


def _has_line(path: Path, line: str) -> bool:
    return path.exists() and line in path.read_text().splitlines()


async def _wait_for_line(path: Path, line: str) -> None:
    for _ in range(400):
        if _has_line(path, line):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never said {line!r}")


async def test_a_call_is_cancelled_when_the_client_leaves(tmp_path, workspace):
    env = {**manifest_env(tmp_path, toy_stdio_entry()), "MCP_SANDBOX_TIMEOUT_MS": "60000"}
    noted = workspace.parent / "home" / "lynkr-mcp" / "servers" / "toy" / "linger.log"
    async with FakeAnthropic(calls_then_reports("mcp__toy__linger", {})) as upstream:
        async with lynkr_serving(upstream, workspace, **env) as lynkr:
            asking = asyncio.create_task(lynkr.ask(stream=True))
            await _wait_for_line(noted, "started")
            asking.cancel()  # the client goes away in the middle of the call
            with contextlib.suppress(asyncio.CancelledError):
                await asking
            await _wait_for_line(noted, "cancelled")
    assert len(upstream.message_requests) == 1  # the model was never asked again


async def test_an_error_result_reaches_the_model_as_is_error(tmp_path, workspace):
    async with FakeAnthropic(calls_then_reports("mcp__toy__fail", {"message": "no such ticket"})) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, toy_stdio_entry())) as lynkr:
            await lynkr.ask()
    result = upstream.message_requests[1].json["messages"][-1]["content"][0]
    assert result["is_error"] is True
    assert "no such ticket" in result["content"]


async def test_a_protocol_error_is_an_error_result(tmp_path, workspace):
    # the model passes an argument of the wrong type: the server's validation refuses it
    async with FakeAnthropic(calls_then_reports("mcp__toy__add", {"a": "two", "b": 3})) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, toy_stdio_entry())) as lynkr:
            message = await lynkr.ask()
    assert message.content[0].text.startswith("The tool said: ERROR")


async def test_an_image_result_reaches_the_model_as_an_image_block(tmp_path, workspace):
    async with FakeAnthropic(calls_then_reports("mcp__toy__pixel", {})) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, toy_stdio_entry())) as lynkr:
            await lynkr.ask()
    content = upstream.message_requests[1].json["messages"][-1]["content"][0]["content"]
    assert content[0]["type"] == "image"
    assert content[0]["source"]["media_type"] == "image/png"
    assert content[0]["source"]["data"].startswith("iVBORw0KGgo")


async def test_a_server_that_never_starts_leaves_lynkr_serving(tmp_path, workspace):
    broken = {"name": "broken", "command": str(tmp_path / "no-such-server")}
    env = manifest_env(tmp_path, broken, toy_stdio_entry())
    async with FakeAnthropic(calls_then_reports("mcp__toy__echo", {"text": "still here"})) as upstream:
        async with lynkr_serving(upstream, workspace, **env) as lynkr:
            message = await lynkr.ask()
    assert message.content[0].text == "The tool said: toy echo: still here"
    offered = [tool["name"] for tool in upstream.message_requests[0].json["tools"]]
    assert not [name for name in offered if name.startswith("mcp__broken__")]


async def test_list_changed_adds_a_tool_that_the_next_request_offers(tmp_path, workspace):
    script = by_prompt({"grow": ("mcp__toy__grow", {}), "late": ("mcp__toy__late", {"word": "arrival"})})
    async with FakeAnthropic(script) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, toy_stdio_entry())) as lynkr:
            grown = await lynkr.ask(**ask("grow"))
            late = await lynkr.ask(**ask("late"))
    assert grown.content[0].text == "The tool said: grown"
    first_offer = [tool["name"] for tool in upstream.message_requests[0].json["tools"]]
    later_offer = [tool["name"] for tool in upstream.message_requests[2].json["tools"]]
    assert "mcp__toy__late" not in first_offer and "mcp__toy__late" in later_offer
    assert late.content[0].text == "The tool said: late arrival"


async def test_the_policy_can_refuse_mcp_tools(tmp_path, workspace):
    env = {**manifest_env(tmp_path, toy_stdio_entry()), "MCP_SANDBOX_PERMISSION_DENY": "mcp__toy__e*"}
    async with FakeAnthropic(calls_then_reports("mcp__toy__echo", {"text": "x"})) as upstream:
        async with lynkr_serving(upstream, workspace, **env) as lynkr:
            message = await lynkr.ask()
    assert "denied by policy 'lynkr-policy'" in message.content[0].text
    assert "toy echo" not in message.content[0].text


def _processes_tagged(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_no_server_process_outlives_lynkr(tmp_path, workspace):
    tag = f"tag-{uuid.uuid4().hex}"
    entry = toy_stdio_entry(args=[str(toy_stdio_entry()["args"][0]), "stdio", tag])
    async with FakeAnthropic(calls_then_reports("mcp__toy__echo", {"text": "x"})) as upstream:
        async with lynkr_serving(upstream, workspace, **manifest_env(tmp_path, entry)) as lynkr:
            await lynkr.ask()
            running = _processes_tagged(tag)
    assert running, "the server should have been running"
    assert _processes_tagged(tag) == []


async def test_a_server_that_never_answers_is_failed_after_the_startup_timeout(tmp_path, workspace):
    silent = {"name": "silent", "command": sys.executable, "args": ["-c", "import time; time.sleep(120)"]}
    settings = Settings({**quick(MCP_STARTUP_TIMEOUT_MS="1000", MCP_MAX_RESTARTS="0"),
                         "WORKSPACE_ROOT": str(workspace)}, toml={"plugins": {"lynkr-mcp": {"servers": [silent]}}})
    source = McpToolSource(settings)
    await source.start_in(tmp_path / "home")
    try:
        [report] = source.reports()
        assert report.state == "failed" and report.reason.startswith("no answer within 1 s")
        with pytest.raises(CallFailed, match="'silent' is failed"):
            await source.connections["silent"].call("anything", {}, 1)
    finally:
        await source.close()
    assert _processes_tagged("import time; time.sleep(120)") == []


async def test_lazy_start_offers_the_known_tools_and_starts_the_server_on_its_first_call(tmp_path, workspace):
    settings = Settings({**quick(MCP_LAZY_START="true"), "WORKSPACE_ROOT": str(workspace)},
                        toml={"plugins": {"lynkr-mcp": {"servers": [toy_stdio_entry()]}}})
    first = McpToolSource(settings)
    await first.start_in(tmp_path / "home")  # never listed before: started to learn its tools
    assert first.connections["toy"].state == "ready"
    await first.close()

    later = McpToolSource(settings)
    await later.start_in(tmp_path / "home")
    try:
        toy = later.connections["toy"]
        assert toy.state == "configured"
        assert "mcp__toy__echo" in [tool.name for tool in await later.list_tools()]
        result = await toy.call("echo", {"text": "woken"}, 10)
        assert result.content[0].text == "toy echo: woken"
        assert toy.state == "ready"
    finally:
        await later.close()
