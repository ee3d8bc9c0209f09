"""A temporary ``LYNKR_HOME`` for every test (and no ``MEMORY_*`` from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def lynkr_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"LYNKR_HOME": str(tmp_path / "home")}
    monkeypatch.setenv("LYNKR_HOME", env["LYNKR_HOME"])
    for name in [n for n in os.environ if n.startswith(("MEMORY_", "LYNKR_PLUGINS", "LYNKR_DISABLE"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env
