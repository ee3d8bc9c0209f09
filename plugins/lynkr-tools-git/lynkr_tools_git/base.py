"""What every git tool shares: the repository runner and the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dulwich.repo import Repo

from lynkr_core import Settings, Tool, ToolContext
from lynkr_tools_git.config import GitSettings
from lynkr_tools_git.repository import GitRepositories

T = TypeVar("T")


class GitTool(Tool):
    """A tool that works on the workspace's git repository through ``GitRepositories``."""

    def __init__(
        self, repositories: GitRepositories, config: GitSettings, settings: Settings
    ) -> None:
        self.repositories = repositories
        self.config = config
        self.settings = settings

    async def git(self, context: ToolContext, operation: Callable[[Repo], T]) -> T:
        """Run ``operation`` on the workspace's repository (worker thread, repository lock)."""
        return await self.repositories.run(context.workspace, operation)
