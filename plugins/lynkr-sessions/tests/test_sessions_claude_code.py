"""The real Claude Code CLI, three turns of one session (``--session-id``, then ``--resume``),
through lynkr in server mode with lynkr-tools-workspace, to a scripted upstream.

On turn 1 the model notes the file's line with lynkr's ``workspace_task_create`` (lynkr
does not offer the CLI its ``workspace_read``: the CLI has its own Read); the CLI never
sees that call. The session is recorded under the CLI's session id with every turn, and turns 2
and 3 carry the hidden call and its result again, before the CLI's copy of the answer,
turn 3 starting with exactly the bytes of turn 2's restored part.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "upstream-key-of-operator"
SECRET_LINE = "the launch code is 7741"
PROMPTS = ["read source.txt", "what did the file say?", "thanks"]


def last_user_texts(body: dict[str, Any]) -> list[str]:
    """The texts of the last user turn (the CLI adds a system message after the first one)."""
    content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    if isinstance(content, str):
        return [content]
    return [b.get("text", "") for b in content if b.get("type") == "text"]


def model(body: dict[str, Any]) -> Reply:
    """Turn 1 reads the file with lynkr's tool, then quotes it; later turns answer briefly."""
    content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    if isinstance(content, list) and any(b.get("type") == "tool_result" for b in content):
        return Reply.text(f"source.txt says: {SECRET_LINE}")
    if PROMPTS[0] in last_user_texts(body):
        return Reply([{"type": "text", "text": "Let me read it."},
                      {"type": "tool_use", "id": "toolu_lynkr_read", "name": "workspace_task_create",
                       "input": {"title": SECRET_LINE}}])
    return Reply.text(f"answered turn with {len(body['messages'])} messages")


class _Body(msgspec.Struct):
    messages: list[msgspec.Raw]


def raw_messages(recorded: Any) -> list[bytes]:
    return [bytes(m) for m in msgspec.json.decode(recorded.body, type=_Body).messages]


def test_a_claude_code_session_is_recorded_and_keeps_what_lynkrs_tools_read(tmp_path, lynkr_env, lynkr_command):
    workdir, home = tmp_path / "work", tmp_path / "cli-home"
    workdir.mkdir()
    home.mkdir()
    (workdir / "source.txt").write_text(SECRET_LINE + "\n")
    session_id = str(uuid.uuid4())
    fake = FakeAnthropic(model, api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    app = make_test_app({
        **lynkr_env, "MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY, "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0", "WORKSPACE_ROOT": str(workdir),
        "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-sessions,lynkr-tools-workspace",
    })
    try:
        with serving_in_thread(app) as url:
            for turn, prompt in enumerate(PROMPTS):
                how = ["--session-id", session_id] if turn == 0 else ["--resume", session_id]
                result = run_claude(url, workdir, Path(home), prompt, *how, api_key=CLIENT_KEY)
                assert result.returncode == 0, result.stdout + result.stderr
                if turn == 0:
                    assert SECRET_LINE in result.stdout
    finally:
        fake.stop_thread()

    # recorded: the CLI's session id, every turn, the hidden step with its tool call
    code, out = lynkr_command("sessions", "export", session_id, "--format", "jsonl")
    assert code == 0, out
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["session_id"] for row in rows] == [session_id] * 3
    assert [PROMPTS[n] in last_user_texts(row["request"]) for n, row in enumerate(rows)] == [True] * 3
    assert [len(row["steps"]) for row in rows] == [2, 1, 1]
    [call] = rows[0]["steps"][0]["tool_calls"]
    assert call["name"] == "workspace_task_create" and SECRET_LINE in call["result"]

    read, read_result, second, third = fake.message_requests
    assert "workspace_task_create" in [tool["name"] for tool in read.json["tools"]]
    # turn 2 has the hidden call and its result, before the CLI's copy of the answer
    roles = [m["role"] for m in second.json["messages"]]
    assert roles == ["user", "system", "assistant", "user", "assistant", "user"]
    call_turn, result_turn, answer_turn = second.json["messages"][2:5]
    assert [b["type"] for b in call_turn["content"]] == ["text", "tool_use"]
    assert call_turn["content"][1]["id"] == "toolu_lynkr_read"
    [tool_result] = result_turn["content"]
    assert tool_result["tool_use_id"] == "toolu_lynkr_read" and SECRET_LINE in tool_result["content"]
    assert [b["text"] for b in answer_turn["content"] if b["type"] == "text"] == [f"source.txt says: {SECRET_LINE}"]
    # byte-stable: turn 2 continues turn 1's last model call, and turn 3 repeats turn 2's prefix
    assert raw_messages(second)[2:4] == raw_messages(read_result)[2:4]
    assert raw_messages(third)[:5] == raw_messages(second)[:5]
    assert len(third.json["messages"]) == 8
