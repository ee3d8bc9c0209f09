"""The real Claude Code CLI, driven through lynkr to a scripted Anthropic-format upstream.

See ``lynkr_core.testing.claude_code`` for how the CLI is found and run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "upstream-key-of-operator"


@pytest.fixture
def upstream():
    fake = FakeAnthropic(api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


def _run_claude(base_url: str, workdir: Path, home: Path, *args: str, auth: str = "x-api-key"):
    return run_claude(base_url, workdir, home, "create hello.txt", *args, api_key=CLIENT_KEY, auth=auth)


def _lynkr(upstream_url: str, plugins=()):
    return make_test_app(
        {
            "MODEL_PROVIDER": "anthropic",
            "ANTHROPIC_UPSTREAM_BASE_URL": upstream_url,
            "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
            "LYNKR_API_KEYS": CLIENT_KEY,
            "LYNKR_UPSTREAM_RETRIES": "0",  # the CLI must see upstream errors and retry itself
        },
        plugins=list(plugins),
    )


def test_the_clis_session_id_reaches_plugins_with_its_headers_but_not_its_key(tmp_path, upstream):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    target = workdir / "hello.txt"
    upstream._script.extend([
        Reply.tool_use("Write", {"file_path": str(target), "content": "hi"}),
        Reply.text("written"),
    ])
    exchanges: list = []

    def lynkr_exchange_finished(exchange):
        exchanges.append(exchange)

    observer = inline_plugin(hooks={"lynkr_exchange_finished": lynkr_exchange_finished})
    with serving_in_thread(_lynkr(upstream.base_url, [("observer", observer)])) as url:
        result = _run_claude(url, workdir, home)

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(exchanges) == 2
    session = exchanges[0].session_id
    assert session and all(exchange.session_id == session for exchange in exchanges)
    headers = exchanges[0].context.client_headers
    assert headers["x-claude-code-session-id"] == session  # from the CLI's own header
    assert headers["user-agent"].startswith("claude-cli/")
    assert "x-api-key" not in headers and CLIENT_KEY not in json.dumps(dict(headers))
    # The CLI names the same session in metadata.user_id, which lynkr falls back on.
    user_id = json.loads(upstream.message_requests[0].json["metadata"]["user_id"])
    assert user_id["session_id"] == session
    assert [len(exchange.steps) for exchange in exchanges] == [1, 1]
    assert exchanges[1].steps[0].attempts[0].status == 200


@pytest.mark.parametrize("auth", ["x-api-key", "bearer"])
def test_claude_code_writes_a_file_through_lynkr(tmp_path, upstream, auth):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    target = workdir / "hello.txt"
    upstream._script.extend(
        [
            Reply.tool_use("Write", {"file_path": str(target), "content": "hi from lynkr"}),
            Reply.text("done: hello.txt is written"),
        ]
    )
    with serving_in_thread(_lynkr(upstream.base_url)) as url:
        result = _run_claude(url, workdir, home, auth=auth)

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "hi from lynkr"
    assert "hello.txt is written" in result.stdout
    first, second = upstream.message_requests
    # lynkr authenticated the CLI with its own key and used the operator's upstream key.
    assert first.headers["x-api-key"] == UPSTREAM_KEY
    assert "authorization" not in first.headers
    assert "claude-code-20250219" in first.headers["anthropic-beta"]
    # What the CLI sent went on unchanged, its mid-conversation system message included.
    assert any(m["role"] == "system" for m in first.json["messages"])
    assert first.json["context_management"] and first.json["output_config"]
    tool_results = [
        block
        for message in second.json["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]
    assert [r["tool_use_id"] for r in tool_results] == ["toolu_01"]


def test_claude_code_retries_an_upstream_rate_limit(tmp_path, upstream):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    target = workdir / "hello.txt"
    upstream._script.extend(
        [
            ErrorReply(429, message="slow down", retry_after=1),
            Reply.tool_use("Write", {"file_path": str(target), "content": "after retry"}),
            Reply.text("done"),
        ]
    )
    with serving_in_thread(_lynkr(upstream.base_url)) as url:
        result = _run_claude(url, workdir, home, "--output-format", "stream-json", "--verbose")

    assert result.returncode == 0, result.stdout + result.stderr
    assert target.read_text() == "after retry"
    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert final["type"] == "result" and final["is_error"] is False
    assert len(upstream.message_requests) == 3


def test_claude_code_reports_a_bad_request_from_upstream(tmp_path, upstream):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    # Claude Code 2.1.337 asks up to six times (with more tools the second half) before it
    # reports a 400; 2.1.197 reports the first
    upstream._script.extend([ErrorReply(400, message="deployment rejects model claude-opus-4-8 here")] * 10)
    with serving_in_thread(_lynkr(upstream.base_url)) as url:
        result = _run_claude(url, workdir, home, "--output-format", "stream-json", "--verbose")

    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert final["is_error"] is True
    assert final["api_error_status"] == 400
    assert "deployment rejects model claude-opus-4-8 here" in final["result"]
