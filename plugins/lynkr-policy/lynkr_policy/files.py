"""Which paths a call may read and write: ``POLICY_FILE_BLOCKED_PATHS`` and
``POLICY_FILE_ALLOWED_PATHS``.

A path is judged as the model gave it (normalised, see ``globs``) and also
at its real location inside the workspace when a symlink makes that
differ, so ``notes.txt -> .env`` is blocked like ``.env``. Each list errs
towards refusing: blocked patterns ignore case (on a case-insensitive file
system ``.ENV`` is ``.env``), allowed patterns respect it (``SRC/x`` is not
under ``src/``), and a write must be allowed under both spellings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from lynkr_core import confine
from lynkr_policy.globs import PathPattern, compile_all, first_match, path_parts

#: At most this many patterns are listed in a message the model reads.
LISTED_PATTERNS = 12


class FileRules:
    """The compiled path lists; ``check`` gives the reason to refuse a call, if any."""

    def __init__(self, blocked: Sequence[str], allowed: Sequence[str]) -> None:
        """Compile both lists; ``ValueError`` naming the variable and the bad pattern."""
        try:
            self.blocked = compile_all(list(blocked), ignore_case=True)
        except ValueError as exc:
            raise ValueError(f"POLICY_FILE_BLOCKED_PATHS: {exc}; remove it") from None
        try:
            self.allowed = compile_all(list(allowed))
        except ValueError as exc:
            raise ValueError(f"POLICY_FILE_ALLOWED_PATHS: {exc}; remove it") from None

    def blocks(self, path: str) -> bool:
        """Whether ``path`` (relative to the workspace, as a walking tool met it) is blocked."""
        parts = path_parts(path)
        return parts is not None and first_match(self.blocked, parts) is not None

    async def check(
        self, reads: Sequence[str], writes: Sequence[str], workspace: Path
    ) -> str | None:
        """Why the call may not touch these paths, or ``None`` when it may."""
        if not (reads or writes) or not (self.blocked or (self.allowed and writes)):
            return None
        real = await asyncio.to_thread(_real_locations, workspace, [*reads, *writes])
        for path in [*reads, *writes]:
            reason = self._blocked_reason(path, real.get(path))
            if reason is not None:
                return reason
        if self.allowed:
            for path in writes:
                reason = self._write_reason(path, real.get(path))
                if reason is not None:
                    return reason
        return None

    def _blocked_reason(self, path: str, real: tuple[str, ...] | None) -> str | None:
        given = path_parts(path)
        for parts, via in ((given, ""), (real, _via(real))):
            if parts is None or (via and parts == given):
                continue
            pattern = first_match(self.blocked, parts)
            if pattern is not None:
                return (
                    f"{path!r}{via} matches {pattern.text!r} in POLICY_FILE_BLOCKED_PATHS, "
                    "paths no tool may read or write. Leave this file alone; only the user can "
                    "lift this by removing that pattern from POLICY_FILE_BLOCKED_PATHS."
                )
        return None

    def _write_reason(self, path: str, real: tuple[str, ...] | None) -> str | None:
        given = path_parts(path)
        for parts, via in ((given, ""), (real, _via(real))):
            if parts is None or (via and parts == given):
                continue
            if first_match(self.allowed, parts) is None:
                return (
                    f"writing {path!r}{via} is not allowed: it matches none of "
                    f"POLICY_FILE_ALLOWED_PATHS ({_listing(self.allowed)}). Write only under "
                    "those paths; the user can add a pattern to POLICY_FILE_ALLOWED_PATHS, or "
                    "empty it to allow writing anywhere in the workspace."
                )
        return None


def _real_locations(workspace: Path, paths: list[str]) -> dict[str, tuple[str, ...]]:
    """Each path's real location (symlinks followed) as components under ``workspace``;
    paths that confinement refuses are left out (the tool will refuse them)."""
    located: dict[str, tuple[str, ...]] = {}
    for path in paths:
        try:
            located[path] = confine(workspace, path).relative_to(workspace).parts
        except Exception:  # refused, or a name the OS cannot encode: the tool refuses it too
            continue
    return located


def _via(real: tuple[str, ...] | None) -> str:
    return f" (really {'/'.join(real) or '.'}, through a symlink)" if real is not None else ""


def _listing(patterns: tuple[PathPattern, ...]) -> str:
    shown = ", ".join(pattern.text for pattern in patterns[:LISTED_PATTERNS])
    more = len(patterns) - LISTED_PATTERNS
    return shown + (f" and {more} more" if more > 0 else "")
