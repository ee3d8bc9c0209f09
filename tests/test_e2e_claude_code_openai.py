"""The real Claude Code CLI through lynkr to OpenAI-format upstreams.

The upstream streams the CLI's tool call in small argument fragments; lynkr
must turn them into Anthropic ``input_json_delta`` events that the CLI
reassembles, runs, and answers with a ``tool_result`` that lynkr translates
back into a ``tool`` message.
"""

from __future__ import annotations

import json
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_ollama import FakeOllama, OllamaReply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.openai_check import assert_valid_chat_request
from lynkr_core.testing.scripted import ScriptedServer
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"
CONTENT = 'hi from an OpenAI-format model: {"quoted": "json", "n": [1, 2]}\nsecond line'


def _dirs(tmp_path: Path) -> tuple[Path, Path]:
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    return workdir, home


def _create_hello(
    upstream: ScriptedServer, env: dict[str, str], workdir: Path, home: Path
) -> CompletedProcess[str]:
    """Claude Code's "create hello.txt" through lynkr, configured by ``env`` (``{base}``
    standing for the upstream's base URL) and the client key, to ``upstream``; both are
    served from threads."""
    base = upstream.run_in_thread()
    try:
        settings = {name: value.replace("{base}", base) for name, value in env.items()}
        app = make_test_app({**settings, "LYNKR_API_KEYS": CLIENT_KEY})
        with serving_in_thread(app) as url:
            return run_claude(url, workdir, home, "create hello.txt", api_key=CLIENT_KEY)
    finally:
        upstream.stop_thread()


def test_claude_code_runs_a_tool_streamed_in_fragments_by_an_openai_upstream(tmp_path):
    workdir, home = _dirs(tmp_path)
    target = workdir / "hello.txt"
    upstream = FakeOpenAI(
        [
            ChatReply(
                "I'll create the file.",
                chunk_size=3,
                tool_calls=[ToolCallSpec("Write", {"file_path": str(target), "content": CONTENT})],
                arguments_chunk_size=4,
            ),
            ChatReply("done: hello.txt is written", chunk_size=2),
        ],
        dialect="openai",
        api_key=UPSTREAM_KEY,
    )
    env = {
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": "{base}/v1/chat/completions",
        "OPENAI_API_KEY": UPSTREAM_KEY,
        "OPENAI_MODEL": "gpt-4o",
    }
    result = _create_hello(upstream, env, workdir, home)

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == CONTENT
    assert "hello.txt is written" in result.stdout

    first, second = upstream.chat_requests
    for request in (first, second):
        assert_valid_chat_request(request.json)
        assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert CLIENT_KEY not in str(request.headers)
        body = request.json
        assert body["model"] == "gpt-4o" and body["stream"] is True
        assert body["max_tokens"] == 16384  # Claude Code asks for 32000+; gpt-4o's limit
        roles = [m["role"] for m in body["messages"]]
        assert roles[0] == "system" and "system" not in roles[1:]
        names = {tool["function"]["name"] for tool in body["tools"]}
        assert {"Write", "Bash", "Edit", "Read"} <= names
        assert "$schema" not in str(body["tools"])
        for absent in ("thinking", "context_management", "output_config", "metadata"):
            assert absent not in body
    # The CLI's tool_result came back as a tool message paired with the call.
    messages = second.json["messages"]
    call = next(m for m in messages if m.get("tool_calls"))
    call_id = call["tool_calls"][0]["id"]
    result_message = messages[messages.index(call) + 1]
    assert result_message["role"] == "tool" and result_message["tool_call_id"] == call_id
    assert "hello.txt" in result_message["content"]


def test_claude_code_through_ollama_native_with_a_tool_call(tmp_path):
    workdir, home = _dirs(tmp_path)
    target = workdir / "hello.txt"
    upstream = FakeOllama(
        [
            OllamaReply(tool_calls=[("Write", {"file_path": str(target), "content": "from ollama"})]),
            OllamaReply("written", chunk_size=2),
        ]
    )
    env = {"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": "{base}"}
    result = _create_hello(upstream, env, workdir, home)

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "from ollama"
    second = upstream.chat_requests[1].json
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_message["tool_name"] == "Write"
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    assert assistant["tool_calls"][0]["function"]["arguments"]["content"] == "from ollama"


def test_claude_code_runs_a_tool_call_a_local_model_printed_as_text(tmp_path):
    """llama-server without a tool-call template: the model prints a Hermes-style call."""
    workdir, home = _dirs(tmp_path)
    target = workdir / "hello.txt"
    printed = (
        "Sure.\n<tool_call>\n"
        + json.dumps({"name": "Write", "arguments": {"file_path": str(target), "content": "from text"}})
        + "\n</tool_call>"
    )
    upstream = FakeOpenAI(
        [ChatReply(printed, chunk_size=3), ChatReply("written", chunk_size=2)], dialect="llamacpp"
    )
    env = {"MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": "{base}"}
    result = _create_hello(upstream, env, workdir, home)

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "from text"
    assert "<tool_call>" not in result.stdout
    second = upstream.chat_requests[1].json
    assert_valid_chat_request(second)
    call = next(m for m in second["messages"] if m.get("tool_calls"))
    assert call["content"].strip() == "Sure."
    assert json.loads(call["tool_calls"][0]["function"]["arguments"])["content"] == "from text"
