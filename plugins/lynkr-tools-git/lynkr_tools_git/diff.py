"""``workspace_diff``: unified diffs of staged and unstaged changes, file by file, capped."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import Scope, changes_in_scope
from lynkr_tools_git.output import CappedText
from lynkr_tools_git.patches import render
from lynkr_tools_git.paths import shown, tree_paths

SCOPE_DESCRIPTION = (
    "Which changes: 'staged' (index vs HEAD: what the next commit records), 'unstaged' "
    "(working tree vs index: edits not staged yet) or 'all' (both, in two sections)"
)
PATHS_DESCRIPTION = (
    "Only these files or directories, relative to the workspace root; empty for every change"
)


class DiffInput(msgspec.Struct, kw_only=True):
    """Which uncommitted changes to show as a diff."""

    scope: Annotated[Scope, msgspec.Meta(description=SCOPE_DESCRIPTION)] = "all"
    paths: Annotated[list[str], msgspec.Meta(description=PATHS_DESCRIPTION)] = []


class GitDiff(GitTool):
    """Shows the repository's uncommitted changes as unified diffs."""

    name = "workspace_diff"
    description = (
        "Show uncommitted changes in the workspace's git repository as unified diffs (the "
        "format of `git diff`), one section per file: staged changes, unstaged changes, or "
        "both. New and deleted files show in full; binary files as 'Binary files ... differ'. "
        "Untracked files are not included (see workspace_git_status). Use it to review "
        "changes before staging or committing; for a short overview with line counts use "
        "workspace_diff_summary. Long output is capped and says which files were left out."
    )
    Input = DiffInput

    def effects(self, args: DiffInput) -> ToolEffects:
        """Reads the given paths (the whole repository without any)."""
        return ToolEffects(reads=tuple(args.paths) or (".",))

    async def run(self, args: DiffInput, context: ToolContext) -> str:
        """The diff text."""
        return await self.git(context, lambda repo: self._diff(repo, args, context))

    def _diff(self, repo: Repo, args: DiffInput, context: ToolContext) -> str:
        filters = tree_paths(context, args.paths)
        output = CappedText(
            self.config.max_diff_bytes, "LYNKR_GIT_MAX_DIFF_BYTES",
            "Ask again with `paths` naming fewer files, or use workspace_diff_summary.",
        )
        for section in changes_in_scope(repo, args.scope, filters):
            count = len(section.paths)
            if not count:
                output.add(f"## {section.title}: no changes\n\n")
                continue
            output.add(f"## {section.title}: {count} file{'' if count == 1 else 's'}\n\n")
            for path in section.paths:
                if not context.visible(shown(path)):
                    output.add(f"{shown(path)}: changed; its content is hidden by a policy\n\n")
                elif output.full:
                    output.omit(shown(path))  # not even read
                else:
                    output.add_section(render(section.load(path)) + "\n", shown(path))
        return output.text()
