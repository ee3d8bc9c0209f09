"""The status line in the real, interactive Claude Code CLI: ``lynkr code`` starts lynkr and
the CLI in a tmux pane, the CLI runs ``lynkr statusline`` and shows its line, the line
follows a turn (tokens and cache reads from lynkr), and ``/exit`` stops lynkr."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from lynkr_core.testing.claude_code import claude_binary
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port

pytestmark = pytest.mark.e2e


def servers_on(port: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if {"lynkr_core.cli", "start", port} <= set(p.info["cmdline"] or [])]


class Pane:
    """A tmux session on a socket of its own (no other tmux is touched)."""

    def __init__(self, socket: str, command: str, cwd: Path) -> None:
        self.tmux = ["tmux", "-L", socket]
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "cc", "-x", "160", "-y", "40", "-c", str(cwd),
                        command], check=True)

    def text(self) -> str:
        done = subprocess.run([*self.tmux, "capture-pane", "-t", "cc", "-p"], capture_output=True, text=True)
        return done.stdout

    def wait_for(self, check: Callable[[str], bool], timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if check(text):
                return text
            time.sleep(0.25)
        raise AssertionError(f"the pane never showed what was expected:\n{self.text()}")

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "cc", text, "Enter"], check=True)

    def alive(self) -> bool:
        return subprocess.run([*self.tmux, "has-session", "-t", "cc"], capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def test_claude_code_shows_lynkrs_status_line_and_lynkr_stops_after(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    claude = claude_binary()
    upstream = FakeAnthropic([Reply.text("hello from the scripted upstream",
                                         usage={"input_tokens": 1234, "output_tokens": 56,
                                                "cache_read_input_tokens": 700})])
    upstream.run_in_thread()
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    # Skip onboarding and the folder-trust dialog, as a returning user would.
    (home / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True, "projects": {str(workdir): {"hasTrustDialogAccepted": True}}}))
    port = str(free_port())
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TERM": "xterm-256color",
        "LYNKR_HOME": str(tmp_path / "lynkr-home"), "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream.base_url, "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream",
        "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-dashboard", "PORT": port, "LYNKR_CLAUDE_BIN": claude,
        "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
    }
    command = "env -i " + shlex.join([f"{k}={v}" for k, v in env.items()]) + " " + shlex.join(
        [sys.executable, "-m", "lynkr_core.cli", "code"])
    pane = Pane(f"lynkr-test-{os.getpid()}-{port}", command, workdir)
    try:
        before = pane.wait_for(lambda text: "lynkr → anthropic/" in text)
        pane.type("say hello")
        after = pane.wait_for(lambda text: "1.2k in / 56 out" in text)
        pane.type("/exit")
        deadline = time.monotonic() + 60
        while pane.alive() and time.monotonic() < deadline:
            time.sleep(0.25)
        ended = not pane.alive()
    finally:
        pane.close()
        upstream.stop_thread()

    assert len(upstream.message_requests) == 1
    # The CLI's default model (it changes between releases: claude-opus-4-8 in 2.1.197,
    # claude-opus-5-5 in 2.1.337) is the one its status line input names and its request sends.
    default_model = upstream.message_requests[0].json["model"]
    assert default_model.startswith("claude-")
    assert f"lynkr → anthropic/{default_model}" in before
    assert "hello from the scripted upstream" in after
    assert "cache: 700 cached reads" in after
    assert ended
    assert servers_on(port) == []
