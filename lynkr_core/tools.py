"""Server-side tools: what a tool plugin registers, and what a policy sees of a call.

A tool declares its input as a msgspec Struct (``Tool.Input``). The core
derives the JSON schema the model sees from it, decodes the model's
arguments into it before ``run`` (a bad argument becomes a tool error that
names the field, and the tool never runs), and asks the tool what the call
would do (``Tool.effects``) so that policies decide on effects, not on
names::

    class ReadInput(msgspec.Struct, kw_only=True):
        path: Annotated[str, msgspec.Meta(description="File to read, relative to the workspace")]

    class ReadFile(Tool):
        name = "workspace_read"
        description = "Read a UTF-8 text file from the workspace."
        Input = ReadInput

        def effects(self, args: ReadInput) -> ToolEffects:
            return ToolEffects(reads=(args.path,))

        async def run(self, args: ReadInput, context: ToolContext) -> str:
            return context.resolve(args.path).read_text()

``run`` returns a string or a ``ToolResult``; it raises ``ToolError`` for a
failure the model should read (a missing file, a refused path).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from lynkr_core.workspace import OutsideWorkspace, confine

if TYPE_CHECKING:
    from lynkr_core.context import RequestContext

#: Actions no call may take unless some policy explicitly permits it
#: (``Permit``): without a policy plugin that says yes, they are refused.
GUARDED_ACTIONS = frozenset({"git.push", "shell.run", "command.test"})

#: What a client's own tools may already do (see ``Tool.capability``): read, write and
#: edit a file, list a directory, find files by a pattern, search their text, run a command.
CAPABILITIES = frozenset({"read", "write", "edit", "list", "glob", "search", "shell"})


class ToolError(Exception):
    """A failure the model is told about as a ``tool_result`` with ``is_error``."""


@dataclass(frozen=True, slots=True)
class ToolEffects:
    """What one call would do, declared before it runs, for policies to judge.

    ``reads`` and ``writes`` are the paths as the model gave them (the tool
    confines them to the workspace when it runs). ``actions`` name what else
    happens, in a shared vocabulary: ``git.commit``, ``git.push``,
    ``git.pull``, ``git.stage``, ``command.test`` (the project's test
    command), ``shell.run`` (a command the model chose), ``tasks.write``.
    ``GUARDED_ACTIONS`` need a policy's ``Permit``.

    ``opaque`` says lynkr cannot know what the call does (an MCP server's
    tool, a tool that declares nothing): it runs alone, never alongside
    others, and only with a policy's ``Permit``.
    """

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    bytes_written: int = 0
    actions: frozenset[str] = frozenset()
    opaque: bool = False

    @property
    def read_only(self) -> bool:
        """True when the call is known to change nothing, so it may run alongside others."""
        return not self.writes and not self.actions and not self.opaque

    @property
    def needs_permit(self) -> bool:
        """True when a policy must explicitly allow the call (guarded actions, opaque effects)."""
        return self.opaque or not self.actions.isdisjoint(GUARDED_ACTIONS)


@dataclass(slots=True)
class ToolResult:
    """What a tool call gives back to the model.

    ``text`` is what the model reads, and what the exchange records. A tool whose
    answer is more than text (an MCP server's image) also gives ``blocks``: the
    Anthropic content blocks (``{"type": "text", ...}``, ``{"type": "image", ...}``)
    the model then reads instead of ``text``; ``text`` stays a textual rendering of them
    for the record and the log.
    """

    text: str
    is_error: bool = False
    blocks: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class ToolLedger:
    """What the tool calls of one request have done so far (policies read it for caps)."""

    steps: int = 0
    calls: int = 0
    bytes_written: int = 0


@dataclass(slots=True, weakref_slot=True)
class ToolContext:
    """What a tool (or a policy judging a call) may use while a request runs.

    ``workspace`` is ``WORKSPACE_ROOT``, resolved. ``invoke`` runs another
    registered tool by name without a policy check: for policies that need a
    fact first, such as a test run before a commit. Tools that walk the
    workspace (search, listing, diffs) leave out what ``visible`` refuses.
    """

    request: RequestContext
    workspace: Path
    ledger: ToolLedger = field(default_factory=ToolLedger)
    invoke: Callable[[str, Mapping[str, Any]], Awaitable[ToolResult]] | None = None
    hidden: Callable[[str], bool] = field(default=lambda path: False)

    def visible(self, path: str) -> bool:
        """Whether a walking tool may show ``path`` (relative to the workspace, POSIX-style):
        no policy hides it (``Policy.hides``). Safe to call from worker threads."""
        return not self.hidden(path)

    def resolve(self, path: str, *, writing: bool = False) -> Path:
        """``path`` inside the workspace; ``ToolError`` when it would leave it (see ``confine``)."""
        try:
            return confine(self.workspace, path, writing=writing)
        except OutsideWorkspace as exc:
            raise ToolError(str(exc)) from None


class Tool(abc.ABC):
    """A tool lynkr runs itself when the model calls it (``TOOL_EXECUTION_MODE=server``)."""

    #: The name the model calls, e.g. ``"workspace_git_status"``.
    name: ClassVar[str] = ""
    #: What the tool does and when to use it, written for the model.
    description: ClassVar[str] = ""
    #: The arguments, as a msgspec Struct; field descriptions go in ``msgspec.Meta``.
    Input: ClassVar[type[msgspec.Struct]]
    #: What the tool does that a client's own tools may already do, one of
    #: ``CAPABILITIES`` (``None``: nothing a client tool does). A tool is not offered to
    #: a client that declares a tool of the same capability (Claude Code's Read, Write,
    #: Edit, Glob, Grep, Bash), so that the model is not given two of each.
    capability: ClassVar[str | None] = None

    def effects(self, args: Any) -> ToolEffects:
        """What a call with ``args`` would do. The default says nothing is known
        (``opaque``): such a call runs alone and needs a policy's ``Permit``. Return
        ``ToolEffects()`` for a call that reads nothing and changes nothing."""
        return ToolEffects(opaque=True)

    @abc.abstractmethod
    async def run(self, args: Any, context: ToolContext) -> ToolResult | str:
        """Do the call; return the text the model reads, or raise ``ToolError``."""

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of ``Input``, flattened for a model to read."""
        return input_schema(self.Input)

    def parse_input(self, raw_input: Any) -> Any:
        """The model's arguments as ``Input``; ``ToolError`` naming the field when they don't fit."""
        if not isinstance(raw_input, Mapping):
            raise ToolError(f"{self.name}: the input must be a JSON object, got {type(raw_input).__name__}")
        try:
            return msgspec.convert(raw_input, self.Input, strict=False)
        except msgspec.ValidationError as exc:
            raise ToolError(f"{self.name}: invalid input: {exc}") from None


@dataclass(slots=True)
class ToolCall:
    """One call the model asked for, as a policy sees it before it runs."""

    id: str
    name: str
    args: Any
    effects: ToolEffects
    tool: Tool


def input_schema(struct_type: type[msgspec.Struct]) -> dict[str, Any]:
    """A Struct's JSON schema with its definition inlined (models read ``$ref`` poorly)."""
    schema = msgspec.json.schema(struct_type)
    definitions = schema.pop("$defs", {})
    if "$ref" in schema:
        schema = dict(definitions[schema["$ref"].rsplit("/", 1)[-1]])
    schema.pop("title", None)
    schema.setdefault("properties", {})
    return _inline(schema, definitions)


def _inline(node: Any, definitions: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = dict(definitions[node["$ref"].rsplit("/", 1)[-1]])
            target.pop("title", None)
            return _inline(target, definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


class ToolSource(abc.ABC):
    """Tools known only once the server runs, which may change while it runs (an MCP
    server's). Register it with ``lynkr_register_tool_sources``; give it ``start`` and
    ``close`` to connect and disconnect (see ``lynkr_core.lifecycle``).

    The core calls ``list_tools`` after start-up and again before the next request
    whenever the source calls ``tools_changed``. A listed tool whose name another tool
    already has is left out (logged), the earlier one kept.
    """

    name: str = ""

    @abc.abstractmethod
    async def list_tools(self) -> Sequence[Tool]:
        """The source's tools now. An exception keeps the previous list (and is logged)."""

    def tools_changed(self) -> None:
        """Tell the core the tools changed: the next request offers the new list."""
        for listener in getattr(self, "_listeners", ()):
            listener(self)

    def subscribe(self, listener: Callable[[ToolSource], None]) -> None:
        """Call ``listener(self)`` on every ``tools_changed`` (the core subscribes its catalogue)."""
        listeners: list[Callable[[ToolSource], None]] = self.__dict__.setdefault("_listeners", [])
        listeners.append(listener)
