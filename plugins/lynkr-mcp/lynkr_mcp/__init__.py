"""lynkr MCP: Model Context Protocol servers as lynkr tools, on the official mcp SDK."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Command, Finding, Settings, ToolSource, hookimpl
from lynkr_mcp.cli import mcp_command
from lynkr_mcp.security import security_findings
from lynkr_mcp.source import McpToolSource


@hookimpl
def lynkr_register_tool_sources(register: Callable[[ToolSource], None], settings: Settings) -> None:
    """Register the configured MCP servers as one tool source (``ConfigError`` for a bad setting)."""
    register(McpToolSource(settings))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """Register ``lynkr mcp list`` and ``lynkr mcp call``."""
    register(mcp_command())


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: servers without the sandbox, or with openings in it."""
    for finding in security_findings(settings):
        report(finding)
