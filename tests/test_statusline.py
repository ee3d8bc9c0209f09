"""``lynkr statusline``: Claude Code's session JSON on stdin, one line out from the lynkr
serving the session; nothing at all (and exit 0) when no lynkr answers."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from lynkr_core import runfiles
from lynkr_core.config import Settings
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import free_port, make_test_app, serving_in_thread

CLIENT_KEY = "client-key-for-the-status-line"
ADMIN_KEY = "admin-key-for-the-status-line"
SESSION = "0b7f3c52-9d1e-4c1a-b8a4-2f0e6d5c4b3a"


def claude_code_json(session_id: str = SESSION) -> str:
    """What Claude Code passes its statusLine command (the fields of its documented shape)."""
    return json.dumps({
        "hook_event_name": "Status", "session_id": session_id,
        "transcript_path": f"/home/dev/.claude/projects/app/{session_id}.jsonl", "cwd": "/home/dev/app",
        "model": {"id": "claude-sonnet-4-6", "display_name": "Sonnet 4.6"},
        "workspace": {"current_dir": "/home/dev/app", "project_dir": "/home/dev/app"},
        "version": "2.1.197", "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 0.0123, "total_duration_ms": 5400, "total_api_duration_ms": 2100,
                 "total_lines_added": 3, "total_lines_removed": 0},
        "exceeds_200k_tokens": False,
    })


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean environment in an empty directory: an empty LYNKR_HOME, no client settings."""
    monkeypatch.chdir(tmp_path)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LYNKR_HOME": str(tmp_path / "lynkr-home")}


def statusline(env: dict[str, str], stdin: str, *, module: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m lynkr_core.statusline`` (what ``lynkr code`` configures) or ``lynkr statusline``."""
    command = ["lynkr_core.statusline"] if module else ["lynkr_core.cli", "statusline"]
    return subprocess.run([sys.executable, "-m", *command], input=stdin, env=env, capture_output=True,
                          text=True, timeout=60)


@contextlib.contextmanager
def serve_lynkr(home: dict[str, str], **extra: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A lynkr with the dashboard in front of a scripted upstream, after two turns of
    ``SESSION``; yields ``(url, settings env)``."""
    fake = FakeAnthropic([
        Reply.text("one", usage={"input_tokens": 1200, "output_tokens": 30, "cache_read_input_tokens": 900}),
        Reply.text("two", usage={"input_tokens": 1500, "output_tokens": 45}),
    ])
    fake.run_in_thread()
    env = {**home, "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
           "ANTHROPIC_UPSTREAM_API_KEY": "sk-upstream", "LYNKR_API_KEYS": CLIENT_KEY,
           "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-dashboard", **extra}
    try:
        with serving_in_thread(make_test_app(env)) as url:
            client = anthropic.Anthropic(base_url=url, api_key=CLIENT_KEY, max_retries=0)
            for text in ("hi", "more"):
                client.messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                       extra_headers={"x-claude-code-session-id": SESSION},
                                       messages=[{"role": "user", "content": text}])
            yield url, env
    finally:
        fake.stop_thread()


@pytest.fixture
def lynkr(home):
    with serve_lynkr(home) as served:
        yield served


def wait_for_usage(url: str, requests: int) -> None:
    """Until lynkr-usage's ledger (written off the request path) holds ``requests``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        request = urllib.request.Request(url + "/v1/usage", headers={"x-api-key": ADMIN_KEY})
        with urllib.request.urlopen(request, timeout=5) as response:
            if json.loads(response.read())["total"]["requests"] >= requests:
                return
        time.sleep(0.1)
    raise AssertionError("lynkr-usage did not record the requests")


def test_the_line_shows_provider_model_tokens_cost_and_cache(lynkr, home):
    url, _ = lynkr
    env = {**home, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": CLIENT_KEY}

    result = statusline(env, claude_code_json())

    assert result.returncode == 0, result.stderr
    assert result.stdout == ("lynkr → anthropic/claude-sonnet-4-6 · 2.7k in / 75 out · "
                             "$0.01 (Claude Code estimate) · cache: 900 cached reads\n")


def test_an_unknown_session_shows_the_provider(lynkr, home):
    url, _ = lynkr
    env = {**home, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": CLIENT_KEY}
    result = statusline(env, claude_code_json("another-session"))
    assert result.stdout.startswith("lynkr → anthropic/claude-sonnet-4-6 · $0.01")


def test_lynkr_statusline_finds_the_running_lynkr_by_its_run_file(lynkr):
    url, env = lynkr
    port = int(url.rsplit(":", 1)[1])
    with runfiles.registered(Settings.load(env), host="127.0.0.1", port=port):
        result = statusline(env, claude_code_json(), module=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("lynkr → anthropic/claude-sonnet-4-6 · 2.7k in / 75 out")


@pytest.mark.parametrize("module", [True, False])
def test_with_no_lynkr_running_it_prints_nothing_and_exits_0(home, module):
    result = statusline(home, claude_code_json(), module=module)
    assert (result.returncode, result.stdout) == (0, "")


def test_a_lynkr_that_does_not_answer_prints_nothing(home):
    env = {**home, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    for stdin in (claude_code_json(), "not json", ""):
        result = statusline(env, stdin)
        assert (result.returncode, result.stdout) == (0, "")


def test_a_refused_key_prints_nothing(lynkr, home):
    url, _ = lynkr
    result = statusline({**home, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": "wrong"}, claude_code_json())
    assert (result.returncode, result.stdout) == (0, "")


def test_with_an_admin_key_the_cost_comes_from_lynkr_usage(home):
    plugins = "lynkr-provider-anthropic,lynkr-dashboard,lynkr-usage"
    with serve_lynkr(home, LYNKR_PLUGINS=plugins, LYNKR_ADMIN_KEYS=ADMIN_KEY) as (url, _):
        wait_for_usage(url, 2)
        env = {**home, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_AUTH_TOKEN": CLIENT_KEY,
               "LYNKR_ADMIN_KEYS": ADMIN_KEY}
        result = statusline(env, claude_code_json())
        other = statusline(env, claude_code_json("another-session"))

    assert result.returncode == 0, result.stderr
    line = result.stdout
    assert line.startswith("lynkr → anthropic/claude-sonnet-4-6 · 2.7k in / 75 out · ")
    # Sonnet at the default prices: 2700 input, 75 output, 900 cache reads.
    assert re.search(r" · 0\.0\d{3} USD · cache: 900 cached reads$", line.strip()), line
    assert "Claude Code estimate" not in line
    assert "$0.01 (Claude Code estimate)" in other.stdout  # no lynkr-usage row for it
