"""Opening workspace files safely and reading them as text.

A confined path may still be swapped for a FIFO or a symlink between the
check and the open: files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and
checked with ``fstat``, so nothing but a regular file is ever read.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path

from lynkr_core import ToolError

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

#: How much of a file's start is looked at for NUL bytes before reading a part of it.
SNIFF_BYTES = 8192


def open_regular(path: Path, shown: str) -> io.BufferedReader:
    """``path`` opened for binary reading; ``ToolError`` unless it is a regular file."""
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise ToolError(f"{shown!r}: no such file in the workspace") from None
    except OSError as exc:
        raise ToolError(f"{shown!r}: cannot be opened ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise ToolError(f"{shown!r} is a directory; use workspace_list to see what it holds")
        raise ToolError(f"{shown!r}: not a regular file (device, FIFO or socket)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def decode_text(data: bytes, shown: str, *, final: bool = True) -> str:
    """``data`` as UTF-8; ``ToolError`` for binary content (NUL bytes or invalid UTF-8).

    With ``final=False`` an incomplete character at the very end (a cut
    mid-character) is dropped instead of refused.
    """
    if b"\x00" in data:
        raise ToolError(f"{shown!r} looks binary (it contains NUL bytes); only text files can be read")
    try:
        if final:
            return data.decode("utf-8")
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"{shown!r} is not UTF-8 text (invalid byte at offset {exc.start}); only text files can be read"
        ) from None


def split_lines(text: str) -> list[str]:
    """``text`` cut after each ``\\n`` (kept); a last line without one is kept too."""
    lines = text.split("\n")
    tail = lines.pop()
    result = [line + "\n" for line in lines]
    if tail:
        result.append(tail)
    return result
