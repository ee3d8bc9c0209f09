"""``workspace_git_log``: recent commits, one line each."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

import msgspec
from dulwich.objects import Commit
from dulwich.objectspec import parse_commit
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.paths import tree_path
from lynkr_tools_git.refs import head_sha, short


class LogInput(msgspec.Struct, kw_only=True):
    """Which commits to list."""

    max_count: Annotated[int, msgspec.Meta(
        ge=1, le=200, description="How many commits to list, newest first (1 to 200)",
    )] = 20
    path: Annotated[str | None, msgspec.Meta(
        description="Only commits that changed this file or directory, relative to the "
        "workspace root; omit for all commits",
    )] = None
    ref: Annotated[str | None, msgspec.Meta(
        description="Branch, tag or commit id to start from; omit for HEAD",
    )] = None


class GitLog(GitTool):
    """Lists commits, newest first."""

    name = "workspace_git_log"
    description = (
        "List commits of the workspace's git repository, newest first, one line each: short "
        "commit id, date (ISO 8601), author, subject. Optionally only the commits that "
        "touched a path, or starting from a branch, tag or commit other than HEAD. Use it to "
        "see recent history or the repository's commit message style."
    )
    Input = LogInput

    def effects(self, args: LogInput) -> ToolEffects:
        """Reads the repository's history (of ``path`` when given)."""
        return ToolEffects(reads=(args.path or ".",))

    async def run(self, args: LogInput, context: ToolContext) -> str:
        """One line per commit."""
        return await self.git(context, lambda repo: self._log(repo, args, context))

    def _log(self, repo: Repo, args: LogInput, context: ToolContext) -> str:
        start = resolve_commit(repo, args.ref)
        if start is None:
            return "No commits yet.\n"
        paths = [tree_path(context, args.path)] if args.path else []
        walker = repo.get_walker(
            include=[start], max_entries=args.max_count, paths=[p for p in paths if p] or None
        )
        lines = [one_line(entry.commit) for entry in walker]
        if not lines:
            return f"No commits touch {args.path!r}.\n" if args.path else "No commits.\n"
        return "\n".join(lines) + "\n"


def resolve_commit(repo: Repo, ref: str | None) -> bytes | None:
    """The commit ``ref`` names (HEAD when ``None``; ``None`` before the first commit);
    ``ToolError`` when it names nothing."""
    if not ref:
        return head_sha(repo)
    try:
        return parse_commit(repo, ref.encode()).id
    except (KeyError, ValueError):
        raise ToolError(f"{ref!r} does not name a commit, branch or tag") from None


def one_line(commit: Commit) -> str:
    """``sha date author subject`` for a commit."""
    author = commit.author.decode("utf-8", "replace").split(" <", 1)[0]
    subject = commit.message.decode("utf-8", "replace").strip().splitlines()
    return f"{short(commit.id)} {iso_date(commit)} {author}: {subject[0] if subject else ''}"


def iso_date(commit: Commit) -> str:
    """The author date, in the author's time zone, as ISO 8601 to the second."""
    zone = timezone(timedelta(seconds=commit.author_timezone))
    return datetime.fromtimestamp(commit.author_time, zone).isoformat()
