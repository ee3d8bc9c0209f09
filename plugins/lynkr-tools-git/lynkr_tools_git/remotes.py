"""Talking to a remote: its URL for display, and dulwich's failures as the model's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from dulwich import porcelain
from dulwich.errors import GitProtocolError, NotGitRepository
from dulwich.graph import can_fast_forward
from dulwich.repo import Repo

from lynkr_core import ToolError
from lynkr_tools_git.refs import short

#: How far the commits between two ends are counted before giving up ("many").
MAX_COUNTED_COMMITS = 1_000


def display_url(url: str) -> str:
    """``url`` without a user name or password (they may hold a token)."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


@contextmanager
def remote_errors(action: str, remote: str, url: str) -> Iterator[None]:
    """Turn a failure to reach or talk to ``remote`` into a ``ToolError`` saying what failed."""
    try:
        yield
    except porcelain.DivergedBranches:
        raise
    except (porcelain.Error, GitProtocolError, NotGitRepository, OSError) as exc:
        detail = str(exc) or type(exc).__name__
        raise ToolError(f"{action} {remote} ({display_url(url)}) failed: {detail}") from None


def is_ancestor(repo: Repo, ancestor: bytes, descendant: bytes) -> bool:
    """Whether ``descendant`` contains ``ancestor`` (a fast-forward from one to the other);
    ``False`` when ``ancestor`` is not even known locally."""
    try:
        return can_fast_forward(repo, ancestor, descendant)
    except KeyError:
        return False


def count_commits(repo: Repo, tip: bytes, base: bytes | None) -> str:
    """How many commits ``tip`` has that ``base`` lacks, as text ("3 commits", "over 1000")."""
    walker = repo.get_walker(
        include=[tip], exclude=[base] if base else None, max_entries=MAX_COUNTED_COMMITS + 1
    )
    count = sum(1 for _ in walker)
    if count > MAX_COUNTED_COMMITS:
        return f"over {MAX_COUNTED_COMMITS} commits"
    return f"{count} commit" + ("" if count == 1 else "s")


def span(old: bytes | None, new: bytes) -> str:
    """``old..new`` in short ids, or ``(new branch)..new``."""
    return f"{short(old) if old else '(new branch)'}..{short(new)}"
