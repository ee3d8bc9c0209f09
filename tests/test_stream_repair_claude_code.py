"""The real Claude Code CLI runs a tool call whose streamed arguments needed repair.

A local model through an OpenAI-format server streams ``Write`` arguments with a trailing
comma and single quotes, in small fragments; lynkr must stream what is clean and send the
rest repaired, so that the CLI writes the file instead of failing on broken JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"
CONTENT = 'print("hello, repaired")\n'


def python_literal(path: Path) -> str:
    """Single quotes and a trailing comma."""
    return "{" + f"'file_path': {str(path)!r}, 'content': {CONTENT!r}," + "}"


def code_fence(path: Path) -> str:
    """Valid JSON inside a Markdown code fence."""
    return "```json\n" + json.dumps({"file_path": str(path), "content": CONTENT}) + "\n```"


@pytest.mark.parametrize("broken", [python_literal, code_fence])
def test_claude_code_writes_a_file_from_repaired_streamed_arguments(tmp_path: Path, broken):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    target = workdir / "hello.py"
    upstream = FakeOpenAI(
        [
            ChatReply("Writing it.", tool_calls=[ToolCallSpec("Write", broken(target))], arguments_chunk_size=3),
            ChatReply("hello.py is written"),
        ],
        api_key=UPSTREAM_KEY,
    )
    base = upstream.run_in_thread()
    try:
        app = make_test_app({
            "MODEL_PROVIDER": "openai",
            "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_MODEL": "local-model",
            "LYNKR_API_KEYS": CLIENT_KEY,
            "TOOL_EXECUTION_MODE": "client",
        })
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "create hello.py", api_key=CLIENT_KEY)
    finally:
        upstream.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == CONTENT
    assert "hello.py is written" in result.stdout
