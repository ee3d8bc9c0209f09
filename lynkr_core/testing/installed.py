"""Finding a real client program the tests drive (Claude Code, Codex, Aider), installed by
``scripts/test`` under ``.tools/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def installed_program(name: str, variable: str, under_tools: str, command: str, installer: str) -> str:
    """The path of ``name``: ``$variable``, else ``.tools/<under_tools>``, else ``command`` on
    ``PATH``. Without it the calling test is skipped, or fails when ``CI`` is set (CI must
    have installed it with ``scripts/<installer>``)."""
    for candidate in (os.environ.get(variable), str(REPO / ".tools" / under_tools), shutil.which(command)):
        if candidate and Path(candidate).exists():
            return candidate
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; scripts/test installs it")
    pytest.skip(f"{name} is not installed (run scripts/{installer})")
