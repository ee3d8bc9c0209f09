"""Which of lynkr's tools a request offers the model, merged with the client's own."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from msgspec import UNSET, Raw

from lynkr_core.registry import Registry
from lynkr_core.tools import Tool
from lynkr_core.wire.anthropic import (
    MessagesRequest,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolChoiceTool,
    raw,
    tool_name,
)

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class ToolOffer:
    """A request with lynkr's tools added, and the names lynkr runs itself."""

    request: MessagesRequest
    ours: frozenset[str]


class ToolCatalog:
    """lynkr's registered tools as Messages API tool definitions, encoded once."""

    def __init__(self, tools: Registry[Tool]) -> None:
        self.tools = tools
        self._definitions: dict[str, Raw] = {
            tool.name: Raw(_encoder.encode({
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema(),
            }))
            for tool in tools
        }

    def __bool__(self) -> bool:
        return bool(self._definitions)

    def offer(self, request: MessagesRequest) -> ToolOffer:
        """``request`` with every lynkr tool whose name no client tool has; the client's win.

        Only a request that declares tools of its own is offered lynkr's: one without
        (Claude Code's title generation sends ``tools: []`` and a JSON schema for the
        answer) or with ``tool_choice`` ``none`` wants a plain completion.
        """
        client_tools = list(request.tools) if request.tools is not UNSET else []
        if not client_tools or isinstance(request.tool_choice_config(), ToolChoiceNone):
            return ToolOffer(request, frozenset())
        taken = {tool_name(raw) for raw in client_tools}
        ours = [name for name in self._definitions if name not in taken]
        if not ours:
            return ToolOffer(request, frozenset())
        merged = client_tools + [self._definitions[name] for name in ours]
        return ToolOffer(request.replace(tools=merged), frozenset(ours))


def relaxed_tool_choice(request: MessagesRequest, ours: frozenset[str]) -> Raw | msgspec.UnsetType:
    """The ``tool_choice`` for the steps after lynkr ran tools: a forced choice (``any``, or a
    tool of lynkr's) would force another call at every step, so it becomes ``auto``."""
    choice = request.tool_choice_config()
    if isinstance(choice, ToolChoiceAny) or (isinstance(choice, ToolChoiceTool) and choice.name in ours):
        return raw(ToolChoiceAuto(disable_parallel_tool_use=choice.disable_parallel_tool_use))
    return request.tool_choice
