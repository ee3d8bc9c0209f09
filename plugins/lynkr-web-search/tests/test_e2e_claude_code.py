"""The real Claude Code CLI's WebSearch through lynkr to an OpenAI-format upstream, with a
scripted SearXNG as the search backend: the CLI's WebSearch request (Anthropic's server
tool) is answered with searches lynkr ran, and the CLI hands the results to its model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.server import make_test_app, serving_in_thread

from .conftest import FakeSearXNG

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "sk-operator-upstream"


def tool_names(body: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in body.get("tools", [])}


def last_call(body: dict[str, Any]) -> str | None:
    """The name of the tool the conversation's last assistant message called, if any."""
    for message in reversed(body["messages"]):
        if message["role"] == "assistant":
            calls = message.get("tool_calls") or []
            return calls[-1]["function"]["name"] if calls else None
    return None


def upstream(body: dict[str, Any]) -> ChatReply:
    """The model: the main loop loads WebSearch with ToolSearch when the CLI defers it
    (2.1.337 does, 2.1.197 offers it directly) and calls it, WebSearch's own request
    searches, each answers once it has results; anything else (background calls) gets a
    short text."""
    last = body["messages"][-1]
    names = tool_names(body)
    if "web_search" in names and "WebSearch" not in names:  # Claude Code's WebSearch request
        if last["role"] == "tool":
            return ChatReply("Python 3.14 brings template strings (https://docs.python.org/3.14/whatsnew/3.14.html).")
        return ChatReply("", tool_calls=[ToolCallSpec("web_search", {"query": "python 3.14 news"})])
    if "WebSearch" in names:
        if last["role"] == "tool" and last_call(body) == "WebSearch":
            return ChatReply(f"SEARCHED: {last['content'][:2000]}")
        return ChatReply("", tool_calls=[ToolCallSpec("WebSearch", {"query": "python 3.14 news"})])
    if "ToolSearch" in names and last_call(body) != "ToolSearch":
        return ChatReply("", tool_calls=[ToolCallSpec("ToolSearch", {"query": "select:WebSearch"})])
    return ChatReply("ok")


def test_claude_code_websearch_shows_searxng_results(tmp_path: Path):
    workdir, home = tmp_path / "work", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    searx, fake = FakeSearXNG(), FakeOpenAI(upstream, dialect="openai", api_key=UPSTREAM_KEY)
    searx_url, base = searx.run_in_thread(), fake.run_in_thread()
    try:
        app = make_test_app({
            "MODEL_PROVIDER": "openai",
            "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_MODEL": "gpt-4o",
            "WEB_SEARCH_ENDPOINT": f"{searx_url}/search",
            "LYNKR_API_KEYS": CLIENT_KEY,
        })
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "What is new in Python 3.14? Search the web.",
                                "--allowedTools", "WebSearch", api_key=CLIENT_KEY)
    finally:
        searx.stop_thread()
        fake.stop_thread()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r.query.get("q") for r in searx.requests] == ["python 3.14 news"]
    searched = [r.json for r in fake.chat_requests if "web_search" in tool_names(r.json)
                and "WebSearch" not in tool_names(r.json)]
    assert len(searched) == 2  # the search step and the answer step of WebSearch's request
    assert "template strings (PEP 750)" in json.dumps(searched[1]["messages"][-1])
    assert "SEARCHED:" in result.stdout
    loads = [r.json for r in fake.chat_requests if last_call(r.json) == "ToolSearch"]
    for body in loads:  # the deferred tool's reference reaches the model as text
        assert "[tool loaded: WebSearch]" in json.dumps(body["messages"])
    assert "docs.python.org/3.14/whatsnew" in result.stdout
