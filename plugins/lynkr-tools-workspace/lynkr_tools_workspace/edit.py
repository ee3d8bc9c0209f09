"""``workspace_edit``: replace an exact string in a file, atomically."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolError
from lynkr_tools_workspace.atomic import write_atomic
from lynkr_tools_workspace.config import WorkspaceSettings
from lynkr_tools_workspace.textfiles import decode_text, open_regular
from lynkr_tools_workspace.units import human_size, plural

#: How many line numbers of replaced occurrences the result lists.
SHOWN_LINES = 20


class EditInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_edit."""

    path: Annotated[str, msgspec.Meta(description="File to edit, relative to the workspace root.")]
    old_string: Annotated[
        str,
        msgspec.Meta(
            description="The exact text to replace, including whitespace and indentation, as "
            "workspace_read shows it. It must occur exactly once unless replace_all is true."
        ),
    ]
    new_string: Annotated[str, msgspec.Meta(description="The text to put in its place (may be empty to delete).")]
    replace_all: Annotated[
        bool, msgspec.Meta(description="Replace every occurrence instead of requiring exactly one.")
    ] = False


class EditFile(Tool):
    """Replaces exact text in a file of the workspace."""

    name = "workspace_edit"
    capability = "edit"
    description = (
        "Change part of an existing text file by replacing an exact string: old_string must "
        "match the file's text exactly (whitespace included) and occur exactly once, or set "
        "replace_all to replace every occurrence. Read the file first with workspace_read. The "
        "write is atomic. Returns how many occurrences were replaced and on which lines."
    )
    Input = EditInput

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.limit = settings.max_write_bytes

    def effects(self, args: EditInput) -> ToolEffects:
        """Writes ``path``."""
        return ToolEffects(writes=(args.path,), bytes_written=len(args.new_string.encode()))

    async def run(self, args: EditInput, context: ToolContext) -> str:
        """Check the strings, then edit in a worker thread."""
        if not args.old_string:
            raise ToolError(
                "old_string is empty; give the exact text to replace (use workspace_write to "
                "create a file or replace all of it)"
            )
        if args.old_string == args.new_string:
            raise ToolError("old_string and new_string are the same; nothing would change")
        target = context.resolve(args.path, writing=True)
        return await asyncio.to_thread(self._edit, target, args)

    def _edit(self, target: Path, args: EditInput) -> str:
        shown = args.path
        with open_regular(target, shown) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > self.limit:
                raise ToolError(
                    f"{shown!r} is {human_size(size)}, over the {human_size(self.limit)} write "
                    "limit; it cannot be edited with this tool"
                )
            text = decode_text(handle.read(self.limit + 1), shown)
        count = text.count(args.old_string)
        if count == 0:
            hint = ""
            if "\r\n" in text and "\n" in args.old_string and "\r\n" not in args.old_string:
                hint = " The file uses CRLF (\\r\\n) line endings; old_string must too."
            raise ToolError(
                f"old_string was not found in {shown!r}. Read the file again and copy the text "
                f"exactly, including whitespace and indentation.{hint}"
            )
        if count > 1 and not args.replace_all:
            raise ToolError(
                f"old_string occurs {count} times in {shown!r}; include more surrounding lines "
                "to make it unique, or set replace_all to replace all of them"
            )
        lines = _line_numbers(text, args.old_string, SHOWN_LINES)
        edited = text.replace(args.old_string, args.new_string, -1 if args.replace_all else 1)
        data = edited.encode()
        if len(data) > self.limit:
            raise ToolError(
                f"the edited file would be {human_size(len(data))}, over the "
                f"{human_size(self.limit)} write limit; the file is unchanged"
            )
        write_atomic(target, data, shown)
        where = ", ".join(str(n) for n in lines) + (", ..." if count > len(lines) else "")
        return (
            f"Edited {shown}: replaced {plural(count, 'occurrence')} "
            f"(line{'s' if count > 1 else ''} {where}); the file is now {plural(len(data), 'byte')}."
        )


def _line_numbers(text: str, needle: str, most: int) -> list[int]:
    """The 1-based line numbers where the first ``most`` occurrences of ``needle`` start."""
    numbers: list[int] = []
    start, line, scanned = text.find(needle), 1, 0
    while start != -1 and len(numbers) < most:
        line += text.count("\n", scanned, start)
        scanned = start
        numbers.append(line)
        start = text.find(needle, start + len(needle))
    return numbers
