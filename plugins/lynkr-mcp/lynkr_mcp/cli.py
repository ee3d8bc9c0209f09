"""``lynkr mcp list`` (servers, state, transport, tools) and ``lynkr mcp call SERVER TOOL JSON``.

Both start servers in the command's own process, as the gateway would (``list`` all of
them, ``call`` the one it calls), and stop them before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from lynkr_core import Command, Settings
from lynkr_mcp.config import PLUGIN_NAME
from lynkr_mcp.connection import CallFailed
from lynkr_mcp.content import to_tool_result
from lynkr_mcp.source import McpToolSource


def mcp_command() -> Command:
    """The ``lynkr mcp`` command."""
    return Command("mcp", "list the MCP servers or call one of their tools", run, add_arguments)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sub-commands and their options."""
    actions = parser.add_subparsers(dest="mcp_action", required=True)
    listing = actions.add_parser("list", help="every server: state, transport, tools")
    listing.add_argument("--json", action="store_true", help="print JSON")
    call = actions.add_parser("call", help="call a tool once and print its result")
    call.add_argument("server", help="the server's name")
    call.add_argument("tool", help="the tool's name on that server")
    call.add_argument("arguments", nargs="?", default="{}", help="the arguments, a JSON object")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one sub-command; 0 on success, 1 when a server failed or the call was an error."""
    source = McpToolSource(settings)
    home = Path(settings.core.home).expanduser() / PLUGIN_NAME
    if args.mcp_action == "list":
        return asyncio.run(_list(source, home, args.json))
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"lynkr mcp call: the arguments are not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print("lynkr mcp call: the arguments must be a JSON object", file=sys.stderr)
        return 2
    return asyncio.run(_call(source, home, args.server, args.tool, arguments))


async def _list(source: McpToolSource, home: Path, as_json: bool) -> int:
    source.open(home)
    try:
        await source.start_servers()
        reports = source.reports()
    finally:
        await source.close()
    problems = source.problems
    if as_json:
        print(json.dumps({
            "servers": [_report_json(r) for r in reports],
            "problems": [{"origin": p.origin, "reason": p.reason} for p in problems],
            "sandbox": source.sandbox.describe(),
        }, indent=2))
    else:
        if not reports:
            print("no MCP servers configured")
        for report in reports:
            print(f"{report.name}: {report.state} ({report.transport}) from {report.origin}")
            print(f"  {report.where}")
            if report.reason:
                print(f"  reason: {report.reason}")
            if report.tools:
                print(f"  tools: {', '.join(report.tools)}")
        for problem in problems:
            print(f"problem: {problem}")
        print(f"sandbox: {source.sandbox.describe()}")
    failed = problems or any(r.state not in ("ready", "untrusted") for r in reports)
    return 1 if failed else 0


def _report_json(report: Any) -> dict[str, Any]:
    return {"name": report.name, "state": report.state, "transport": report.transport,
            "origin": report.origin, "where": report.where, "tools": list(report.tools),
            "reason": report.reason}


async def _call(source: McpToolSource, home: Path, server: str, tool: str, arguments: dict[str, Any]) -> int:
    if server not in {spec.name for spec in source.discovery.servers}:
        known = ", ".join(spec.name for spec in source.discovery.servers) or "none"
        print(f"lynkr mcp call: no server {server!r} (configured: {known})", file=sys.stderr)
        return 1
    source.open(home)
    try:
        await source.start_servers([server])
        connection = source.connections[server]
        try:
            raw = await connection.call(tool, arguments, source.config.call_timeout_ms / 1000)
        except CallFailed as exc:
            print(exc, file=sys.stderr)
            return 1
    finally:
        await source.close()
    result = to_tool_result(raw, source.config.max_result_bytes)
    print(result.text)
    return 1 if result.is_error else 0
