"""``workspace_test_run``: the project's test suite, or part of it."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

import msgspec

from lynkr_core import Tool, ToolContext, ToolEffects, ToolResult
from lynkr_tools_workspace.config import WorkspaceSettings
from lynkr_tools_workspace.process import run_in_group
from lynkr_tools_workspace.testcommand import choose_command, scrubbed_env
from lynkr_tools_workspace.testreport import render


class RunTestsInput(msgspec.Struct, kw_only=True):
    """Arguments of workspace_test_run."""

    paths: Annotated[
        list[str],
        msgspec.Meta(
            description="Test files or directories to run, relative to the workspace root (pytest "
            "node ids such as 'tests/test_api.py::test_login' work too). Empty runs the whole suite."
        ),
    ] = []


class RunTests(Tool):
    """Runs the project's configured or detected test command."""

    name = "workspace_test_run"
    capability = "shell"
    description = (
        "Run the project's test suite (the operator's configured test command, or pytest, npm "
        "test, go test or cargo test detected from the workspace), optionally only some test "
        "files. Returns the command, its exit code and duration, pytest's pass/fail counts when "
        "available, and the last lines of the output. The result is an error when the tests "
        "fail, time out or cannot start. Run it after changing code and before committing."
    )
    Input = RunTestsInput

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.settings = settings

    def effects(self, args: RunTestsInput) -> ToolEffects:
        """Runs the test command."""
        return ToolEffects(actions=frozenset({"command.test"}))

    async def run(self, args: RunTestsInput, context: ToolContext) -> ToolResult:
        """Run the suite in the workspace, in its own process group, with a scrubbed environment."""
        extra = []
        for path in args.paths:
            context.resolve(path)
            extra.append(_argument(path))
        command = choose_command(self.settings, context.workspace, extra)
        outcome = await run_in_group(
            command.argv,
            cwd=context.workspace,
            env=scrubbed_env(self.settings.test_passthrough_env),
            time_limit=self.settings.test_timeout_ms / 1000,
            keep_bytes=self.settings.test_tail_bytes,
        )
        return render(
            command, outcome, tail_lines=self.settings.test_tail_lines, tail_bytes=self.settings.test_tail_bytes
        )


def _argument(path: str) -> str:
    """``path`` as a command argument that cannot pass for an option (``./`` in front)."""
    normal = PurePosixPath(path).as_posix()
    return normal if normal == "." else "./" + normal
