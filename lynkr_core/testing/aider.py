"""Run the real Aider (PyPI ``aider-chat``) against a lynkr under test.

``scripts/test`` installs Aider into a virtualenv of its own
(``scripts/install-aider``, ``.tools/aider``) and exports its path as
``LYNKR_AIDER_BIN``. Without it, ``aider_binary`` skips the test locally and
fails it in CI. Aider talks to lynkr's ``/v1/chat/completions`` through
``--openai-api-base``, with an ``openai/`` model name.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lynkr_core.testing.installed import installed_program


def aider_binary() -> str:
    """Aider's path; skips (or, with ``CI`` set, fails) the calling test without it."""
    return installed_program("Aider", "LYNKR_AIDER_BIN", "aider/bin/aider", "aider", "install-aider")


def run_aider(
    base_url: str,
    repo: Path,
    home: Path,
    message: str,
    *files: str,
    api_key: str,
    model: str = "claude-sonnet-4-5",
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``aider --message <message> <files>`` in the git repository ``repo``: whole-file edits,
    no questions, no update check, no analytics, litellm's local model table (no download),
    ``home`` as ``HOME``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "GIT_AUTHOR_NAME": "lynkr test",
        "GIT_AUTHOR_EMAIL": "test@lynkr.invalid",
        "GIT_COMMITTER_NAME": "lynkr test",
        "GIT_COMMITTER_EMAIL": "test@lynkr.invalid",
    }
    command = [
        aider_binary(), "--openai-api-base", f"{base_url}/v1", "--openai-api-key", api_key,
        "--model", f"openai/{model}", "--edit-format", "whole", "--yes-always", "--no-check-update",
        "--analytics-disable", "--no-show-model-warnings", "--no-pretty", "--no-fancy-input",
        "--no-gitignore", "--message", message, *files,
    ]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
