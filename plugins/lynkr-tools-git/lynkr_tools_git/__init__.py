"""lynkr tools: git status, diff, stage, commit, push, pull, log and release notes through dulwich."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Settings, Tool, hookimpl
from lynkr_tools_git.commit import GitCommit
from lynkr_tools_git.config import ENV, PLUGIN_NAME, GitSettings
from lynkr_tools_git.diff import GitDiff
from lynkr_tools_git.diff_summary import GitDiffSummary
from lynkr_tools_git.log import GitLog
from lynkr_tools_git.pull import GitPull
from lynkr_tools_git.push import GitPush
from lynkr_tools_git.release_notes import GitReleaseNotes
from lynkr_tools_git.repository import GitRepositories
from lynkr_tools_git.staging import GitStage, GitUnstage
from lynkr_tools_git.status import GitStatus

TOOLS = (
    GitStatus, GitDiff, GitDiffSummary, GitStage, GitUnstage, GitCommit, GitPush, GitPull,
    GitLog, GitReleaseNotes,
)


@hookimpl
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """Register the git tools; they share one lock per repository."""
    config = settings.plugin_config(PLUGIN_NAME, GitSettings, ENV)
    repositories = GitRepositories()
    for tool in TOOLS:
        register(tool(repositories, config, settings))
