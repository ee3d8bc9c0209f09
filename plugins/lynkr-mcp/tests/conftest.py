"""The toy MCP server (stdio, and served over streamable HTTP and SSE on loopback), lynkr in
server mode with lynkr-mcp and lynkr-policy in front of a scripted Anthropic upstream, and
the installed ``lynkr`` command."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import pytest

from lynkr_core.testing.cli import lynkr_command  # noqa: F401  (a fixture)
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port, make_test_app, serving

TOY = Path(__file__).with_name("toy_server.py")
MODEL = "claude-sonnet-4-6"
#: A client tool: lynkr offers its own tools only to requests that declare tools.
CLIENT_TOOLS = [{"name": "client_tool", "description": "The client's own.", "input_schema": {"type": "object"}}]
PLUGINS = "lynkr-provider-anthropic,lynkr-mcp,lynkr-policy"


def toy_stdio_entry(name: str = "toy", **extra: Any) -> dict[str, Any]:
    """A manifest entry (original format) running the toy server over stdio."""
    return {"name": name, "command": sys.executable, "args": [str(TOY)], **extra}


def quick(**extra: str) -> dict[str, str]:
    """Settings with short timeouts and no manifest directory of the user's."""
    return {
        "MCP_MANIFEST_DIRS": "",
        "MCP_STARTUP_TIMEOUT_MS": "15000",
        "MCP_SANDBOX_TIMEOUT_MS": "3000",
        "MCP_RESTART_BACKOFF_MS": "50",
        "MCP_RESTART_BACKOFF_MAX_MS": "200",
        "MCP_MAX_RESTARTS": "1",
        **extra,
    }


@dataclass
class Served:
    """A toy server answering on loopback: ``url`` of its endpoint."""

    url: str
    process: subprocess.Popen[bytes]


def _serve_toy(mode: str, path: str) -> Iterator[Served]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(TOY), mode, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the toy server ({mode}) did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}{path}", process)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def toy_http() -> Iterator[Served]:
    """The toy server over streamable HTTP (``/mcp``)."""
    yield from _serve_toy("http", "/mcp")


@pytest.fixture(scope="session")
def toy_sse() -> Iterator[Served]:
    """The toy server over SSE (``/sse``)."""
    yield from _serve_toy("sse", "/sse")


@pytest.fixture(autouse=True)
def clean_process_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No lynkr settings of the machine's, and no ``.env``/``lynkr.toml`` found."""
    for name in [n for n in os.environ if n.startswith(("MCP_", "LYNKR_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty ``WORKSPACE_ROOT``."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


def write_manifest(path: Path, document: Any) -> Path:
    """Write a manifest (or ``.mcp.json``) file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def tool_result_text(body: dict[str, Any]) -> str | None:
    """The text of the last ``tool_result`` the upstream received, or ``None``."""
    last = body["messages"][-1]["content"]
    if not isinstance(last, list):
        return None
    for block in last:
        if block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = " ".join(part.get("text", f"<{part.get('type')}>") for part in content)
            return f"{'ERROR ' if block.get('is_error') else ''}{content}"
    return None


def calls_then_reports(tool: str, tool_input: dict[str, Any]):
    """A model that calls ``tool`` and then answers with what the tool said."""

    def answer(body: dict[str, Any]) -> Reply:
        said = tool_result_text(body)
        if said is None:
            return Reply.tool_use(tool, tool_input)
        return Reply.text(f"The tool said: {said}")

    return answer


@dataclass
class Lynkr:
    """lynkr served on loopback, and an SDK client of it."""

    url: str
    sdk: anthropic.AsyncAnthropic
    app: Any

    async def ask(self, *, stream: bool = False, **options: Any) -> anthropic.types.Message:
        """One request declaring a client tool; JSON or streamed, the final message."""
        request = {"model": MODEL, "max_tokens": 200, "tools": CLIENT_TOOLS,
                   "messages": [{"role": "user", "content": "use the tool"}], **options}
        if not stream:
            return await self.sdk.messages.create(**request)
        async with self.sdk.messages.stream(**request) as events:
            return await events.get_final_message()


@contextlib.asynccontextmanager
async def lynkr_serving(upstream: FakeAnthropic, workspace: Path, **env: str) -> AsyncIterator[Lynkr]:
    """lynkr in server mode with lynkr-mcp and lynkr-policy in front of ``upstream``."""
    settings = {
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url or "",
        "ANTHROPIC_UPSTREAM_API_KEY": "upstream-key",
        "LYNKR_PLUGINS": PLUGINS,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "WORKSPACE_ROOT": str(workspace),
        "LYNKR_HOME": str(workspace.parent / "home"),
        **quick(),
        **env,
    }
    app = make_test_app(settings, load_entry_points=True)
    async with serving(app) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0) as sdk:
            yield Lynkr(url, sdk, app)
