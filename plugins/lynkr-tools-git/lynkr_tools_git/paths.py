"""The model's paths as repository paths: confined to the workspace, never inside ``.git``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from lynkr_core import ToolContext, ToolError

#: The repository path that stands for the whole repository (the model's ".").
WHOLE_REPOSITORY = b""


def tree_path(context: ToolContext, path: str) -> bytes:
    """``path`` as a repository-relative tree path (``b""`` for ``"."``); ``ToolError`` when
    it leaves the workspace (``..``, absolute, a symlink out) or points into ``.git``.

    The path git sees is the one given, not its symlink-resolved location: staging a
    symlink stages the link, as git does.
    """
    context.resolve(path)
    parts = PurePosixPath(path).parts
    if ".git" in parts:
        raise ToolError(f"{path!r}: paths inside .git are not part of the repository's content")
    return "/".join(part for part in parts if part != ".").encode()


def tree_paths(context: ToolContext, paths: Iterable[str]) -> list[bytes]:
    """Every path of ``paths`` through ``tree_path``."""
    return [tree_path(context, path) for path in paths]


def matches(path: bytes, filters: Sequence[bytes]) -> bool:
    """Whether ``path`` is one of ``filters`` or inside one of them (no filter: everything)."""
    if not filters or WHOLE_REPOSITORY in filters:
        return True
    return any(path == prefix or path.startswith(prefix + b"/") for prefix in filters)


def shown(path: bytes) -> str:
    """A tree path as text for the model."""
    return path.decode("utf-8", "replace")
