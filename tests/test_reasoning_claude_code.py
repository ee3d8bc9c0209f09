"""The real Claude Code CLI runs a tool loop against a DeepSeek-style thinking model.

DeepSeek's thinking mode answers 400 to a request whose assistant turn with tool calls
lacks its ``reasoning_content``. The CLI keeps the thinking blocks lynkr signed in its
history; lynkr must vouch for them and send their reasoning back, or the CLI's second
request fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"
THINKING = "The user wants to know what notes.txt says. I will read it first."
MISSING = (
    "Missing `reasoning_content` field in the assistant message at message index {index}. For more "
    "information, please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls"
)


class DeepSeek:
    """Answers the CLI's prompt with reasoning and a ``Read`` call, then checks every later
    request as DeepSeek does and answers with what the file said."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.refused: list[str] = []

    def __call__(self, body: dict[str, Any]) -> ChatReply | ErrorReply:
        messages = body["messages"]
        if not body.get("tools"):
            return ChatReply("notes")  # the CLI's side requests (titles and the like)
        if not any(m["role"] == "assistant" for m in messages):
            return ChatReply(
                "", reasoning=THINKING, chunk_size=7,
                tool_calls=[ToolCallSpec("Read", {"file_path": str(self.path)}, id="call_read_1")],
            )
        for index, message in enumerate(messages):
            if message["role"] == "assistant" and message.get("tool_calls") and "reasoning_content" not in message:
                self.refused.append(MISSING.format(index=index))
                return ErrorReply(400, self.refused[-1], code="invalid_request_error")
        return ChatReply("notes.txt says: remember the milk.", reasoning="The file was read.", chunk_size=7)


def test_claude_code_keeps_a_deepseek_tool_loop_going(tmp_path: Path):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    notes = workdir / "notes.txt"
    notes.write_text("remember the milk\n")
    script = DeepSeek(notes)
    upstream = FakeOpenAI(script, api_key=UPSTREAM_KEY)
    base = upstream.run_in_thread()
    try:
        app = make_test_app({
            "MODEL_PROVIDER": "openai",
            "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_MODEL": "deepseek-reasoner",
            "LYNKR_API_KEYS": CLIENT_KEY,
            "TOOL_EXECUTION_MODE": "client",
        })
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "what does notes.txt say?", api_key=CLIENT_KEY)
    finally:
        upstream.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert script.refused == []
    assert "remember the milk" in result.stdout
    later = [r.json for r in upstream.chat_requests if any(m["role"] == "assistant" for m in r.json["messages"])]
    assert later, "the CLI never sent its second request"
    assistant = next(m for m in later[0]["messages"] if m["role"] == "assistant" and m.get("tool_calls"))
    assert assistant["reasoning_content"] == THINKING
