"""The real Claude Code CLI runs the same three-turn task twice through lynkr to OpenRouter's
Claude: the upstream gets the same bytes up to the last cache breakpoint in both runs, and
each turn starts with the previous turn's prefix (``tests/test_prompt_caching_prefix.py``
measures the same on the captured session, without the CLI).

Both runs use the same working directory and HOME path (the system prompt names the working
directory), emptied in between, and the scripted model answers both runs alike (same tool
call ids): what is left to differ is what the CLI changes per run (the billing line's
suffix, the session id) and what lynkr makes of it.
"""

from __future__ import annotations

import re
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-or-operator"
BREAKPOINT = b',"cache_control":'
#: The CLI dates its first message; two runs on either side of midnight differ there.
TODAY = re.compile(rb"Today's date is \d{4}-\d{2}-\d{2}")


def script(workdir: Path) -> list[ChatReply]:
    """Two files written, then the answer: three requests."""
    return [
        ChatReply("Writing a.", tool_calls=[ToolCallSpec(
            "Write", {"file_path": str(workdir / "a.txt"), "content": "one"}, id="call_a")]),
        ChatReply("Writing b.", tool_calls=[ToolCallSpec(
            "Write", {"file_path": str(workdir / "b.txt"), "content": "two"}, id="call_b")]),
        ChatReply("both written"),
    ]


def one_run(workdir: Path, home: Path) -> list[bytes]:
    """Run the task in an empty ``workdir`` and ``home``; the chat bodies lynkr sent upstream."""
    for folder in (workdir, home):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    upstream = FakeOpenAI(script(workdir), dialect="openrouter", api_key=UPSTREAM_KEY)
    base = upstream.run_in_thread()
    try:
        app = make_test_app({
            "MODEL_PROVIDER": "openrouter",
            "OPENROUTER_ENDPOINT": f"{base}/api/v1/chat/completions",
            "OPENROUTER_API_KEY": UPSTREAM_KEY,
            "OPENROUTER_MODEL": "anthropic/claude-sonnet-4.5",
            "LYNKR_API_KEYS": CLIENT_KEY,
            "TOOL_EXECUTION_MODE": "client",
        })
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "write a.txt and b.txt", api_key=CLIENT_KEY)
    finally:
        upstream.stop_thread()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "both written" in result.stdout
    assert (workdir / "b.txt").read_text() == "two"
    return [TODAY.sub(b"Today's date is 0000-00-00", request.body) for request in upstream.chat_requests]


def test_two_runs_of_claude_code_share_the_prefix_up_to_the_last_breakpoint(tmp_path: Path):
    workdir, home = tmp_path / "work", tmp_path / "home"
    first = one_run(workdir, home)
    second = one_run(workdir, home)
    assert len(first) == len(second) == 3
    for a, b in zip(first, second, strict=True):
        assert BREAKPOINT in a
        end = a.rindex(BREAKPOINT)
        assert a[:end] == b[:end], "the runs differ before the last breakpoint"
        assert b"x-anthropic-billing-header" not in a
    for before, after in pairwise(first):
        assert after.startswith(before[: before.rindex(BREAKPOINT)])
    # the figures quoted in docs/providers.md ("Prompt caching")
    print([(a.rindex(BREAKPOINT), len(a), a == b) for a, b in zip(first, second, strict=True)])
