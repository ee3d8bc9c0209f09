"""Which of lynkr's tools a request offers the model, merged with the client's own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import structlog
from msgspec import UNSET, Raw

from lynkr_core.registry import Registry
from lynkr_core.tools import Tool, ToolSource
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
log = structlog.get_logger("lynkr.tools")


@dataclass(frozen=True, slots=True)
class ToolOffer:
    """A request with lynkr's tools added, and the names lynkr runs itself."""

    request: MessagesRequest
    ours: frozenset[str]


class ToolCatalog:
    """lynkr's tools, registered and from tool sources, as Messages API tool definitions,
    encoded once per change.

    A source's tools are listed after start-up (``refresh``) and again before the next
    request whenever the source announces a change (``stale``). A name already taken
    by a registered tool or an earlier source is left out, with a warning.
    """

    def __init__(self, tools: Registry[Tool], sources: Sequence[ToolSource] = ()) -> None:
        self.static = tools
        self.sources = list(sources)
        #: True when a source announced a change that ``refresh`` has not picked up yet.
        self.stale = bool(self.sources)
        self._listed: list[list[Tool]] = [[] for _ in self.sources]
        self._lock: asyncio.Lock | None = None
        self._static_definitions = {tool.name: _definition(tool) for tool in tools}
        for source in self.sources:
            source.subscribe(self._changed)
        self._rebuild()

    def _changed(self, source: ToolSource) -> None:
        log.info("tools_changed", source=source.name)
        self.stale = True

    async def refresh(self) -> None:
        """List every source's tools again and rebuild the definitions (one refresh at a time;
        a change announced while listing leaves the catalogue stale for the next request)."""
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if not self.stale:
                return
            self.stale = False
            for position, source in enumerate(self.sources):
                try:
                    self._listed[position] = list(await source.list_tools())
                except Exception:
                    log.exception("tool_source_failed", source=source.name)
            self._rebuild()

    def _rebuild(self) -> None:
        tools: dict[str, Tool] = {tool.name: tool for tool in self.static}
        definitions = dict(self._static_definitions)
        for source, listed in zip(self.sources, self._listed, strict=True):
            for tool in listed:
                if tool.name in tools:
                    log.warning("tool_name_taken", tool=tool.name, source=source.name)
                    continue
                try:
                    definitions[tool.name] = _definition(tool)
                except Exception:
                    log.exception("tool_definition_failed", tool=tool.name, source=source.name)
                    continue
                tools[tool.name] = tool
        self.tools, self._definitions = tools, definitions

    def get(self, name: str) -> Tool | None:
        """The tool the model calls ``name`` right now, or ``None``."""
        return self.tools.get(name)

    def __bool__(self) -> bool:
        return bool(self._definitions)

    def offer(self, request: MessagesRequest) -> ToolOffer:
        """``request`` with every lynkr tool whose name no client tool has; the client's win.
        A tool whose ``capability`` one of the client's tools has (``client_capabilities``:
        Claude Code's Read, Write, Edit, Glob, Grep, Bash) is left out too, unless
        ``tool_choice`` forces it: the model gets one tool for each job.

        Only a request that declares tools of its own is offered lynkr's: one without
        (Claude Code's title generation sends ``tools: []`` and a JSON schema for the
        answer) or with ``tool_choice`` ``none`` wants a plain completion. A ``tool_choice``
        that forces one of lynkr's tools is offered lynkr's tools even without tools of its own.
        """
        client_tools = list(request.tools) if request.tools is not UNSET else []
        choice = request.tool_choice_config()
        forces_ours = isinstance(choice, ToolChoiceTool) and choice.name in self._definitions
        if (not client_tools and not forces_ours) or isinstance(choice, ToolChoiceNone):
            return ToolOffer(request, frozenset())
        taken = {tool_name(raw) for raw in client_tools}
        covered = client_capabilities(taken)
        forced = choice.name if forces_ours else None
        ours = [
            name for name in self._definitions
            if name not in taken and (name == forced or self.tools[name].capability not in covered)
        ]
        if not ours:
            return ToolOffer(request, frozenset())
        merged = client_tools + [self._definitions[name] for name in ours]
        return ToolOffer(request.replace(tools=merged), frozenset(ours))


#: The capabilities (``lynkr_core.tools.CAPABILITIES``) of the tools clients declare, by
#: name: Claude Code's own, and the names other Anthropic-style agents use for the same jobs.
#: A shell lists, finds and searches files too (Claude Code 2.1 declares no Glob or Grep:
#: its Bash runs ``rg`` and ``find``).
CLIENT_TOOL_CAPABILITIES: dict[str, frozenset[str]] = {
    "Read": frozenset({"read"}),
    "Write": frozenset({"write"}),
    "Edit": frozenset({"edit"}),
    "MultiEdit": frozenset({"edit"}),
    "str_replace_based_edit_tool": frozenset({"read", "write", "edit"}),
    "LS": frozenset({"list"}),
    "Glob": frozenset({"glob", "list"}),
    "Grep": frozenset({"search"}),
    "Bash": frozenset({"shell", "list", "glob", "search"}),
    "bash": frozenset({"shell", "list", "glob", "search"}),
}


def client_capabilities(names: set[str]) -> frozenset[str]:
    """What the client's tools ``names`` can do (``CLIENT_TOOL_CAPABILITIES``)."""
    return frozenset().union(*(CLIENT_TOOL_CAPABILITIES.get(name, frozenset()) for name in names))


def _definition(tool: Tool) -> Raw:
    """A tool as the Messages API declares it, encoded."""
    return Raw(_encoder.encode({
        "name": tool.name, "description": tool.description, "input_schema": tool.input_schema(),
    }))


def relaxed_tool_choice(request: MessagesRequest, ours: frozenset[str]) -> Raw | msgspec.UnsetType:
    """The ``tool_choice`` for the steps after lynkr ran tools: a forced choice (``any``, or a
    tool of lynkr's) would force another call at every step, so it becomes ``auto``."""
    choice = request.tool_choice_config()
    if isinstance(choice, ToolChoiceAny) or (isinstance(choice, ToolChoiceTool) and choice.name in ours):
        return raw(ToolChoiceAuto(disable_parallel_tool_use=choice.disable_parallel_tool_use))
    return request.tool_choice
