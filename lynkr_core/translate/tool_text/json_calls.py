"""Reading calls printed as JSON: ``{"name": ..., "arguments": ...}`` or a list of them."""

from __future__ import annotations

from typing import Any

from lynkr_core.translate.arguments import MalformedArguments, parse_arguments
from lynkr_core.translate.pieces import ToolCallPiece
from lynkr_core.translate.tool_text.json_text import decode_json
from lynkr_core.translate.tool_text.tools import DeclaredTools, tool_call

#: Keys a printed call object may have; anything else (``description``...) is
#: data, such as a tool definition, not a call.
_CALL_KEYS = frozenset({"name", "arguments", "parameters", "type", "id"})


def json_calls(text: str, tools: DeclaredTools) -> list[ToolCallPiece] | None:
    """A JSON call object, or a non-empty list of them, as calls."""
    value = decode_json(text)
    items = value if isinstance(value, list) else [value]
    calls: list[ToolCallPiece] = []
    for item in items:
        call = _object_call(item, tools)
        if call is None:
            return None
        calls.append(call)
    return calls or None


def _object_call(value: Any, tools: DeclaredTools) -> ToolCallPiece | None:
    """``{"name": ..., "arguments" | "parameters": ...}`` as a call."""
    if not isinstance(value, dict) or not value.keys() <= _CALL_KEYS:
        return None
    if value.get("type", "function") != "function":
        return None
    if ("arguments" in value) == ("parameters" in value):
        return None
    arguments = value["arguments"] if "arguments" in value else value["parameters"]
    if isinstance(arguments, str):
        try:
            arguments = parse_arguments(arguments)
        except MalformedArguments:
            return None
    return tool_call(value.get("name"), arguments, tools)
