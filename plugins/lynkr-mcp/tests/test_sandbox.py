"""A stdio server runs with an empty environment plus an allowlist plus its manifest's
``env``, and under bubblewrap sees neither files outside the workspace nor the network."""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog.testing
from lynkr_mcp.content import to_tool_result
from lynkr_mcp.source import McpToolSource

from lynkr_core import Settings

from .conftest import quick, toy_stdio_entry

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


@contextlib.asynccontextmanager
async def toy(tmp_path: Path, workspace: Path, **env: str) -> AsyncIterator[McpToolSource]:
    """The toy server, started through ``McpToolSource`` as lynkr starts it."""
    settings = Settings({**quick(), "WORKSPACE_ROOT": str(workspace), **env},
                        toml={"plugins": {"lynkr-mcp": {"servers": [toy_stdio_entry(env={"GREETING": "hi"})]}}})
    source = McpToolSource(settings)
    await source.start_in(tmp_path / "home")
    try:
        assert source.connections["toy"].state == "ready", source.connections["toy"].reason
        yield source
    finally:
        await source.close()


async def call(source: McpToolSource, tool: str, **arguments: object) -> str:
    return to_tool_result(await source.connections["toy"].call(tool, dict(arguments), 10), 10_000).text


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("outside the workspace")
    return secret


@pytest.fixture
def listener() -> AsyncIterator[int]:
    """A TCP port listening on the host's loopback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


async def test_without_bubblewrap_the_server_gets_the_allowlist_and_its_env_only(
    tmp_path, workspace, monkeypatch, outside
):
    monkeypatch.setenv("LYNKR_TEST_SECRET_TOKEN", "s3cr3t-value-4242")
    monkeypatch.setenv("LANG", "C.UTF-8")
    async with toy(tmp_path, workspace, MCP_SANDBOX_ENABLED="false") as source:
        assert await call(source, "getenv", name="LYNKR_TEST_SECRET_TOKEN") == "<unset>"
        assert await call(source, "getenv", name="GREETING") == "hi"
        assert await call(source, "getenv", name="LANG") == "C.UTF-8"
        assert await call(source, "where") == str(tmp_path / "home" / "servers" / "toy")
        # what bubblewrap hides below is visible without it
        assert await call(source, "read", path=str(outside)) == "outside the workspace"


@needs_bwrap
async def test_under_bubblewrap_outside_files_and_the_network_are_out_of_reach(
    tmp_path, workspace, outside, listener, monkeypatch
):
    monkeypatch.setenv("LYNKR_TEST_SECRET_TOKEN", "s3cr3t-value-4242")
    (workspace / "inside.txt").write_text("in the workspace")
    async with toy(tmp_path, workspace) as source:
        assert await call(source, "read", path=str(outside)) == "cannot read: FileNotFoundError"
        assert await call(source, "read", path=str(workspace / "inside.txt")) == "in the workspace"
        assert await call(source, "read", path="/etc/shadow") == "cannot read: FileNotFoundError"
        assert (await call(source, "dial", host="127.0.0.1", port=listener)).startswith("cannot connect")
        assert await call(source, "getenv", name="LYNKR_TEST_SECRET_TOKEN") == "<unset>"
        assert await call(source, "getenv", name="HOME") == str(tmp_path / "home" / "servers" / "toy")


@needs_bwrap
async def test_under_bubblewrap_the_network_can_be_allowed(tmp_path, workspace, listener):
    async with toy(tmp_path, workspace, MCP_SANDBOX_ALLOW_NETWORKING="true") as source:
        assert await call(source, "dial", host="127.0.0.1", port=listener) == "connected"


async def test_header_and_env_secrets_never_reach_the_log_or_the_listing(tmp_path, workspace, toy_http):
    secret = "sk-mcp-secret-value-777"
    settings = Settings({**quick(), "WORKSPACE_ROOT": str(workspace), "REMOTE_TOKEN": secret}, toml={
        "plugins": {"lynkr-mcp": {"servers": [
            {"name": "remote", "type": "http", "url": toy_http.url, "headers": {"Authorization": "Bearer ${REMOTE_TOKEN}"}},
            {"name": "down", "type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "${REMOTE_TOKEN}"}},
            {"name": "local", "command": str(tmp_path / "absent"), "env": {"API_KEY": "${REMOTE_TOKEN}"}},
        ]}}})
    source = McpToolSource(settings)
    with structlog.testing.capture_logs() as logs:
        await source.start_in(tmp_path / "home")
        await source.close()
    states = {report.name: report.state for report in source.reports()}
    assert states == {"remote": "stopped", "down": "stopped", "local": "stopped"}
    assert any(entry["event"] == "mcp_server_ready" for entry in logs)
    assert any(entry["event"] == "mcp_server_failed" for entry in logs)
    assert secret not in repr(logs)
    assert secret not in repr(source.reports())
