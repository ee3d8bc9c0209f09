"""``workspace_git_push``: publish a local branch to a configured remote, fast-forward only."""

from __future__ import annotations

import io
from typing import Annotated

import msgspec
from dulwich import porcelain
from dulwich.repo import Repo

from lynkr_core import ToolContext, ToolEffects, ToolError
from lynkr_tools_git.base import GitTool
from lynkr_tools_git.refs import branch_ref, branch_sha, remote_url, require_branch, short
from lynkr_tools_git.remotes import count_commits, display_url, is_ancestor, remote_errors, span

REMOTE_DESCRIPTION = (
    "Name of a remote configured in the repository, such as 'origin' (URLs are not accepted)"
)


class PushInput(msgspec.Struct, kw_only=True):
    """What to push, and where."""

    remote: Annotated[str, msgspec.Meta(min_length=1, description=REMOTE_DESCRIPTION)] = "origin"
    branch: Annotated[str | None, msgspec.Meta(
        description="Local branch to push, to the branch of the same name on the remote; "
        "omit for the current branch",
    )] = None


class GitPush(GitTool):
    """Pushes a branch to a remote, never forcing."""

    name = "workspace_git_push"
    description = (
        "Push a local branch of the workspace's git repository to the branch of the same name "
        "on a configured remote (`git push <remote> <branch>`). Only fast-forwards: when the "
        "remote branch has commits the local one lacks, the push is rejected and you should "
        "pull first (workspace_git_pull); force-pushing is not available. Returns the range "
        "pushed (old..new). Pushing needs a policy's permission; when refused, ask the user."
    )
    Input = PushInput

    def effects(self, args: PushInput) -> ToolEffects:
        """Publishes commits (``git.push``, a guarded action)."""
        return ToolEffects(actions=frozenset({"git.push"}))

    async def run(self, args: PushInput, context: ToolContext) -> str:
        """What was pushed."""
        return await self.git(context, lambda repo: self._push(repo, args))

    def _push(self, repo: Repo, args: PushInput) -> str:
        url = remote_url(repo, args.remote)
        if repo.get_config_stack().get_boolean((b"remote", args.remote.encode()), b"mirror", False):
            raise ToolError(
                f"remote {args.remote!r} is configured as a mirror (remote.{args.remote}.mirror), "
                "which force-pushes every ref; this tool only pushes one branch, without force"
            )
        branch = args.branch or require_branch(repo)
        ref = branch_ref(branch)
        local = branch_sha(repo, branch)
        target = f"{args.remote}/{branch}"
        with remote_errors("reading", args.remote, url):
            remote_refs = porcelain.ls_remote(url, config=repo.get_config_stack()).refs
        old = remote_refs.get(ref)
        if old == local:
            return f"Everything up to date: {target} is already at {short(local)}.\n"
        if old is not None and not is_ancestor(repo, old, local):
            raise ToolError(_rejected(target, branch))
        errors = io.BytesIO()
        try:
            with remote_errors("pushing to", args.remote, url):
                result = porcelain.push(
                    repo, args.remote, refspecs=[ref + b":" + ref],
                    outstream=io.BytesIO(), errstream=errors, force=False,
                )
        except porcelain.DivergedBranches:
            raise ToolError(_rejected(target, branch)) from None
        refused = (result.ref_status or {}).get(ref)
        if refused:
            raise ToolError(f"the remote refused the update of {target}: {refused}")
        return (
            f"Pushed {branch} to {target} ({display_url(url)}): {span(old, local)}, "
            f"{count_commits(repo, local, old)}.\n"
        )


def _rejected(target: str, branch: str) -> str:
    return (
        f"push rejected (non-fast-forward): {target} has commits that local {branch} does not "
        f"have. Bring them in with workspace_git_pull, then push again; force-pushing is not "
        "available."
    )
