"""The declared tools a printed call may name, and a call of one of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr_core.translate.pieces import ToolCallPiece


class DeclaredTools:
    """The declared tools: names resolved exactly or case-insensitively, and schemas."""

    def __init__(self, tools: Mapping[str, Mapping[str, Any]]) -> None:
        self._schemas = dict(tools)
        folded: dict[str, str | None] = {}
        for name in tools:
            key = name.casefold()
            folded[key] = None if key in folded else name  # None: ambiguous
        self._folded = folded

    def resolve(self, name: Any) -> str | None:
        """The declared name ``name`` stands for, or ``None``."""
        if not isinstance(name, str):
            return None
        if name in self._schemas:
            return name
        return self._folded.get(name.casefold())

    def property_schema(self, tool: str, key: str) -> Any:
        """The schema of parameter ``key`` of ``tool``, or ``None``."""
        schema = self._schemas.get(tool)
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        return properties.get(key) if isinstance(properties, Mapping) else None


def tool_call(name: Any, arguments: Any, tools: DeclaredTools) -> ToolCallPiece | None:
    """A call of a declared tool with a JSON object of arguments, or ``None``."""
    declared = tools.resolve(name)
    if declared is None or not isinstance(arguments, dict):
        return None
    return ToolCallPiece(name=declared, arguments=arguments)
