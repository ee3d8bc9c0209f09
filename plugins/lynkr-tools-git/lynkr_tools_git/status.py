"""``workspace_git_status``: branch, HEAD, staged, unstaged and untracked files."""

from __future__ import annotations

import os
from collections.abc import Sequence

import msgspec
from dulwich import porcelain
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import open_index
from lynkr_tools_git.paths import shown
from lynkr_tools_git.refs import current_branch, head_sha, short, upstream

#: Ahead/behind counts stop here; beyond it they are not computed (too costly to be worth it).
MAX_AHEAD_BEHIND = 1_000


class StatusInput(msgspec.Struct, kw_only=True):
    """No arguments: the status of the whole repository."""


class GitStatus(GitTool):
    """Reports the state of the workspace's git repository."""

    name = "workspace_git_status"
    description = (
        "Show the state of the workspace's git repository: the current branch and HEAD commit, "
        "how far it is ahead of or behind its upstream branch (when one is configured), and the "
        "files that are staged (added/modified/deleted), changed but not staged "
        "(modified/deleted), and untracked. Use it before staging or committing, to see what a "
        "commit would contain. Untracked directories are listed once, with a trailing '/'."
    )
    Input = StatusInput

    def effects(self, args: StatusInput) -> ToolEffects:
        """Reads the whole repository."""
        return ToolEffects(reads=(".",))

    async def run(self, args: StatusInput, context: ToolContext) -> str:
        """The status, as a short report."""
        return await self.git(context, self._status)

    def _status(self, repo: Repo) -> str:
        open_index(repo)
        state = porcelain.status(repo, untracked_files="normal")
        limit = self.config.max_listed_paths
        staged = [
            (kind, path)
            for key, kind in (("add", "added"), ("modify", "modified"), ("delete", "deleted"))
            for path in state.staged[key]
        ]
        root = os.fsencode(repo.path)
        unstaged = [
            ("modified" if os.path.lexists(os.path.join(root, path)) else "deleted", path)
            for path in state.unstaged
        ]
        lines = [_branch_line(repo), *_tracking_lines(repo)]
        lines += _listing(
            "Staged (will be in the next commit)", sorted(staged, key=_by_path), limit
        )
        lines += _listing("Not staged", sorted(unstaged, key=_by_path), limit)
        lines += _listing("Untracked", [("", path) for path in sorted(state.untracked)], limit)
        if not (staged or unstaged or state.untracked):
            lines.append("Nothing to commit: the working tree matches HEAD.")
        return "\n".join(lines) + "\n"


def _by_path(entry: tuple[str, bytes]) -> bytes:
    return entry[1]


def _branch_line(repo: Repo) -> str:
    branch = current_branch(repo)
    sha = head_sha(repo)
    if branch is None:
        return f"HEAD detached at {short(sha)}" if sha else "HEAD detached"
    if sha is None:
        return f"On branch {branch} (no commits yet)"
    return f"On branch {branch}, HEAD {short(sha)}"


def _tracking_lines(repo: Repo) -> list[str]:
    branch, sha = current_branch(repo), head_sha(repo)
    if branch is None or sha is None:
        return []
    tracked = upstream(repo, branch)
    if tracked is None:
        return []
    name, ref = tracked
    try:
        other = repo.refs[ref]
    except KeyError:
        return [f"Upstream {name}: not fetched yet"]
    ahead = _count(repo, sha, other)
    behind = _count(repo, other, sha)
    if ahead is None or behind is None:
        return [f"Upstream {name}"]
    return [f"Upstream {name}: ahead {ahead}, behind {behind}"]


def _count(repo: Repo, tip: bytes, base: bytes) -> int | None:
    """Commits reachable from ``tip`` and not from ``base``; ``None`` past ``MAX_AHEAD_BEHIND``."""
    try:
        walker = repo.get_walker(include=[tip], exclude=[base], max_entries=MAX_AHEAD_BEHIND + 1)
        count = sum(1 for _ in walker)
    except KeyError:
        return None
    return count if count <= MAX_AHEAD_BEHIND else None


def _listing(title: str, entries: Sequence[tuple[str, bytes]], limit: int) -> list[str]:
    if not entries:
        return []
    lines = [f"{title} ({len(entries)}):"]
    lines += [f"  {kind + ': ' if kind else ''}{shown(path)}" for kind, path in entries[:limit]]
    if len(entries) > limit:
        lines.append(f"  ... and {len(entries) - limit} more (LYNKR_GIT_MAX_LISTED_PATHS={limit})")
    return lines
