"""The installed ``lynkr`` command, run in the test's process: a fixture for plugins' tests
of their sub-commands (plugin tests may not import ``lynkr_core.cli``). Bring it into a
``conftest.py`` with ``from lynkr_core.testing.cli import lynkr_command``."""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog


@pytest.fixture
def lynkr_command(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., tuple[int, str]]]:
    """``lynkr_command("sessions", "list")``: the exit code and standard output of the
    installed ``lynkr`` command (its console-script entry point). The logging it configures
    is undone afterwards."""
    main = importlib.metadata.entry_points(group="console_scripts")["lynkr"].load()
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        return code, capsys.readouterr().out

    yield run
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
