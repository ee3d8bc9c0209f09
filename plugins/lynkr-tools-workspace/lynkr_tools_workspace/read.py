"""``workspace_read``: a text file, whole or a range of its lines."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects
from lynkr_tools_workspace.config import WorkspaceSettings
from lynkr_tools_workspace.excerpt import read_excerpt

PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class ReadInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_read."""

    path: Annotated[str, msgspec.Meta(description="File to read, relative to the workspace root, e.g. 'src/app.py'.")]
    offset: Annotated[
        PositiveInt | None,
        msgspec.Meta(description="First line to show (1-based). Omit to start at the top."),
    ] = None
    limit: Annotated[
        PositiveInt | None,
        msgspec.Meta(description="How many lines to show from offset. Omit to show to the end."),
    ] = None


class ReadFile(Tool):
    """Reads a UTF-8 text file of the workspace."""

    name = "workspace_read"
    capability = "read"
    description = (
        "Read a UTF-8 text file from the workspace. Returns a one-line header in square brackets "
        "(which lines of how many are shown, whether the output was cut, and the offset to "
        "continue from) followed by the file's text exactly as stored, without line numbers, so "
        "it can be copied into workspace_edit. A file over the read limit (256 KiB unless "
        "configured) must be read in parts with offset and limit. Directories and binary files "
        "are refused; use workspace_list for a directory and workspace_search to find lines."
    )
    Input = ReadInput

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.budget = settings.max_read_bytes

    def effects(self, args: ReadInput) -> ToolEffects:
        """Reads ``path``."""
        return ToolEffects(reads=(args.path,))

    async def run(self, args: ReadInput, context: ToolContext) -> str:
        """The header line, then the text."""
        path = context.resolve(args.path)
        excerpt = await asyncio.to_thread(
            read_excerpt, path, args.path, offset=args.offset, limit=args.limit, budget=self.budget
        )
        return excerpt.header(args.path, self.budget) + "\n" + excerpt.text
