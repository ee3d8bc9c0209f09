"""``workspace_git_stage`` and ``workspace_git_unstage``: move changes into and out of the index."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from typing import Annotated

import msgspec
from dulwich import porcelain
from dulwich.errors import NotTreeError
from dulwich.index import IndexEntry, index_entry_from_tree_entry, unchanged_entry_flags
from dulwich.object_store import iter_tree_contents
from dulwich.objects import Tree
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import head_tree, open_index, staged_paths, unstaged_paths
from lynkr_tools_git.paths import WHOLE_REPOSITORY, matches, shown, tree_paths


class StageInput(msgspec.Struct, kw_only=True):
    """What to stage."""

    paths: Annotated[list[str], msgspec.Meta(
        min_length=1,
        description="Files or directories to stage, relative to the workspace root. A "
        "directory stages every change under it (new, modified and deleted files); '.' "
        "stages every change in the repository. A deleted file's path stages its deletion.",
    )]


class UnstageInput(msgspec.Struct, kw_only=True):
    """What to unstage."""

    paths: Annotated[list[str], msgspec.Meta(
        min_length=1,
        description="Files or directories to take out of the index, relative to the "
        "workspace root; '.' unstages everything. The files on disk are not touched.",
    )]


class GitStage(GitTool):
    """Stages changes for the next commit."""

    name = "workspace_git_stage"
    description = (
        "Stage changes for the next commit (`git add`): new and modified files, and the "
        "deletion of tracked files that were removed. Give files or directories; '.' stages "
        "everything. Files ignored by .gitignore are not staged (you are told which). "
        "Returns what is staged afterwards under the given paths; commit it with "
        "workspace_git_commit."
    )
    Input = StageInput

    def effects(self, args: StageInput) -> ToolEffects:
        """Changes the index (a ``git.stage`` action)."""
        return ToolEffects(actions=frozenset({"git.stage"}))

    async def run(self, args: StageInput, context: ToolContext) -> str:
        """What is staged under the paths afterwards."""
        return await self.git(context, lambda repo: self._stage(repo, args, context))

    def _stage(self, repo: Repo, args: StageInput, context: ToolContext) -> str:
        filters = tree_paths(context, args.paths)
        ignored = stage_paths(repo, filters)
        lines = staged_listing(repo, filters, self.config.max_listed_paths)
        if ignored:
            lines.append(
                "Not staged, ignored by .gitignore: " + ", ".join(sorted(ignored))
            )
        return "\n".join(lines) + "\n"


class GitUnstage(GitTool):
    """Takes changes out of the index, leaving the working tree alone."""

    name = "workspace_git_unstage"
    description = (
        "Unstage changes (`git restore --staged`): the index entries of the given files or "
        "directories go back to their state in HEAD, and newly added files are removed from "
        "the index. Your edits in the working tree are kept. '.' unstages everything. "
        "Returns what was unstaged."
    )
    Input = UnstageInput

    def effects(self, args: UnstageInput) -> ToolEffects:
        """Changes the index (a ``git.stage`` action)."""
        return ToolEffects(actions=frozenset({"git.stage"}))

    async def run(self, args: UnstageInput, context: ToolContext) -> str:
        """The paths whose index entries changed."""
        return await self.git(context, lambda repo: self._unstage(repo, args, context))

    def _unstage(self, repo: Repo, args: UnstageInput, context: ToolContext) -> str:
        filters = tree_paths(context, args.paths)
        reset = unstage_paths(repo, filters)
        if not reset:
            return "Nothing was staged under the given paths.\n"
        limit = self.config.max_listed_paths
        lines = [f"Unstaged ({len(reset)}); the working tree is unchanged:"]
        lines += [f"  {shown(path)}" for path in reset[:limit]]
        if len(reset) > limit:
            lines.append(f"  ... and {len(reset) - limit} more")
        return "\n".join(lines) + "\n"


def stage_paths(repo: Repo, filters: Sequence[bytes]) -> set[str]:
    """Stage every change under ``filters``; returns the named paths skipped as ignored.

    New files go through ``porcelain.add``, which honours .gitignore and is given
    absolute paths (a relative one would be read against the process's working
    directory). Changes to tracked files, deletions included, are staged directly,
    as git does even for tracked files that match .gitignore.
    """
    root = os.fsencode(repo.path)
    index = open_index(repo)
    whole = WHOLE_REPOSITORY in filters
    on_disk = [] if whole else [
        path for path in filters if os.path.lexists(os.path.join(root, path))
    ]
    for path in filters:
        if whole or path in on_disk:
            continue
        if not any(matches(entry, [path]) for entry in index.paths()):
            raise ToolError(f"{shown(path)!r} did not match any file (not on disk, not tracked)")
    ignored: set[str] = set()
    if whole or on_disk:
        targets = None if whole else [os.fsdecode(os.path.join(root, path)) for path in on_disk]
        _, ignored = porcelain.add(repo, paths=targets)
    stage_tracked_changes(repo, filters)
    tracked = set(open_index(repo).paths())
    named = {shown(path) for path in filters if path not in tracked}
    return {path.rstrip("/") for path in ignored} & named


def stage_tracked_changes(repo: Repo, filters: Sequence[bytes] = ()) -> None:
    """Stage the modifications and deletions of tracked files under ``filters`` (everywhere
    without any: ``git commit -a``)."""
    changed = sorted(path for path in unstaged_paths(repo) if matches(path, filters))
    if changed:
        repo.get_worktree().stage([os.fsdecode(path) for path in changed])


def staged_listing(repo: Repo, filters: Sequence[bytes], limit: int) -> list[str]:
    """What is staged under ``filters``, one ``kind: path`` line each."""
    staged = staged_paths(repo, filters)
    if not staged:
        return ["Nothing is staged under the given paths (no changes there)."]
    lines = [f"Staged under the given paths ({len(staged)}):"]
    lines += [f"  {kind}: {shown(path)}" for kind, path in staged[:limit]]
    if len(staged) > limit:
        lines.append(f"  ... and {len(staged) - limit} more")
    return lines


def unstage_paths(repo: Repo, filters: Sequence[bytes]) -> list[bytes]:
    """Reset the index entries under ``filters`` to HEAD; returns the paths that changed."""
    index = open_index(repo)
    head = dict(_head_entries(repo, filters))
    reset = []
    for path in [entry for entry in index.paths() if matches(entry, filters)]:
        if path not in head:
            del index[path]
            reset.append(path)
    for path, (mode, sha) in head.items():
        entry = index[path] if path in index else None
        if isinstance(entry, IndexEntry) and entry.sha == sha and entry.mode == mode:
            continue
        flags, extended = unchanged_entry_flags(index, path, sha, mode)
        index[path] = index_entry_from_tree_entry(mode, sha, flags=flags, extended_flags=extended)
        reset.append(path)
    if reset:
        index.write()
    return sorted(reset)


def _head_entries(
    repo: Repo, filters: Sequence[bytes]
) -> Iterator[tuple[bytes, tuple[int, bytes]]]:
    """HEAD's files at or under ``filters``: (path, (mode, sha))."""
    tree = head_tree(repo)
    if tree is None:
        return
    prefixes = [WHOLE_REPOSITORY] if not filters or WHOLE_REPOSITORY in filters else filters
    seen: set[bytes] = set()
    for prefix in prefixes:
        for path, mode, sha in _under(repo, tree, prefix):
            if path not in seen:
                seen.add(path)
                yield path, (mode, sha)


def _under(repo: Repo, tree: bytes, prefix: bytes) -> Iterator[tuple[bytes, int, bytes]]:
    if prefix == WHOLE_REPOSITORY:
        start, base = tree, b""
    else:
        root = repo[tree]
        assert isinstance(root, Tree)
        try:
            mode, sha = root.lookup_path(repo.object_store.__getitem__, prefix)
        except (KeyError, NotTreeError):
            return
        if not stat.S_ISDIR(mode):
            yield prefix, mode, sha
            return
        start, base = sha, prefix + b"/"
    for entry in iter_tree_contents(repo.object_store, start):
        assert entry.path is not None and entry.mode is not None and entry.sha is not None
        yield base + entry.path, entry.mode, entry.sha
