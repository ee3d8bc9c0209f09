"""Which command runs the project's tests, and the environment it runs in.

An operator-configured command (``POLICY_GIT_TEST_COMMAND``, else
``WORKSPACE_TEST_COMMAND``) is trusted and run through ``/bin/sh -c``.
Otherwise the command is detected from the files at the workspace root. The
environment is scrubbed: the gateway's API keys and other secrets never
reach the tests.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from lynkr_core import ToolError
from lynkr_tools_workspace.config import WorkspaceSettings

#: Variables the tests get from the gateway's environment (plus WORKSPACE_TEST_PASSTHROUGH_ENV).
SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "USER", "LOGNAME", "SHELL")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
PYTEST_MARKERS = ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "conftest.py")
#: The ``scripts.test`` that ``npm init`` writes: not a test suite.
NPM_PLACEHOLDER = 'echo "Error: no test specified" && exit 1'


@dataclass(frozen=True, slots=True)
class SuiteCommand:
    """The command that runs the test suite: ``argv`` to execute, ``shown`` to the model."""

    argv: tuple[str, ...]
    shown: str
    source: str


def choose_command(settings: WorkspaceSettings, workspace: Path, extra: Sequence[str]) -> SuiteCommand:
    """The configured command, else the detected one, with ``extra`` arguments appended."""
    for source, configured in (
        ("POLICY_GIT_TEST_COMMAND", settings.policy_test_command),
        ("WORKSPACE_TEST_COMMAND", settings.test_command),
    ):
        if configured.strip():
            line = " ".join([configured.strip(), *(shlex.quote(arg) for arg in extra)])
            return SuiteCommand(("/bin/sh", "-c", line), line, source)
    detected = detect_command(workspace)
    if detected is None:
        raise ToolError(
            "no test command is configured and none was detected (looked for "
            f"{', '.join(PYTEST_MARKERS)}, package.json with scripts.test, go.mod and Cargo.toml "
            "at the workspace root); the operator can set WORKSPACE_TEST_COMMAND, e.g. "
            "WORKSPACE_TEST_COMMAND='make test'"
        )
    argv, source = detected
    if argv[:2] == ["npm", "test"] and extra:
        argv.append("--")
    argv.extend(extra)
    shown = shlex.join(os.path.relpath(a, workspace) if a.startswith(str(workspace) + "/") else a for a in argv)
    return SuiteCommand(tuple(argv), shown, source)


def detect_command(workspace: Path) -> tuple[list[str], str] | None:
    """The test command the workspace's files suggest and why, or None."""
    for marker in PYTEST_MARKERS:
        if (workspace / marker).is_file():
            venv_python = workspace / ".venv" / "bin" / "python"
            python = str(venv_python) if venv_python.exists() else "python3"
            return [python, "-m", "pytest"], f"detected from {marker}"
    package = workspace / "package.json"
    if package.is_file() and _npm_test_script(package):
        return ["npm", "test"], "detected from package.json scripts.test"
    if (workspace / "go.mod").is_file():
        return ["go", "test", "./..."], "detected from go.mod"
    if (workspace / "Cargo.toml").is_file():
        return ["cargo", "test"], "detected from Cargo.toml"
    return None


def scrubbed_env(passthrough: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Only ``SAFE_ENV`` and the ``passthrough`` names from ``environ`` (default ``os.environ``)."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in (*SAFE_ENV, *passthrough) if name in source}
    env.setdefault("PATH", DEFAULT_PATH)
    return env


def _npm_test_script(package: Path) -> bool:
    try:
        manifest = msgspec.json.decode(package.read_bytes())
    except (OSError, msgspec.DecodeError):
        return False
    scripts = manifest.get("scripts") if isinstance(manifest, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and bool(test.strip()) and test.strip() != NPM_PLACEHOLDER
