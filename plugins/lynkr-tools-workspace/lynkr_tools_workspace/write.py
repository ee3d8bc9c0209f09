"""``workspace_write``: create or replace a whole file, atomically."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.atomic import write_atomic
from lynkr_tools_workspace.config import WorkspaceSettings
from lynkr_tools_workspace.units import human_size, plural


class WriteInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_write."""

    path: Annotated[
        str,
        msgspec.Meta(description="File to create or overwrite, relative to the workspace root; missing directories are created."),
    ]
    content: Annotated[str, msgspec.Meta(description="The complete new content of the file (UTF-8 text).")]


class WriteFile(Tool):
    """Writes a whole file of the workspace."""

    name = "workspace_write"
    capability = "write"
    description = (
        "Create a file in the workspace, or replace one entirely, with the given text. Parent "
        "directories are created; an existing file keeps its permissions; the write is atomic "
        "(readers see the old or the new content, never a mix). Prefer workspace_edit to change "
        "part of an existing file. Returns how many bytes were written and whether the file was "
        "created or replaced. Writing inside .git is refused."
    )
    Input = WriteInput

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.limit = settings.max_write_bytes

    def effects(self, args: WriteInput) -> ToolEffects:
        """Writes ``path``."""
        return ToolEffects(writes=(args.path,), bytes_written=len(args.content.encode()))

    async def run(self, args: WriteInput, context: ToolContext) -> str:
        """Write, then say what happened."""
        data = args.content.encode()
        if len(data) > self.limit:
            raise ToolError(
                f"the content is {human_size(len(data))}, over the {human_size(self.limit)} write "
                "limit; write a smaller file"
            )
        target = context.resolve(args.path, writing=True)
        created = await asyncio.to_thread(write_atomic, target, data, args.path)
        lines = args.content.count("\n") + (0 if args.content.endswith("\n") or not args.content else 1)
        verb = "Created" if created else "Replaced"
        return f"{verb} {args.path}: {plural(len(data), 'byte')} written ({plural(lines, 'line')})."
