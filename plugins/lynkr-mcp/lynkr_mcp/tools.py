"""An MCP server's tool as a lynkr tool named ``mcp__<server>__<tool>`` (Claude Code's naming)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import mcp.types as mcp_types
import msgspec

from lynkr_core import Tool, ToolContext, ToolError, ToolResult
from lynkr_mcp.connection import CallFailed, ServerConnection
from lynkr_mcp.content import to_tool_result

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


#: The longest tool name the Messages API accepts.
MAX_NAME = 64


def tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, with characters a tool name may not have replaced by ``_``;
    a name over 64 characters is cut and ends with a hash of the whole, to stay unique."""
    name = f"mcp__{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


class AnyInput(msgspec.Struct):
    """Placeholder: an MCP tool's input is checked by its server against its own schema."""


class McpTool(Tool):
    """A tool of an MCP server. Its effects are opaque (the default): it runs alone and
    only with a policy's ``Permit``. The schema is the server's, passed on as it is."""

    Input = AnyInput

    def __init__(self, connection: ServerConnection, tool: mcp_types.Tool, *, timeout: float, limit: int) -> None:
        self.name = tool_name(connection.name, tool.name)
        self.description = tool.description or tool.title or f"{tool.name} (MCP server {connection.name})"
        self.connection = connection
        self.mcp_name = tool.name
        self.schema = dict(tool.input_schema) if tool.input_schema else {"type": "object", "properties": {}}
        self.timeout = timeout
        self.limit = limit

    def input_schema(self) -> dict[str, Any]:
        """The server's JSON schema for the tool's arguments."""
        return self.schema

    def parse_input(self, raw_input: Any) -> dict[str, Any]:
        """The model's arguments as they are (the server validates them); a JSON object."""
        if not isinstance(raw_input, Mapping):
            raise ToolError(f"{self.name}: the input must be a JSON object, got {type(raw_input).__name__}")
        return dict(raw_input)

    async def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        """Call the tool on its server; what went wrong is an error result for the model."""
        try:
            result = await self.connection.call(self.mcp_name, args, self.timeout)
        except CallFailed as exc:
            return ToolResult(str(exc), is_error=True)
        return to_tool_result(result, self.limit)
