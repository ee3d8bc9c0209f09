"""``workspace_git_pull``: fast-forward the current branch from a configured remote."""

from __future__ import annotations

import io
import os
from typing import Annotated

import msgspec
from dulwich import porcelain
from dulwich.errors import WorkingTreeModifiedError
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.changes import (
    commit_tree,
    committed_paths,
    open_index,
    staged_paths,
    unstaged_paths,
)
from lynkr_tools_git.paths import shown
from lynkr_tools_git.push import REMOTE_DESCRIPTION
from lynkr_tools_git.refs import (
    branch_ref,
    head_sha,
    remote_url,
    require_branch,
    short,
    upstream,
)
from lynkr_tools_git.remotes import count_commits, display_url, is_ancestor, remote_errors, span

#: How many conflicting paths a refused pull names.
MAX_NAMED_CONFLICTS = 20


class PullInput(msgspec.Struct, kw_only=True):
    """What to pull, and from where."""

    remote: Annotated[str, msgspec.Meta(min_length=1, description=REMOTE_DESCRIPTION)] = "origin"
    branch: Annotated[str | None, msgspec.Meta(
        description="Branch of the remote to bring into the current branch; omit for the "
        "current branch's upstream on that remote (or else the branch of the same name)",
    )] = None


class GitPull(GitTool):
    """Fast-forwards the checked-out branch from a remote branch."""

    name = "workspace_git_pull"
    description = (
        "Fetch a branch from a configured remote and fast-forward the current branch to it "
        "(`git pull --ff-only`). Local changes to files the pull does not touch are kept. "
        "Refuses, changing nothing, when the histories have diverged (this tool never merges "
        "or rebases) or when local changes would be overwritten (commit them first). Returns "
        "the range brought in (old..new) and the files it changed."
    )
    Input = PullInput

    def effects(self, args: PullInput) -> ToolEffects:
        """Changes the branch and the working tree (a ``git.pull`` action)."""
        return ToolEffects(actions=frozenset({"git.pull"}))

    async def run(self, args: PullInput, context: ToolContext) -> str:
        """What the pull brought in."""
        return await self.git(context, lambda repo: self._pull(repo, args))

    def _pull(self, repo: Repo, args: PullInput) -> str:
        url = remote_url(repo, args.remote)
        local_branch = require_branch(repo)
        head = head_sha(repo)
        if head is None:
            raise ToolError(f"branch {local_branch} has no commits yet; nothing to fast-forward")
        branch = args.branch or _default_branch(repo, args.remote, local_branch)
        ref = branch_ref(branch)
        source = f"{args.remote}/{branch}"
        with remote_errors("fetching from", args.remote, url):
            fetched = porcelain.fetch(
                repo, args.remote, outstream=io.StringIO(), errstream=io.BytesIO()
            )
        new = fetched.refs.get(ref)
        if new is None:
            raise ToolError(
                f"the remote {args.remote} ({display_url(url)}) has no branch {branch!r}"
            )
        if new == head:
            return f"Already up to date with {source} ({short(head)}).\n"
        if is_ancestor(repo, new, head):
            return (
                f"Already up to date: {local_branch} is ahead of {source} by "
                f"{count_commits(repo, head, new)} (push them to publish).\n"
            )
        if not is_ancestor(repo, head, new):
            raise ToolError(
                f"pull refused: {local_branch} and {source} have diverged ({local_branch} has "
                f"{count_commits(repo, head, new)} that {source} lacks, {source} has "
                f"{count_commits(repo, new, head)} that {local_branch} lacks). A fast-forward is "
                "impossible and this tool does not merge or rebase; ask the user how to "
                "reconcile them. Your branch and files are unchanged."
            )
        changed = committed_paths(repo, commit_tree(repo, head), commit_tree(repo, new))
        blocked = _overwritten(repo, [path for _, path in changed])
        if blocked:
            named = ", ".join(shown(path) for path in blocked[:MAX_NAMED_CONFLICTS])
            more = len(blocked) - MAX_NAMED_CONFLICTS
            raise ToolError(
                f"pull refused: it would overwrite local changes to {named}"
                + (f" and {more} more files" if more > 0 else "")
                + ". Commit them (workspace_git_commit) or undo them first. Your branch and "
                "files are unchanged."
            )
        try:
            with remote_errors("pulling from", args.remote, url):
                porcelain.pull(
                    repo, args.remote, refspecs=[ref], fast_forward=True, ff_only=True,
                    outstream=io.BytesIO(), errstream=io.BytesIO(),
                )
        except WorkingTreeModifiedError as exc:
            raise ToolError(f"pull refused: {exc}") from None
        except porcelain.DivergedBranches:
            raise ToolError(f"pull refused: {source} moved and no longer fast-forwards") from None
        if head_sha(repo) != new:
            raise ToolError(
                f"the pull did not move {local_branch} to {short(new)}; check the repository"
            )
        limit = self.config.max_listed_paths
        lines = [
            f"Fast-forwarded {local_branch} to {source}: {span(head, new)}, "
            f"{count_commits(repo, new, head)}.",
            f"Files changed ({len(changed)}):",
            *(f"  {kind}: {shown(path)}" for kind, path in changed[:limit]),
        ]
        if len(changed) > limit:
            lines.append(f"  ... and {len(changed) - limit} more")
        return "\n".join(lines) + "\n"


def _default_branch(repo: Repo, remote: str, local_branch: str) -> str:
    """The upstream branch of ``local_branch`` when it tracks ``remote``, else the same name."""
    tracked = upstream(repo, local_branch)
    prefix = f"{remote}/"
    if tracked is not None and tracked[0].startswith(prefix):
        return tracked[0][len(prefix):]
    return local_branch


def _overwritten(repo: Repo, incoming: list[bytes]) -> list[bytes]:
    """Paths the pull would change that have local changes: staged, unstaged, or an untracked
    file where the pull brings a new one."""
    local = {path for _, path in staged_paths(repo)} | unstaged_paths(repo)
    index = open_index(repo)
    root = os.fsencode(repo.path)
    return [
        path for path in incoming
        if path in local or (path not in index and os.path.lexists(os.path.join(root, path)))
    ]
