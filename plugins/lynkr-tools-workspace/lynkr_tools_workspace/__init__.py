"""lynkr tools: workspace files, search, the project's test command and a task tracker."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Settings, Tool, hookimpl
from lynkr_tools_workspace.config import ENV, PLUGIN_NAME, WorkspaceSettings
from lynkr_tools_workspace.edit import EditFile
from lynkr_tools_workspace.globbing import GlobFiles
from lynkr_tools_workspace.listing import ListDirectory
from lynkr_tools_workspace.read import ReadFile
from lynkr_tools_workspace.search import SearchFiles
from lynkr_tools_workspace.tasks import CompleteTask, CreateTask, ListTasks, UpdateTask
from lynkr_tools_workspace.testrun import RunTests
from lynkr_tools_workspace.write import WriteFile


@hookimpl
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """Register the file, search, test and task tools."""
    config = settings.plugin_config(PLUGIN_NAME, WorkspaceSettings, ENV)
    tasks_db = config.tasks_path(settings.core.home)
    for tool in (
        ReadFile(config),
        WriteFile(config),
        EditFile(config),
        ListDirectory(),
        GlobFiles(),
        SearchFiles(),
        RunTests(config),
        CreateTask(tasks_db),
        UpdateTask(tasks_db),
        ListTasks(tasks_db),
        CompleteTask(tasks_db),
    ):
        register(tool)
