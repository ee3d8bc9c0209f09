"""MCP tools: opaque effects, permitted or refused by ``MCP_SANDBOX_PERMISSION_*``."""

from __future__ import annotations

import lynkr_policy
import msgspec
import pytest

from lynkr_core import ConfigError, Tool, ToolContext
from lynkr_core.testing.tools import ToolBench


class NoInput(msgspec.Struct, kw_only=True):
    """No arguments."""


class Opaque(Tool):
    """A tool that declares nothing (the default ``ToolEffects(opaque=True)``), as MCP tools
    do; it remembers its runs."""

    description = "Does something lynkr cannot see."
    Input = NoInput

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs: list[NoInput] = []

    async def run(self, args: NoInput, context: ToolContext) -> str:
        self.runs.append(args)
        return f"{self.name} ran"


GITHUB_ISSUES = "mcp__github__list_issues"
GITHUB_DELETE = "mcp__github__delete_repo"
TIME = "mcp__time__get_current_time"
NOT_MCP = "opaque_local"


@pytest.fixture
def tools():
    return {name: Opaque(name) for name in (GITHUB_ISSUES, GITHUB_DELETE, TIME, NOT_MCP)}


@pytest.fixture
def bench(tmp_path, tools):
    def make(**env: str) -> ToolBench:
        return ToolBench(tmp_path, plugins=[lynkr_policy], tools=list(tools.values()), env=env)

    return make


async def test_auto_permits_every_mcp_tool(bench, tools):
    result = await bench().call(TIME)
    assert not result.is_error, result.text
    assert len(tools[TIME].runs) == 1


async def test_a_deny_glob_refuses_in_auto_mode(bench, tools):
    b = bench(MCP_SANDBOX_PERMISSION_DENY="mcp__*__delete_*")
    refused = await b.call(GITHUB_DELETE)
    assert refused.is_error and "MCP_SANDBOX_PERMISSION_DENY" in refused.text
    assert "'mcp__*__delete_*'" in refused.text
    assert not (await b.call(GITHUB_ISSUES)).is_error
    assert tools[GITHUB_DELETE].runs == [] and len(tools[GITHUB_ISSUES].runs) == 1


async def test_require_permits_only_allowed_globs_and_deny_still_wins(bench, tools):
    b = bench(
        MCP_SANDBOX_PERMISSION_MODE="require",
        MCP_SANDBOX_PERMISSION_ALLOW="mcp__github__*",
        MCP_SANDBOX_PERMISSION_DENY=GITHUB_DELETE,
    )
    assert not (await b.call(GITHUB_ISSUES)).is_error
    refused = await b.call(TIME)
    assert refused.is_error and "MCP_SANDBOX_PERMISSION_ALLOW" in refused.text
    assert (await b.call(GITHUB_DELETE)).is_error
    assert tools[TIME].runs == [] and tools[GITHUB_DELETE].runs == []


async def test_deny_mode_refuses_every_mcp_tool(bench, tools):
    refused = await bench(MCP_SANDBOX_PERMISSION_MODE="deny").call(GITHUB_ISSUES)
    assert refused.is_error and "MCP_SANDBOX_PERMISSION_MODE=deny" in refused.text
    assert tools[GITHUB_ISSUES].runs == []


async def test_other_opaque_tools_still_get_no_permit(bench, tools):
    result = await bench().call(NOT_MCP)
    assert result.is_error and "needs an explicit permission" in result.text
    assert tools[NOT_MCP].runs == []


def test_an_unknown_mode_is_a_configuration_error(bench):
    with pytest.raises(ConfigError, match="mcp_permission_mode"):
        bench(MCP_SANDBOX_PERMISSION_MODE="sometimes")
