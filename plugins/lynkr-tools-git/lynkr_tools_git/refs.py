"""Branches, HEAD, upstreams and remotes, as the tools name them."""

from __future__ import annotations

from dulwich.refs import check_ref_format
from dulwich.repo import Repo

from lynkr_core import ToolError

BRANCH_PREFIX = b"refs/heads/"
TAG_PREFIX = b"refs/tags/"


def short(sha: bytes) -> str:
    """A commit id shortened to 7 hex digits, as git prints it."""
    return sha[:7].decode("ascii")


def head_sha(repo: Repo) -> bytes | None:
    """The commit HEAD points to, or ``None`` before the first commit."""
    return repo.refs.follow(b"HEAD")[1]


def current_branch(repo: Repo) -> str | None:
    """The checked-out branch's name, or ``None`` when HEAD is detached."""
    chain, _ = repo.refs.follow(b"HEAD")
    target = chain[-1]
    if len(chain) < 2 or not target.startswith(BRANCH_PREFIX):
        return None
    return target[len(BRANCH_PREFIX):].decode("utf-8", "replace")


def require_branch(repo: Repo) -> str:
    """The checked-out branch; ``ToolError`` when HEAD is detached."""
    branch = current_branch(repo)
    if branch is None:
        raise ToolError("HEAD is detached (no branch is checked out); name the branch explicitly")
    return branch


def upstream(repo: Repo, branch: str) -> tuple[str, bytes] | None:
    """The tracking branch configured for ``branch``: its display name and ref, or ``None``."""
    config = repo.get_config()
    section = (b"branch", branch.encode())
    try:
        remote = config.get(section, b"remote")
        merge = config.get(section, b"merge")
    except KeyError:
        return None
    name = merge[len(BRANCH_PREFIX):] if merge.startswith(BRANCH_PREFIX) else merge
    if remote == b".":
        return name.decode("utf-8", "replace"), BRANCH_PREFIX + name
    ref = b"refs/remotes/" + remote + b"/" + name
    return (remote + b"/" + name).decode("utf-8", "replace"), ref


def remote_url(repo: Repo, remote: str) -> str:
    """The URL of a configured remote; ``ToolError`` naming the configured ones otherwise.

    Only configured remotes are accepted: a URL or a path given as ``remote``
    is refused, so a push or pull goes only where the repository already points.
    """
    config = repo.get_config()
    try:
        return config.get((b"remote", remote.encode()), b"url").decode("utf-8", "replace")
    except KeyError:
        pass
    known = sorted(
        section[1].decode("utf-8", "replace")
        for section in config.sections()
        if len(section) == 2 and section[0] == b"remote"
    )
    listed = ", ".join(known) if known else "none is configured"
    raise ToolError(f"{remote!r} is not a configured remote of this repository (remotes: {listed})")


def branch_ref(branch: str) -> bytes:
    """``refs/heads/<branch>``; ``ToolError`` when ``branch`` is not a valid branch name."""
    ref = BRANCH_PREFIX + branch.encode()
    if branch.startswith("-") or not check_ref_format(ref):
        raise ToolError(f"{branch!r} is not a valid branch name")
    return ref


def branch_sha(repo: Repo, branch: str) -> bytes:
    """The commit local branch ``branch`` points to; ``ToolError`` when there is no such branch."""
    try:
        return repo.refs[branch_ref(branch)]
    except KeyError:
        raise ToolError(f"there is no local branch {branch!r}") from None
