"""``workspace_git_commit``: record the staged changes as a new commit."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dulwich import porcelain
from dulwich.errors import CommitError, HookError
from dulwich.objects import Commit
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import commit_tree, committed_paths, staged_paths
from lynkr_tools_git.identity import commit_identities
from lynkr_tools_git.paths import shown
from lynkr_tools_git.refs import current_branch, short
from lynkr_tools_git.staging import stage_tracked_changes


class CommitInput(msgspec.Struct, kw_only=True):
    """The commit to make."""

    message: Annotated[str, msgspec.Meta(
        min_length=1,
        description="The commit message: a short subject line, optionally followed by a "
        "blank line and a body. Follow the repository's conventions (for example Conventional "
        "Commits: 'fix(parser): handle empty input').",
    )]
    all: Annotated[bool, msgspec.Meta(
        description="First stage the modifications and deletions of files git already "
        "tracks, like `git commit -a`. New files still need workspace_git_stage.",
    )] = False


class GitCommit(GitTool):
    """Commits what is staged."""

    name = "workspace_git_commit"
    description = (
        "Commit the staged changes of the workspace's git repository with the given message "
        "(`git commit`). With all=true, modified and deleted tracked files are staged first "
        "(`git commit -a`). Refuses when nothing is staged. The author is taken from git's "
        "configuration. Returns the new commit's id and subject and the files it changed. "
        "Check what is staged first with workspace_git_status or workspace_diff."
    )
    Input = CommitInput

    def effects(self, args: CommitInput) -> ToolEffects:
        """Creates a commit (a ``git.commit`` action; policies read ``message``)."""
        return ToolEffects(actions=frozenset({"git.commit"}))

    async def run(self, args: CommitInput, context: ToolContext) -> str:
        """The new commit, its subject and its files."""
        message = clean_message(args.message)
        if not message:
            raise ToolError("the commit message is empty; write a subject line")
        return await self.git(context, lambda repo: self._commit(repo, message, args.all))

    def _commit(self, repo: Repo, message: str, stage_all: bool) -> str:
        author, committer = commit_identities(
            repo.get_config_stack(), self.settings, self.config.author
        )
        if stage_all:
            stage_tracked_changes(repo)
        if not staged_paths(repo):
            hint = "" if stage_all else ", or pass all=true to commit every change to tracked files"
            raise ToolError(
                "nothing to commit: no changes are staged. Stage files with workspace_git_stage"
                + hint
            )
        try:
            sha = porcelain.commit(
                repo, message=message.encode(), author=author.header(),
                committer=committer.header(), env={},
            )
        except (CommitError, HookError) as exc:
            raise ToolError(f"the commit was refused: {exc}") from None
        commit = repo[sha]
        assert isinstance(commit, Commit)
        parent_tree = commit_tree(repo, commit.parents[0]) if commit.parents else None
        changed = committed_paths(repo, parent_tree, commit.tree)
        branch = current_branch(repo)
        where = f"on {branch}" if branch else "on a detached HEAD"
        subject = message.splitlines()[0]
        limit = self.config.max_listed_paths
        lines = [
            f"Committed {short(sha)} {where}: {subject}",
            f"Commit id: {sha.decode()}",
            f"Author: {author.name} <{author.email}>",
            f"Files changed ({len(changed)}):",
            *(f"  {kind}: {shown(path)}" for kind, path in changed[:limit]),
        ]
        if len(changed) > limit:
            lines.append(f"  ... and {len(changed) - limit} more")
        return "\n".join(lines) + "\n"


def clean_message(message: str) -> str:
    """The message as ``git commit -m`` records it: trailing spaces and surrounding blank
    lines removed, runs of blank lines collapsed to one, ending with a newline ("" if empty)."""
    lines = [line.rstrip() for line in message.replace("\r\n", "\n").split("\n")]
    cleaned: list[str] = []
    for line in lines:
        if line or (cleaned and cleaned[-1]):
            cleaned.append(line)
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return "\n".join(cleaned) + "\n" if cleaned else ""
