"""The real Claude Code CLI through lynkr with the bundled tool plugins installed: in
passthrough mode the CLI runs its own tools and never sees lynkr's; in server mode lynkr
runs its tools inside one request of the CLI's, and the CLI still runs its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "upstream-key-of-operator"
PLUGINS = "lynkr-provider-anthropic,lynkr-tools-workspace,lynkr-tools-git,lynkr-policy"


def lynkr(upstream_url: str, workspace: Path, **env: str):
    return make_test_app({
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": PLUGINS,
        "WORKSPACE_ROOT": str(workspace),
        "LYNKR_HOME": str(workspace.parent / "lynkr-home"),
        **env,
    })


def tool_names(request) -> list[str]:
    return [tool["name"] for tool in request.json.get("tools", [])]


def tool_results(request) -> list[dict[str, Any]]:
    return [
        block
        for message in request.json["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    return workdir, home


def test_passthrough_mode_leaves_every_tool_to_the_cli(dirs):
    workdir, home = dirs
    target = workdir / "hello.txt"
    fake = FakeAnthropic([
        Reply.tool_use("Write", {"file_path": str(target), "content": "written by the CLI"}),
        Reply.text("hello.txt is written"),
    ], api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    try:
        with serving_in_thread(lynkr(fake.base_url, workdir, TOOL_EXECUTION_MODE="passthrough")) as url:
            result = run_claude(url, workdir, home, "create hello.txt", api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "written by the CLI"
    first, second = fake.message_requests
    assert "Write" in tool_names(first)
    assert not [name for name in tool_names(first) if name.startswith("workspace_")]
    assert [r["tool_use_id"] for r in tool_results(second)] == ["toolu_01"]


def test_server_mode_runs_lynkr_tools_inside_a_cli_turn(dirs):
    workdir, home = dirs
    target = workdir / "copy.txt"

    def model(body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]["content"]
        results = [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"] if isinstance(last, list) else []
        if not results:
            # not workspace_read: lynkr does not offer the CLI a second Read
            return Reply.tool_use("workspace_task_create", {"title": "a task only lynkr's tool made"},
                                  id="toolu_lynkr")
        if results[0]["tool_use_id"] == "toolu_lynkr":
            text = results[0]["content"].splitlines()[-1]
            return Reply.tool_use("Write", {"file_path": str(target), "content": text}, id="toolu_cli")
        return Reply.text("copied")

    fake = FakeAnthropic(model, api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    try:
        with serving_in_thread(lynkr(fake.base_url, workdir)) as url:
            result = run_claude(url, workdir, home, "copy source.txt", api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "a task only lynkr's tool made" in target.read_text()
    assert "copied" in result.stdout
    first, second, third = fake.message_requests
    assert {"Write", "workspace_task_create", "workspace_git_commit"} <= set(tool_names(first))
    assert "workspace_read" not in tool_names(first)  # the CLI has its own Read
    # The second upstream call is lynkr's loop answering its own tool; the third is the
    # CLI's next turn, answering its Write, with lynkr's exchange hidden from it.
    assert [r["tool_use_id"] for r in tool_results(second)] == ["toolu_lynkr"]
    assert [r["tool_use_id"] for r in tool_results(third)] == ["toolu_cli"]
