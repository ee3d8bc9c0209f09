"""The real Claude Code CLI through lynkr in server mode: the (scripted) model calls
``workspace_symbol_search``, lynkr answers it from the index inside the CLI's request,
and the model's answer names the file the index found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_core.testing.claude_code import run_claude
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving_in_thread

pytestmark = pytest.mark.e2e

CLIENT_KEY = "client-key-for-lynkr"
UPSTREAM_KEY = "upstream-key-of-operator"


def model(body: dict[str, Any]) -> Reply:
    """Search for the symbol, then answer with where the search result says it is."""
    if "workspace_symbol_search" not in {tool["name"] for tool in body.get("tools", [])}:
        return Reply.text("ok")  # the CLI's side requests (titles and the like)
    last = body["messages"][-1]["content"]
    results = [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"] if isinstance(last, list) else []
    if not results:
        return Reply.tool_use("workspace_symbol_search", {"query": "parse_invoice"}, id="toolu_search")
    content = results[0]["content"]
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    hit = json.loads(text)["results"][0]
    return Reply.text(f"parse_invoice is defined in {hit['path']} at line {hit['line']}.")


def test_claude_code_finds_a_symbol_through_lynkrs_index(tmp_path: Path):
    workdir, home = tmp_path / "work", tmp_path / "claude-home"
    (workdir / "billing").mkdir(parents=True)
    home.mkdir()
    (workdir / "billing" / "invoice.py").write_text("def parse_invoice(text):\n    return text.split()\n")
    (workdir / "app.py").write_text("from billing.invoice import parse_invoice\n\nparse_invoice('x')\n")
    fake = FakeAnthropic(model, api_key=UPSTREAM_KEY)
    fake.run_in_thread()
    app = make_test_app({
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_API_KEYS": CLIENT_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-indexer",
        "WORKSPACE_ROOT": str(workdir),
        "LYNKR_HOME": str(tmp_path / "lynkr-home"),
        "INDEXER_FRESHNESS": "request",
    })
    try:
        with serving_in_thread(app) as url:
            result = run_claude(url, workdir, home, "Where is parse_invoice defined?", api_key=CLIENT_KEY)
    finally:
        fake.stop_thread()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "parse_invoice is defined in billing/invoice.py at line 1." in result.stdout
    searched = [r.json for r in fake.message_requests
                if any(b.get("type") == "tool_result" and b.get("tool_use_id") == "toolu_search"
                       for m in r.json["messages"] if isinstance(m["content"], list) for b in m["content"])]
    assert len(searched) == 1
