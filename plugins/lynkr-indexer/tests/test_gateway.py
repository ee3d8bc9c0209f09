"""The indexer inside a running lynkr, with a scripted Anthropic upstream and the official
SDK as the client: the seed's example (an OpenAI-shaped forced ``tool_choice`` and no
tools), the tools answering from the index, and the repo map in the system prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

UPSTREAM_KEY = "upstream-key"


def gateway(upstream_url: str, workspace: Path, home: Path, **env: str):
    return make_test_app({
        "MODEL_PROVIDER": "anthropic",
        "ANTHROPIC_UPSTREAM_BASE_URL": upstream_url,
        "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
        "LYNKR_UPSTREAM_RETRIES": "0",
        "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-indexer",
        "WORKSPACE_ROOT": str(workspace),
        "LYNKR_HOME": str(home),
        "INDEXER_FRESHNESS": "request",
        "INDEXER_AUTO_INDEX": "false",
        **env,
    })


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for message in body["messages"] if isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


def result_text(result: dict[str, Any]) -> str:
    content = result["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


@pytest.fixture
def project(write) -> None:
    write("billing/invoice.py", "def parse_invoice(text):\n    return text.split()\n")
    write("billing/report.py", "from billing.invoice import parse_invoice\n\n\ndef report(t):\n    return parse_invoice(t)\n")


async def test_the_seeds_example_rebuilds_the_index_and_answers(workspace, tmp_path, project):
    script = [Reply.tool_use("workspace_index_rebuild", {}, id="toolu_rebuild"), Reply.text("The index is rebuilt.")]
    async with FakeAnthropic(script, api_key=UPSTREAM_KEY) as fake:
        async with serving(gateway(fake.base_url, workspace, tmp_path / "home")) as url:
            async with anthropic.AsyncAnthropic(base_url=url, api_key="client") as client:
                message = await client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=200,
                    messages=[{"role": "user", "content": "Rebuild the workspace index."}],
                    tool_choice={"type": "function", "function": {"name": "workspace_index_rebuild"}},  # type: ignore[arg-type]
                )
        first, second = (r.json for r in fake.message_requests)
    assert message.content[0].text == "The index is rebuilt."
    assert first["tool_choice"] == {"type": "tool", "name": "workspace_index_rebuild"}
    assert {t["name"] for t in first["tools"]} == {
        "workspace_index_rebuild", "workspace_symbol_search", "workspace_symbol_references",
        "workspace_file_outline", "workspace_repo_map"}
    assert second["tool_choice"] == {"type": "auto"}
    (result,) = tool_results(second)
    assert result["tool_use_id"] == "toolu_rebuild" and not result.get("is_error")
    report = json.loads(result_text(result))
    assert report["totals"] == {"files": 2, "symbols": 2, "references": 3}


async def test_a_request_without_tools_and_no_forced_choice_is_offered_none(workspace, tmp_path, project):
    async with FakeAnthropic([Reply.text("hi")], api_key=UPSTREAM_KEY) as fake:
        async with serving(gateway(fake.base_url, workspace, tmp_path / "home")) as url:
            async with anthropic.AsyncAnthropic(base_url=url, api_key="client") as client:
                await client.messages.create(model="claude-sonnet-4-6", max_tokens=20,
                                             messages=[{"role": "user", "content": "hi"}])
        (first,) = (r.json for r in fake.message_requests)
    assert "tools" not in first


async def test_symbol_search_references_outline_and_map_answer_from_the_index(workspace, tmp_path, project):
    calls = [("workspace_symbol_search", {"query": "parse_inv"}),
             ("workspace_symbol_references", {"name": "parse_invoice"}),
             ("workspace_file_outline", {"path": "billing/report.py"}),
             ("workspace_repo_map", {"max_tokens": 200})]
    script = [Reply.tool_use(name, args, id=f"toolu_{n}") for n, (name, args) in enumerate(calls)] + [Reply.text("done")]
    echo_tool = {"name": "Echo", "description": "client tool", "input_schema": {"type": "object", "properties": {}}}
    async with FakeAnthropic(script, api_key=UPSTREAM_KEY) as fake:
        async with serving(gateway(fake.base_url, workspace, tmp_path / "home")) as url:
            async with anthropic.AsyncAnthropic(base_url=url, api_key="client") as client:
                await client.messages.create(model="claude-sonnet-4-6", max_tokens=200, tools=[echo_tool],
                                             messages=[{"role": "user", "content": "look around"}])
        results = [result_text(r) for r in tool_results(fake.message_requests[-1].json)]
    search, references, outline, repo_map = results
    (hit,) = json.loads(search)["results"]
    assert (hit["path"], hit["line"], hit["kind"], hit["references"]) == ("billing/invoice.py", 1, "function", 2)
    refs = json.loads(references)["references"]
    assert [(r["path"], r["line"], r["kind"], r["in"], r["resolved"]) for r in refs] == [
        ("billing/report.py", 1, "import", None, True), ("billing/report.py", 5, "call", "report", True)]
    assert [s["name"] for s in json.loads(outline)["symbols"]] == ["report"]
    assert repo_map.splitlines()[0] == "billing/invoice.py:"


async def test_the_repo_map_goes_into_the_system_prompt_unless_a_claude_md_came(workspace, tmp_path, project):
    prompts = ["Fix parse_invoice please.",
               "<system-reminder>Contents of /w/CLAUDE.md (project instructions)</system-reminder> hi"]
    script = [Reply.tool_use("workspace_index_rebuild", {}), Reply.text("ok"),
              Reply.text("a"), Reply.text("b"), Reply.text("c")]
    async with FakeAnthropic(script, api_key=UPSTREAM_KEY) as fake:
        app = gateway(fake.base_url, workspace, tmp_path / "home", INDEXER_AUTO_INDEX="true")
        async with serving(app) as url:
            async with anthropic.AsyncAnthropic(base_url=url, api_key="client") as client:
                await _wait_for_index(client)
                for prompt in [prompts[0], prompts[0], prompts[1]]:
                    await client.messages.create(model="claude-sonnet-4-6", max_tokens=20, system="You help.",
                                                 messages=[{"role": "user", "content": prompt}])
        first, second, third = (r.json for r in fake.message_requests[-3:])
    assert first["system"][0]["text"] == "You help."
    injected = first["system"][-1]["text"]
    assert injected.startswith("Repository map") and "billing/invoice.py:\n  1: def parse_invoice(text)" in injected
    assert second["system"] == first["system"]  # byte-stable: upstream prompt caches keep hitting
    assert third["system"] == "You help."


async def _wait_for_index(client) -> None:
    """The background index at start-up: a forced rebuild waits for it (one refresh at a time)."""
    await client.messages.create(model="claude-sonnet-4-6", max_tokens=20,
                                 messages=[{"role": "user", "content": "index"}],
                                 tool_choice={"type": "tool", "name": "workspace_index_rebuild"})
