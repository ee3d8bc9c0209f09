"""Reading a text file, or a range of its lines, within a byte budget.

A file within the budget is read whole (and checked whole for binary
content). A bigger one is only read in part, when a line range is asked
for: lines before the range are skipped in bounded pieces, nothing after the
range is read, and its total line count is then unknown.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from lynkr_core import ToolError
from lynkr_tools_workspace.textfiles import SNIFF_BYTES, decode_text, open_regular, split_lines
from lynkr_tools_workspace.units import human_size

#: Pieces in which a big file's lines are read (a line may be longer than this).
PIECE_BYTES = 64 * 1024


@dataclass(slots=True)
class Excerpt:
    """Lines ``first``..``last`` of a file (``last < first`` when none were shown).

    ``total`` is ``None`` when the file was not read to its end; ``cut`` when
    the byte budget stopped the excerpt; ``partial`` when its last line is
    shown only in part (a line longer than the budget).
    """

    text: str
    first: int
    last: int
    total: int | None
    size: int
    cut: bool = False
    partial: bool = False

    def header(self, shown: str, budget: int) -> str:
        """One line: which lines of how many, and whether the output was cut."""
        if self.total == 0:
            return f"[{shown}: empty file, 0 lines]"
        of = str(self.total) if self.total is not None else f"? (a {human_size(self.size)} file)"
        parts = [f"{shown}: lines {self.first}-{self.last} of {of}"]
        if self.partial:
            parts.append(f"line {self.last} is longer than the read limit and shown only in part")
        if self.cut:
            parts.append(f"cut at the {human_size(budget)} read limit")
        if self.cut or self.total is None or self.last < self.total:
            parts.append(f"more from offset={self.last + 1}")
        elif self.first == 1:
            parts.append("whole file")
        return "[" + "; ".join(parts) + "]"


def read_excerpt(path: Path, shown: str, *, offset: int | None, limit: int | None, budget: int) -> Excerpt:
    """Lines of ``path`` from ``offset`` (1-based), at most ``limit`` of them, within ``budget`` bytes."""
    with open_regular(path, shown) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= budget:
            return _from_small(handle.read(budget + 1), shown, offset or 1, limit, budget, size)
        if offset is None and limit is None:
            raise ToolError(
                f"{shown!r} is {human_size(size)}, over the {human_size(budget)} read limit; "
                "read a part of it with offset (first line, 1-based) and limit (number of lines)"
            )
        decode_text(handle.read(SNIFF_BYTES), shown, final=False)
        handle.seek(0)
        return _from_big(handle, shown, offset or 1, limit, budget, size)


def _from_small(data: bytes, shown: str, offset: int, limit: int | None, budget: int, size: int) -> Excerpt:
    if len(data) > budget:
        raise ToolError(f"{shown!r} grew past the {human_size(budget)} read limit while being read")
    lines = split_lines(decode_text(data, shown))
    _check_offset(shown, offset, len(lines))
    chosen = lines[offset - 1 : None if limit is None else offset - 1 + limit]
    return Excerpt("".join(chosen), offset, offset + len(chosen) - 1, len(lines), size)


def _from_big(
    handle: io.BufferedReader, shown: str, offset: int, limit: int | None, budget: int, size: int
) -> Excerpt:
    stop = None if limit is None else offset + limit - 1
    out = bytearray()
    number, last, total = 1, offset - 1, None
    ended = True  # the previous piece ended its line
    cut = partial = False
    while True:
        piece = handle.readline(PIECE_BYTES)
        if not piece:
            total = number - 1 if ended else number
            break
        ended = piece.endswith(b"\n")
        if number >= offset:
            room = budget - len(out)
            if len(piece) > room:
                cut = True
                if last < number and out:
                    break
                out += piece[:room]
                last, partial = number, True
                break
            out += piece
            last = number
        if ended:
            if stop is not None and number >= stop:
                if not handle.peek(1):
                    total = number
                break
            number += 1
    if total is not None:
        _check_offset(shown, offset, total)
    text = decode_text(bytes(out), shown, final=not partial)
    return Excerpt(text, offset, last, total, size, cut=cut, partial=partial)


def _check_offset(shown: str, offset: int, total: int) -> None:
    if offset > 1 and offset > total:
        raise ToolError(f"offset {offset} is past the end of {shown!r}, which has {total} lines")
