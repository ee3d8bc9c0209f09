"""In server mode lynkr offers its own tools beside the client's, but not the ones that
duplicate a tool the client declares: Claude Code gets lynkr's git, tasks, index, memory
and MCP tools, never a second Read, Write, Edit or shell."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.gateway import CLAUDE_CODE_FIXTURES, CLIENT_KEY
from lynkr_core.testing.server import make_test_app, serving

#: lynkr's tools that do what Claude Code's Read, Write, Edit and Bash do.
DUPLICATES = {"workspace_read", "workspace_write", "workspace_edit", "workspace_list", "workspace_glob",
              "workspace_search", "workspace_test_run"}
WEATHER = {"name": "get_weather", "description": "weather", "input_schema": {"type": "object"}}


async def _offered(body: dict[str, Any]) -> list[str]:
    """The tool names the upstream is sent for ``body`` in server mode."""
    async with FakeAnthropic([Reply([{"type": "text", "text": "ok"}])]) as fake:
        app = make_test_app({
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
            "ANTHROPIC_UPSTREAM_API_KEY": "sk-ant-upstream",
            "LYNKR_API_KEYS": CLIENT_KEY,
            "TOOL_EXECUTION_MODE": "server",
        })
        async with serving(app) as url:
            async with aiohttp.ClientSession() as http, http.post(
                f"{url}/v1/messages", json={**body, "stream": False},
                headers={"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"},
            ) as response:
                assert response.status == 200, await response.text()
        return [tool["name"] for tool in fake.message_requests[0].json["tools"]]


@pytest.fixture
def claude_code_request() -> dict[str, Any]:
    """The first request a real Claude Code CLI sent (tests/fixtures/claude_code)."""
    return json.loads((CLAUDE_CODE_FIXTURES / "turn1.json").read_text())


async def test_claude_code_is_not_offered_lynkrs_duplicates_of_its_tools(claude_code_request):
    names = await _offered(claude_code_request)
    client = [tool["name"] for tool in claude_code_request["tools"]]
    assert names[: len(client)] == client  # the client's own come first, untouched
    ours = set(names[len(client):])
    assert not ours & DUPLICATES, ours & DUPLICATES
    assert {"workspace_git_status", "workspace_task_create"} <= ours  # the rest are offered


async def test_a_client_without_such_tools_gets_them_all():
    names = await _offered({
        "model": "claude-sonnet-4-6", "max_tokens": 50, "tools": [WEATHER],
        "messages": [{"role": "user", "content": "hi"}],
    })
    assert DUPLICATES <= set(names)


async def test_a_forced_duplicate_is_still_offered(claude_code_request):
    names = await _offered({**claude_code_request, "tool_choice": {"type": "tool", "name": "workspace_read"}})
    assert "workspace_read" in names
    assert "workspace_write" not in names

