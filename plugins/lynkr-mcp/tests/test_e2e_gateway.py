"""The toy MCP server found through every manifest format, over stdio, streamable HTTP and
SSE, called by a scripted model through lynkr in server mode: its real output reaches the
final answer, JSON and streamed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic

from .conftest import TOY, calls_then_reports, lynkr_serving, toy_stdio_entry, write_manifest


def _original_file(tmp: Path, workspace: Path, http: str, sse: str) -> dict[str, str]:
    manifest = write_manifest(tmp / "servers.json", {"servers": [toy_stdio_entry()]})
    return {"MCP_SERVER_MANIFEST": str(manifest)}


def _original_array_in_dir(tmp: Path, workspace: Path, http: str, sse: str) -> dict[str, str]:
    write_manifest(tmp / "mcp" / "toy.json", [{"id": "toy", "command": sys.executable, "args": [str(TOY)],
                                                "transport": "stdio", "description": "the toy"}])
    return {"MCP_MANIFEST_DIRS": str(tmp / "mcp")}


def _project_stdio(tmp: Path, workspace: Path, http: str, sse: str) -> dict[str, str]:
    write_manifest(workspace / ".mcp.json", {"mcpServers": {"toy": {
        "command": "${TOY_PYTHON}", "args": ["${TOY_SCRIPT:-/nowhere.py}"], "env": {"GREETING": "hi"}}}})
    return {"MCP_TRUST_PROJECT_CONFIG": "true", "TOY_PYTHON": sys.executable, "TOY_SCRIPT": str(TOY)}


def _project_http(tmp: Path, workspace: Path, http: str, sse: str) -> dict[str, str]:
    write_manifest(workspace / ".mcp.json", {"mcpServers": {"toy": {
        "type": "http", "url": "${TOY_URL}", "headers": {"Authorization": "Bearer ${TOY_TOKEN:-none}"}}}})
    return {"MCP_TRUST_PROJECT_CONFIG": "true", "TOY_URL": http}


def _claude_sse_in_dir(tmp: Path, workspace: Path, http: str, sse: str) -> dict[str, str]:
    write_manifest(tmp / "mcp" / "claude.json", {"mcpServers": {"toy": {"type": "sse", "url": sse}}})
    return {"MCP_MANIFEST_DIRS": str(tmp / "mcp")}


FORMATS = {
    "original-manifest-stdio": _original_file,
    "original-array-in-dir-stdio": _original_array_in_dir,
    "project-mcp-json-stdio": _project_stdio,
    "project-mcp-json-http": _project_http,
    "claude-mcpservers-sse": _claude_sse_in_dir,
}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("layout", list(FORMATS))
async def test_the_tools_real_output_reaches_the_answer(layout, stream, tmp_path, workspace, toy_http, toy_sse):
    env = FORMATS[layout](tmp_path, workspace, toy_http.url, toy_sse.url)
    word = f"hello-{layout}"
    async with FakeAnthropic(calls_then_reports("mcp__toy__echo", {"text": word})) as upstream:
        async with lynkr_serving(upstream, workspace, **env) as lynkr:
            message = await lynkr.ask(stream=stream)
    assert message.content[0].text == f"The tool said: toy echo: {word}"
    offered = {tool["name"]: tool for tool in upstream.message_requests[0].json["tools"]}
    assert offered["mcp__toy__echo"]["input_schema"]["properties"]["text"]["type"] == "string"
    assert offered["mcp__toy__echo"]["description"].startswith("Say the text back")
    assert "client_tool" in offered
    assert len(upstream.message_requests) == 2


async def test_a_workspace_mcp_json_is_not_started_without_trust(workspace):
    write_manifest(workspace / ".mcp.json", {"mcpServers": {"toy": toy_stdio_entry()}})
    async with FakeAnthropic(calls_then_reports("mcp__toy__echo", {"text": "x"})) as upstream:
        async with lynkr_serving(upstream, workspace) as lynkr:
            message = await lynkr.ask()
    offered = [tool["name"] for tool in upstream.message_requests[0].json["tools"]]
    assert offered == ["client_tool"]
    # the model's call of a tool lynkr does not offer goes back to the client, unrun
    assert message.stop_reason == "tool_use"
