"""Tool names an OpenAI-format upstream refuses (over 64 characters, such as Claude Code's
MCP tools ``mcp__<server>__<tool>``, or with characters outside ``[a-zA-Z0-9_-]``) are sent
under a stable short name and mapped back in answers, JSON and streamed; the calls in the
history go under the same names."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI, ToolCallSpec
from lynkr_core.testing.gateway import Harness
from lynkr_core.translate import ToolNames, upstream_tool_name

KEY = "sk-upstream"
HARNESS = Harness(
    lambda base, **extra: {
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
        "OPENAI_API_KEY": KEY,
        "OPENAI_MODEL": "gpt-4o",
        "LYNKR_UPSTREAM_RETRIES": "0",
        **extra,
    }
)
OPENAI_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MCP_TOOL = "mcp__claude_ai_Atlassian_Confluence__searchConfluenceUsingCql_with_pagination_support"
DOTTED_TOOL = "web.search v2"
SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}}
TOOLS = [{"name": name, "description": "a tool", "input_schema": SCHEMA} for name in (MCP_TOOL, DOTTED_TOOL, "Read")]
ASK = [{"role": "user", "content": "search for lynkr"}]


def _calls_the_long_tool(body: dict[str, Any]) -> ChatReply:
    """The model calls the tool whose upstream name starts like the MCP tool."""
    (name,) = [t["function"]["name"] for t in body["tools"] if t["function"]["name"].startswith("mcp__")]
    return ChatReply("Searching.", tool_calls=[ToolCallSpec(name, {"q": "lynkr"})], arguments_chunk_size=3)


@pytest.mark.parametrize("stream", [True, False])
async def test_a_long_mcp_tool_name_goes_short_and_comes_back(stream):
    fake = FakeOpenAI(_calls_the_long_tool, api_key=KEY)
    async with HARNESS.run(fake) as gw:
        request = {"model": "claude-sonnet-4-6", "max_tokens": 100, "messages": ASK, "tools": TOOLS}
        if stream:
            async with gw.sdk.messages.stream(**request) as events:
                message = await events.get_final_message()
        else:
            message = await gw.sdk.messages.create(**request)
    sent = [tool["function"]["name"] for tool in fake.chat_requests[0].json["tools"]]
    assert all(OPENAI_NAME.fullmatch(name) for name in sent), sent
    assert sent[2] == "Read"  # a name that fits is left alone
    (call,) = [block for block in message.content if block.type == "tool_use"]
    assert call.name == MCP_TOOL
    assert call.input == {"q": "lynkr"}


async def test_history_and_tool_choice_use_the_same_short_names():
    fake = FakeOpenAI([ChatReply("done")], api_key=KEY)
    history = [
        *ASK,
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": MCP_TOOL, "input": {"q": "lynkr"}},
            {"type": "tool_use", "id": "toolu_2", "name": DOTTED_TOOL, "input": {"q": "x"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "3 pages"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "nothing"},
        ]},
    ]
    async with HARNESS.run(fake) as gw:
        await gw.sdk.messages.create(
            model="claude-sonnet-4-6", max_tokens=100, messages=history, tools=TOOLS,
            tool_choice={"type": "tool", "name": DOTTED_TOOL},
        )
    body = fake.chat_requests[0].json
    tools = [tool["function"]["name"] for tool in body["tools"]]
    (assistant,) = [message for message in body["messages"] if message["role"] == "assistant"]
    assert [call["function"]["name"] for call in assistant["tool_calls"]] == tools[:2]
    assert body["tool_choice"] == {"type": "function", "function": {"name": tools[1]}}


def test_short_names_are_stable_valid_and_distinct():
    twin = MCP_TOOL[:-1] + "X"  # the same first 80 characters
    names = {upstream_tool_name(name) for name in (MCP_TOOL, twin, DOTTED_TOOL, "web_search_v2", "a" * 64, "a" * 65)}
    assert len(names) == 6
    assert all(OPENAI_NAME.fullmatch(name) for name in names)
    assert upstream_tool_name(MCP_TOOL) == upstream_tool_name(MCP_TOOL)
    assert upstream_tool_name(MCP_TOOL).startswith("mcp__claude_ai_Atlassian_Confluence__")
    assert upstream_tool_name("Read") == "Read"


def test_the_map_back_knows_only_renamed_tools():
    names = ToolNames([MCP_TOOL, "Read"])
    assert names.original(upstream_tool_name(MCP_TOOL)) == MCP_TOOL
    assert names.original("Read") == "Read"
    assert names.original("Unknown") == "Unknown"
