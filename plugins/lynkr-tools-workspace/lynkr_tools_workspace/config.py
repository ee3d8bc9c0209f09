"""Settings, with the original project's variable names where it had them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

PLUGIN_NAME = "lynkr-tools-workspace"

Positive = Annotated[int, msgspec.Meta(gt=0)]


class WorkspaceSettings(msgspec.Struct, kw_only=True):
    """Limits of the file tools, the test runner and where tasks are stored.

    ``policy_test_command`` (``POLICY_GIT_TEST_COMMAND``, shared with the
    git policy) wins over ``test_command``; both are operator-configured
    shell commands. ``test_tail_bytes`` caps the output tail the model reads
    on top of ``test_tail_lines``. ``tasks_db`` defaults to
    ``<LYNKR_HOME>/tasks.db``.
    """

    max_read_bytes: Positive = 256 * 1024
    max_write_bytes: Positive = 1024 * 1024
    test_command: str = ""
    policy_test_command: str = ""
    test_timeout_ms: Positive = 600_000
    test_tail_lines: Positive = 80
    test_tail_bytes: Positive = 16 * 1024
    test_passthrough_env: list[str] = []
    tasks_db: str = ""

    def tasks_path(self, home: str) -> Path:
        """The SQLite file of the task tracker (``home`` is ``LYNKR_HOME``)."""
        if self.tasks_db.strip():
            return Path(self.tasks_db).expanduser()
        return Path(home).expanduser() / "tasks.db"


ENV = {
    "max_read_bytes": "WORKSPACE_MAX_READ_BYTES",
    "max_write_bytes": "WORKSPACE_MAX_WRITE_BYTES",
    "test_command": "WORKSPACE_TEST_COMMAND",
    "policy_test_command": "POLICY_GIT_TEST_COMMAND",
    "test_timeout_ms": "WORKSPACE_TEST_TIMEOUT_MS",
    "test_tail_lines": "WORKSPACE_TEST_TAIL_LINES",
    "test_tail_bytes": "WORKSPACE_TEST_TAIL_BYTES",
    "test_passthrough_env": "WORKSPACE_TEST_PASSTHROUGH_ENV",
    "tasks_db": "WORKSPACE_TASKS_DB",
}
