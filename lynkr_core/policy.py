"""Policies: whether a request may go upstream, and whether a tool call may run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lynkr_core.context import RequestContext
    from lynkr_core.tools import ToolCall, ToolContext
    from lynkr_core.wire.anthropic import MessagesRequest


@dataclass(slots=True)
class Denial:
    """A policy's refusal, with the reason the client is told."""

    reason: str
    status: int = 403


@dataclass(slots=True)
class Permit:
    """A policy's explicit yes to a tool call, needed for ``GUARDED_ACTIONS`` (a push) and for
    tools whose effects are opaque (``ToolEffects.opaque``, e.g. an MCP server's tools)."""

    reason: str


class Policy:
    """Decides whether a request may go upstream, and whether a tool call may run.

    Any denial wins. A call whose effects include a guarded action (see
    ``lynkr_core.tools.GUARDED_ACTIONS``) or are opaque also needs at least
    one ``Permit``.
    """

    name: str = ""

    async def check_request(self, request: MessagesRequest, context: RequestContext) -> Denial | None:
        """Return a ``Denial`` to refuse ``request`` (nothing goes upstream), ``None`` to let it through."""
        return None

    async def check_tool(self, call: ToolCall, context: ToolContext) -> Denial | Permit | None:
        """Judge one tool call before it runs: ``Denial`` refuses it (the model reads the
        reason as an error result), ``Permit`` allows a guarded or opaque call, ``None`` has no say."""
        return None

    def hides(self, path: str) -> bool:
        """Whether tools that walk the workspace must keep ``path``'s content from the model
        (search skips it, a diff says only that it changed) and may leave its name out
        (listings do). ``path`` is relative to the workspace root, POSIX-style.
        Called for every path met, from worker threads: keep it cheap, pure and synchronous."""
        return False
