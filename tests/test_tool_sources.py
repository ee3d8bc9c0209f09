"""Tools known only after start-up (``ToolSource``): listed when the server starts, listed
again before the next request after a change, through both wire formats; opaque tools need
a policy's permit and never count as read-only."""

from __future__ import annotations

from typing import Annotated

import anthropic
import lynkr_provider_openai
import msgspec
import pytest

from lynkr_core import Permit, Policy, Tool, ToolEffects, ToolSource
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving

UPSTREAM_KEY = "upstream-key"
ASK = [{"role": "user", "content": "do the thing"}]
CLIENT_TOOL = {"name": "Read", "description": "client side read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}}}


class Anything(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(description="text")] = ""


class Named(Tool):
    """A tool of a given name that says what it is; its effects are opaque (declares none)."""

    description = "A tool from a source."
    Input = Anything

    def __init__(self, name: str) -> None:
        self.name = name
        self.runs = 0

    async def run(self, args, context):
        self.runs += 1
        return f"{self.name} ran"


class Listed(ToolSource):
    """A source whose tools the test changes, like an MCP server announcing ``list_changed``."""

    name = "listed"

    def __init__(self, *tools: Tool) -> None:
        self.tools = list(tools)
        self.started = False
        self.fail = False

    async def start(self, services) -> None:
        self.started = True

    async def list_tools(self):
        if self.fail:
            raise ConnectionError("the server went away")
        assert self.started, "tools are listed after start"
        return list(self.tools)

    def replace(self, *tools: Tool) -> None:
        self.tools = list(tools)
        self.tools_changed()


class PermitAll(Policy):
    name = "permit-all"

    async def check_tool(self, call, context):
        return Permit("test allows everything")


class Static(Named):
    def effects(self, args):
        return ToolEffects()


def advertised(recorded) -> list[str]:
    return [tool["name"] for tool in recorded.json.get("tools", [])]


async def test_the_next_request_offers_what_a_source_lists_now(anthropic_client):
    source = Listed(Named("mcp_alpha"))
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two"), Reply.text("three")], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("src", inline_plugin(tool_sources=[source], tools=[Static("lynkr_static")])))
    ask = dict(model="m", max_tokens=10, messages=ASK, tools=[CLIENT_TOOL])
    await client.messages.create(**ask)
    source.replace(Named("mcp_alpha"), Named("mcp_beta"))
    await client.messages.create(**ask)
    source.replace(Named("mcp_beta"))
    await client.messages.create(**ask)

    first, second, third = fake.message_requests
    assert advertised(first) == ["Read", "lynkr_static", "mcp_alpha"]
    assert advertised(second) == ["Read", "lynkr_static", "mcp_alpha", "mcp_beta"]
    assert advertised(third) == ["Read", "lynkr_static", "mcp_beta"]


async def test_a_changed_tool_reaches_an_openai_format_upstream_translated_anew(after_test):
    source = Listed(Named("mcp_alpha"))
    fake = FakeOpenAI([ChatReply("one"), ChatReply("two")], dialect="openai", api_key=UPSTREAM_KEY)
    await after_test.enter_async_context(fake)
    app = make_test_app(
        {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": fake.base_url + "/v1/chat/completions",
         "OPENAI_API_KEY": UPSTREAM_KEY, "OPENAI_MODEL": "gpt-4o", "LYNKR_UPSTREAM_RETRIES": "0"},
        plugins=[("lynkr-provider-openai", lynkr_provider_openai), ("src", inline_plugin(tool_sources=[source]))],
        load_entry_points=False,
    )
    url = await after_test.enter_async_context(serving(app))
    async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as client:
        ask = dict(model="m", max_tokens=10, messages=ASK, tools=[CLIENT_TOOL])
        await client.messages.create(**ask)
        renamed = Named("mcp_alpha")
        renamed.description = "A tool whose description changed."
        source.replace(renamed)
        await client.messages.create(**ask)

    def functions(recorded):
        return {t["function"]["name"]: t["function"]["description"] for t in recorded.json["tools"]}

    first, second = fake.chat_requests
    assert functions(first)["mcp_alpha"] == "A tool from a source."
    assert functions(second)["mcp_alpha"] == "A tool whose description changed."


class BadSchema(Named):
    def input_schema(self):
        raise ValueError("a schema the server sent that lynkr cannot read")


async def test_a_taken_name_a_bad_schema_are_left_out_and_a_failing_listing_keeps_the_last_one(anthropic_client):
    source = Listed(Named("lynkr_static"), BadSchema("mcp_broken"), Named("mcp_alpha"))
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("src", inline_plugin(tool_sources=[source], tools=[Static("lynkr_static")])))
    ask = dict(model="m", max_tokens=10, messages=ASK, tools=[CLIENT_TOOL])
    await client.messages.create(**ask)
    source.fail = True
    source.replace(Named("mcp_gamma"))
    await client.messages.create(**ask)

    assert advertised(fake.message_requests[0]) == ["Read", "lynkr_static", "mcp_alpha"]
    assert advertised(fake.message_requests[1]) == ["Read", "lynkr_static", "mcp_alpha"]


@pytest.mark.parametrize("permitted", [False, True])
async def test_an_opaque_tool_runs_only_with_a_permit(anthropic_client, permitted):
    tool = Named("mcp_alpha")
    fake = FakeAnthropic([
        Reply([{"type": "tool_use", "id": "toolu_1", "name": "mcp_alpha", "input": {}}]),
        Reply.text("done"),
    ], api_key=UPSTREAM_KEY)
    policies = [PermitAll()] if permitted else []
    client = await anthropic_client(fake, ("src", inline_plugin(tool_sources=[Listed(tool)], policies=policies)))
    await client.messages.create(model="m", max_tokens=10, messages=ASK, tools=[CLIENT_TOOL])

    result = fake.message_requests[1].json["messages"][-1]["content"][0]
    if permitted:
        assert tool.runs == 1 and result["content"] == "mcp_alpha ran" and "is_error" not in result
    else:
        assert tool.runs == 0 and result["is_error"] is True
        assert "needs an explicit permission from a policy" in result["content"]


def test_opaque_effects_are_never_read_only_and_need_a_permit():
    assert Named("x").effects(Anything()) == ToolEffects(opaque=True)
    assert not ToolEffects(opaque=True).read_only and ToolEffects(opaque=True).needs_permit
    assert ToolEffects().read_only and not ToolEffects().needs_permit
    assert ToolEffects(actions=frozenset({"git.push"})).needs_permit
    assert not ToolEffects(actions=frozenset({"git.commit"})).needs_permit
