"""Run the real OpenAI Codex CLI (``codex exec``) against a lynkr under test.

``scripts/test`` installs the CLI (``scripts/install-codex``) and exports its
path as ``LYNKR_CODEX_BIN``. Without it, ``codex_binary`` skips the test
locally and fails it in CI. Codex is pointed at lynkr by a ``config.toml`` in a
fresh ``CODEX_HOME``: a custom model provider whose ``base_url`` is lynkr's
``/v1`` and whose ``wire_api`` is ``responses``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lynkr_core.testing.installed import installed_program

#: The environment variable Codex reads lynkr's client key from.
KEY_VARIABLE = "LYNKR_API_KEY"


def codex_binary() -> str:
    """The CLI's path; skips (or, with ``CI`` set, fails) the calling test without it."""
    return installed_program("the Codex CLI", "LYNKR_CODEX_BIN", "codex/node_modules/.bin/codex", "codex", "install-codex")


def codex_config(base_url: str, model: str) -> str:
    """A ``config.toml`` that sends ``model`` to lynkr at ``base_url`` over the Responses API."""
    return (
        f'model = "{model}"\n'
        'model_provider = "lynkr"\n'
        "\n"
        "[model_providers.lynkr]\n"
        'name = "lynkr"\n'
        f'base_url = "{base_url}/v1"\n'
        f'env_key = "{KEY_VARIABLE}"\n'
        'wire_api = "responses"\n'
    )


def run_codex(
    base_url: str,
    workdir: Path,
    home: Path,
    prompt: str,
    *,
    api_key: str,
    model: str = "claude-sonnet-4-5",
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """``codex exec <prompt>`` in ``workdir`` with ``home`` as ``CODEX_HOME`` (written with
    `codex_config`), no approvals and no sandbox (the test's temporary directory is the
    boundary), ``api_key`` sent as the bearer token."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(codex_config(base_url, model))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CODEX_HOME": str(home),
        KEY_VARIABLE: api_key,
    }
    return subprocess.run(
        [codex_binary(), "exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox",
         "-C", str(workdir), prompt],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
