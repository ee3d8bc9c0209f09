"""A ``FileChange`` as a git-style unified diff, and its added/removed line counts."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from dulwich.patch import gen_diff_header, unified_diff

from lynkr_tools_git.changes import FileChange, Version

#: Contents larger than this get no line diff (matching lines is quadratic at worst).
MAX_LINE_DIFF_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class LineCounts:
    """Lines added and removed by a text change."""

    added: int
    removed: int


def render(change: FileChange) -> str:
    """The change as git prints it: header, then hunks or a one-line reason there are none."""
    old, new = change.old, change.new
    header = b"".join(gen_diff_header(
        (change.path, change.path),
        (old.mode if old else None, new.mode if new else None),
        (old.sha if old else None, new.sha if new else None),
    ))
    old_name = b"a/" + change.path if old else b"/dev/null"
    new_name = b"b/" + change.path if new else b"/dev/null"
    if change.binary:
        body = b"Binary files " + old_name + b" and " + new_name + b" differ\n"
    elif not _diffable(change):
        body = f"File too large for a line diff ({_sizes(old, new)})\n".encode()
    else:
        body = b"".join(unified_diff(_lines(old), _lines(new), old_name, new_name))
    return (header + body).decode("utf-8", "replace")


def count_lines(change: FileChange) -> LineCounts | None:
    """Added and removed lines, or ``None`` when the change is binary or too large to diff."""
    if change.binary or not _diffable(change):
        return None
    old_lines, new_lines = _lines(change.old), _lines(change.new)
    added = removed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old_lines, b=new_lines).get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return LineCounts(added, removed)


def _diffable(change: FileChange) -> bool:
    return not change.too_large and all(
        v is None or v.size <= MAX_LINE_DIFF_BYTES for v in (change.old, change.new)
    )


def _lines(version: Version | None) -> list[bytes]:
    """Lines split on ``\\n`` only, as git does, each keeping its end."""
    if version is None or not version.content:
        return []
    parts = version.content.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _sizes(old: Version | None, new: Version | None) -> str:
    described = [f"{label} {v.size:,} bytes" for label, v in (("old", old), ("new", new)) if v]
    return ", ".join(described)
