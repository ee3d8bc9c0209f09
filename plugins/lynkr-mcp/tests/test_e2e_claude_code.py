"""The real Claude Code CLI through lynkr in server mode with an MCP server configured in
lynkr: the (scripted) model calls the MCP tool, lynkr runs it inside the CLI's request, and
the CLI's result shows the tool's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving_in_thread

from .conftest import (
    PLUGINS,
    quick,
    tool_result_text,
    toy_stdio_entry,
    write_manifest,
)

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "upstream-key-of-operator"


def model(body: dict[str, Any]) -> Reply:
    """Calls the MCP tool when lynkr offers it, then reports what it said."""
    said = tool_result_text(body)
    if said is not None:
        return Reply.text(f"The MCP tool said: {said}")
    if any(tool.get("name") == "mcp__toy__echo" for tool in body.get("tools", [])):
        return Reply.tool_use("mcp__toy__echo", {"text": "seen by Claude Code"}, id="toolu_mcp")
    return Reply.text("ok")


def test_the_cli_shows_the_mcp_tools_output(tmp_path: Path):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    manifest = write_manifest(tmp_path / "servers.json", {"servers": [toy_stdio_entry()]})
    fake = FakeAnthropic(model, api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    app = make_test_app({
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url or "",
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": PLUGINS,
        "WORKSPACE_ROOT": str(workdir),
        "LYNKR_HOME": str(tmp_path / "lynkr-home"),
        "MCP_SERVER_MANIFEST": str(manifest),
        **quick(),
    })
    try:
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "echo something with the toy tool", api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "The MCP tool said: toy echo: seen by Claude Code" in result.stdout
    offering = [r for r in fake.message_requests
                if any(t.get("name") == "mcp__toy__echo" for t in r.json.get("tools", []))]
    assert offering, "lynkr offered the MCP tool to the model next to the CLI's tools"
    assert {"Read", "Bash"} <= {tool["name"] for tool in offering[0].json["tools"]}
