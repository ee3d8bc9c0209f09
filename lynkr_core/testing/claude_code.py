"""Run the real Claude Code CLI against a lynkr under test.

``scripts/test`` installs the CLI (``scripts/install-claude-code``) and
exports its path as ``LYNKR_CLAUDE_BIN``. Without it, ``claude_binary`` skips
the test locally and fails it in CI, so a missing install step cannot pass
unnoticed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lynkr_core.testing.installed import installed_program


def claude_binary() -> str:
    """The CLI's path; skips (or, with ``CI`` set, fails) the calling test without it."""
    return installed_program("the Claude Code CLI", "LYNKR_CLAUDE_BIN", "claude-code/node_modules/.bin/claude", "claude",
                             "install-claude-code")


def run_claude(
    base_url: str,
    workdir: Path,
    home: Path,
    prompt: str,
    *args: str,
    api_key: str,
    auth: str = "x-api-key",
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """``claude -p <prompt> --permission-mode acceptEdits <args>`` in ``workdir``, with a
    fresh ``home``, telemetry and updates off, and ``api_key`` sent as ``x-api-key``
    (or, with ``auth="bearer"``, as ``Authorization: Bearer``)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    env["ANTHROPIC_API_KEY" if auth == "x-api-key" else "ANTHROPIC_AUTH_TOKEN"] = api_key
    return subprocess.run(
        [claude_binary(), "-p", prompt, "--permission-mode", "acceptEdits", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
