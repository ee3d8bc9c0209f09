"""``RepoContext``: adds the repo map (or a short summary) of the workspace to the system
prompt. Off by default when the client already sends a CLAUDE.md (Claude Code does).

The added block is the last of the system prompt and byte-identical from one request to
the next while the index and the conversation's first message stay the same (the map is
personalised toward the files that message names), so upstream prompt caches keep
hitting. It never waits for indexing: without an index yet, nothing is added.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from lynkr_core import RequestContext, RequestPreparer, anthropic
from lynkr_indexer.summary import summary
from lynkr_indexer.workspace import WorkspaceIndex

PLUGIN_NAME = "lynkr-indexer"


class RepoContext(RequestPreparer):
    """Adds a repo map or summary of the workspace to the system prompt."""

    name = "lynkr-indexer-repo-context"

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self.mode = index.settings.repo_context
        self.budget = index.settings.repo_map_tokens

    async def start(self, services: Any) -> None:
        """Open the shared index."""
        await self.index.start(services)

    async def close(self) -> None:
        """Close the shared index."""
        await self.index.close()

    async def prepare(self, request: anthropic.MessagesRequest, context: RequestContext) -> anthropic.MessagesRequest | None:
        """The request with the map appended to its system prompt, or ``None`` (unchanged)."""
        if self.mode == "off" or not self.index.available():
            return None
        first = _first_user_text(request)
        try:
            if self.mode == "auto" and _sends_claude_md(request, first):
                return None
        except (msgspec.ValidationError, msgspec.DecodeError):
            # A system block lynkr cannot read: the request goes on as it came (an
            # Anthropic-format upstream judges it; a translating provider refuses it).
            return None
        text = await self.index.read(lambda connection: self._context(connection, first))
        if not text:
            return None
        context.state[PLUGIN_NAME] = {"repo_context": self.mode, "chars": len(text)}
        block = anthropic.raw(anthropic.TextBlock(text=text))
        if request.system is msgspec.UNSET:
            system: list[Any] = [block]
        elif isinstance(request.system, str):
            system = [anthropic.raw(anthropic.TextBlock(text=request.system)), block]
        else:
            system = [*request.system, block]
        return request.replace(system=system)

    def _context(self, connection: sqlite3.Connection, first_message: str) -> str:
        generation = self.index.generation(connection)
        if generation == 0:
            return ""
        if self.mode == "summary":
            return "Repository summary (from lynkr's index):\n" + summary(connection)
        mentioned = self.index.mapper.mentioned_files(connection, generation, first_message)
        repo_map = self.index.mapper.render(connection, generation, budget=self.budget, mentioned=mentioned)
        if not repo_map:
            return ""
        return ("Repository map (from lynkr's index: the most referred-to files and definitions, "
                "with line numbers):\n" + repo_map)


def _sends_claude_md(request: anthropic.MessagesRequest, first_user_text: str) -> bool:
    """Whether the client already put a CLAUDE.md into the prompt (Claude Code sends it in a
    system reminder of the first user message, ``first_user_text``)."""
    return "CLAUDE.md" in first_user_text or "CLAUDE.md" in request.system_text()


def _first_user_text(request: anthropic.MessagesRequest) -> str:
    for message in request.messages:
        if message.role != "user":
            continue
        return "\n".join(message.texts())
    return ""
