"""The workspace's git repository: one lock per repository, dulwich in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dulwich.errors import NotGitRepository
from dulwich.repo import Repo

from lynkr_core import ToolError

T = TypeVar("T")

NOT_A_REPOSITORY = (
    "WORKSPACE_ROOT ({root}) is not the root of a git repository (there is no .git in it); "
    "the git tools work on the repository whose root is the workspace"
)


class GitRepositories:
    """Runs git operations on a workspace's repository, one at a time per repository.

    Every operation takes the repository's ``asyncio.Lock`` and runs in a worker
    thread. The lock is released when the thread finishes, not when the awaiting
    task is cancelled (a tool timeout), so two operations never overlap.
    """

    def __init__(self) -> None:
        self._locks: dict[Path, asyncio.Lock] = {}

    async def run(self, workspace: Path, operation: Callable[[Repo], T]) -> T:
        """``operation(repo)`` on the repository at ``workspace``, in a thread, under its lock."""
        lock = self._locks.setdefault(workspace, asyncio.Lock())
        await lock.acquire()
        try:
            future = asyncio.ensure_future(asyncio.to_thread(_with_repo, workspace, operation))
        except BaseException:
            lock.release()
            raise
        future.add_done_callback(lambda done: _release(lock, done))
        return await asyncio.shield(future)


def _with_repo(workspace: Path, operation: Callable[[Repo], T]) -> T:
    if not (workspace / ".git").exists():
        raise ToolError(NOT_A_REPOSITORY.format(root=workspace))
    try:
        repo = Repo(str(workspace))
    except NotGitRepository:
        raise ToolError(NOT_A_REPOSITORY.format(root=workspace)) from None
    with repo:
        return operation(repo)


def _release(lock: asyncio.Lock, done: asyncio.Future[object]) -> None:
    lock.release()
    if not done.cancelled():
        done.exception()  # retrieved: a failure after a cancelled wait is not logged as unhandled
