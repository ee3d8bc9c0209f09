"""``workspace_diff_summary``: changed files with line counts, totals and risk notes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import FileChange, Scope, changes_in_scope
from lynkr_tools_git.diff import PATHS_DESCRIPTION, SCOPE_DESCRIPTION
from lynkr_tools_git.patches import count_lines
from lynkr_tools_git.paths import shown, tree_paths
from lynkr_tools_git.risk import ChangedFile, risk_notes

KIND_LETTERS = {"added": "A", "modified": "M", "deleted": "D"}


class DiffSummaryInput(msgspec.Struct, kw_only=True):
    """Which uncommitted changes to summarise."""

    scope: Annotated[Scope, msgspec.Meta(description=SCOPE_DESCRIPTION)] = "all"
    paths: Annotated[list[str], msgspec.Meta(description=PATHS_DESCRIPTION)] = []


class GitDiffSummary(GitTool):
    """Summarises uncommitted changes and flags the risky ones."""

    name = "workspace_diff_summary"
    description = (
        "Summarise uncommitted changes in the workspace's git repository without the diff "
        "itself: each changed file (A added, M modified, D deleted) with its added and removed "
        "line counts, the totals, and risk notes for a reviewer: large changes, sensitive "
        "paths (.env files, keys and certificates, secrets or credentials in a name, CI "
        "configuration, Dockerfiles, lockfiles, migrations, authentication code), deleted "
        "files and binary files. Use it to size up a change before reviewing it with "
        "workspace_diff or committing it."
    )
    Input = DiffSummaryInput

    def effects(self, args: DiffSummaryInput) -> ToolEffects:
        """Reads the given paths (the whole repository without any)."""
        return ToolEffects(reads=tuple(args.paths) or (".",))

    async def run(self, args: DiffSummaryInput, context: ToolContext) -> str:
        """The summary."""
        return await self.git(context, lambda repo: self._summary(repo, args, context))

    def _summary(self, repo: Repo, args: DiffSummaryInput, context: ToolContext) -> str:
        filters = tree_paths(context, args.paths)
        limit = self.config.max_listed_paths
        lines: list[str] = []
        everything: list[ChangedFile] = []
        for section in changes_in_scope(repo, args.scope, filters):
            files = [_changed_file(change) for change in section.changes()]
            everything += files
            if not files:
                lines.append(f"## {section.title}: no changes")
                continue
            lines.append(f"## {section.title}: {_totals(files)}")
            width = max(len(f.path) for f in files[:limit])
            lines += [
                f"  {KIND_LETTERS[f.kind]}  {f.path:<{width}}  {_counts(f)}" for f in files[:limit]
            ]
            if len(files) > limit:
                more = len(files) - limit
                lines.append(f"  ... and {more} more (LYNKR_GIT_MAX_LISTED_PATHS={limit})")
        if args.scope == "all" and everything:
            lines.append(f"Total: {_totals(everything)}")
        notes = risk_notes(everything)
        lines.append("Risk notes:" if notes else "Risk notes: none.")
        lines += [f"- {note}" for note in notes]
        return "\n".join(lines) + "\n"


def _changed_file(change: FileChange) -> ChangedFile:
    counts = count_lines(change)
    return ChangedFile(
        path=shown(change.path),
        kind=change.kind,
        binary=change.binary,
        added=None if counts is None else counts.added,
        removed=None if counts is None else counts.removed,
    )


def _counts(file: ChangedFile) -> str:
    if file.binary:
        return "binary"
    if file.added is None or file.removed is None:
        return "too large to count"
    return f"+{file.added} -{file.removed}"


def _totals(files: list[ChangedFile]) -> str:
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    noun = "file" if len(files) == 1 else "files"
    binary = sum(1 for f in files if f.binary)
    extra = f" ({binary} binary)" if binary else ""
    return f"{len(files)} {noun}, +{added} -{removed}{extra}"
