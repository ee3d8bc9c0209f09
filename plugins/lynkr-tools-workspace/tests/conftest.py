"""Fixtures: a workspace directory, a secret outside it, and ToolBench with this plugin."""

from __future__ import annotations

from pathlib import Path

import lynkr_tools_workspace
import pytest

from lynkr_core import Permit, Policy
from lynkr_core.testing.tools import ToolBench


class PermitTestRuns(Policy):
    """The operator's policy allowing the test command (``command.test`` is a guarded action)."""

    name = "permit-test-runs"

    async def check_tool(self, call, context):
        return Permit("tests may run") if "command.test" in call.effects.actions else None


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory (resolved, as the core resolves WORKSPACE_ROOT)."""
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """LYNKR_HOME for the benches of one test."""
    return tmp_path / "home"


@pytest.fixture
def make_bench(workspace: Path, home: Path):
    """``make_bench(root=workspace, **env)``: a ToolBench running this plugin's tools in ``root``,
    with a policy that permits test runs (``permit_tests=False`` leaves it out)."""

    def make(root: Path | None = None, *, permit_tests: bool = True, **env: str) -> ToolBench:
        return ToolBench(
            root or workspace,
            plugins=[lynkr_tools_workspace],
            policies=[PermitTestRuns()] if permit_tests else [],
            env={"LYNKR_HOME": str(home), **env},
        )

    return make


@pytest.fixture
def bench(make_bench) -> ToolBench:
    """A ToolBench with default settings on ``workspace``."""
    return make_bench()
