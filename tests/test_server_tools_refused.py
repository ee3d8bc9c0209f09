"""Anthropic's server tools sent to a provider that cannot run them, with lynkr-web-search not
enabled: the client gets Anthropic's 400 ``invalid_request_error`` saying what to do, JSON and
streamed, and nothing goes upstream; never a silent drop."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.gateway import Harness, openai_upstream_env, quick_retries, stream_events

UPSTREAM_KEY = "sk-upstream"
QUESTION = [{"role": "user", "content": "What is new in Python 3.14?"}]
READ_TOOL = {"name": "Read", "description": "Read a file",
             "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}


def openai_env(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr against a scripted OpenAI-format upstream, without lynkr-web-search."""
    return openai_upstream_env(base_url, UPSTREAM_KEY,
                               **{"LYNKR_PLUGINS": "lynkr-provider-openai", **quick_retries(), **extra})


HARNESS = Harness(openai_env)


def request(tool: dict[str, Any]) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-6", "max_tokens": 200, "messages": QUESTION, "tools": [READ_TOOL, tool]}


async def refusal(sdk: anthropic.AsyncAnthropic, body: dict[str, Any], stream: bool) -> anthropic.BadRequestError:
    with pytest.raises(anthropic.BadRequestError) as refused:
        if stream:
            await stream_events(sdk, **body)
        else:
            await sdk.messages.create(**body)
    return refused.value


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("version", ["web_search_20250305", "web_search_20260209"])
async def test_web_search_without_the_plugin_is_a_400_saying_how_to_enable_it(stream: bool, version: str):
    async with HARNESS.run(FakeOpenAI([ChatReply("ok")], dialect="openai", api_key=UPSTREAM_KEY)) as (fake, sdk):
        error = await refusal(sdk, request({"type": version, "name": "web_search", "max_uses": 3}), stream)
    assert error.status_code == 400
    assert error.body["error"]["type"] == "invalid_request_error"
    message = error.body["error"]["message"]
    assert f"'web_search' ({version})" in message
    assert "lynkr-web-search" in message and "WEB_SEARCH_ENDPOINT" in message
    assert fake.chat_requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("tool", [
    {"type": "bash_20250124", "name": "bash"},
    {"type": "code_execution_20250825", "name": "code_execution"},
], ids=["bash", "code_execution"])
async def test_other_server_tools_are_a_400_naming_the_tool(stream: bool, tool: dict[str, Any]):
    async with HARNESS.run(FakeOpenAI([ChatReply("ok")], dialect="openai", api_key=UPSTREAM_KEY)) as (fake, sdk):
        error = await refusal(sdk, request(tool), stream)
    assert error.status_code == 400
    assert error.body["error"]["type"] == "invalid_request_error"
    assert f"{tool['name']!r} ({tool['type']})" in error.body["error"]["message"]
    assert fake.chat_requests == []


def every_plugin_but_web_search(base_url: str, **extra: str) -> dict[str, str]:
    """lynkr with every installed plugin except lynkr-web-search."""
    env = openai_env(base_url, LYNKR_DISABLE_PLUGINS="lynkr-web-search", **extra)
    del env["LYNKR_PLUGINS"]
    return env


async def test_the_plugin_disabled_by_name_is_the_same_400():
    script = FakeOpenAI([ChatReply("ok")], dialect="openai", api_key=UPSTREAM_KEY)
    async with Harness(every_plugin_but_web_search).run(script) as (fake, sdk):
        error = await refusal(sdk, request({"type": "web_search_20250305", "name": "web_search"}), False)
    assert "lynkr-web-search" in error.body["error"]["message"]
    assert fake.chat_requests == []


async def test_a_request_without_server_tools_is_served():
    async with HARNESS.run(FakeOpenAI([ChatReply("hello")], dialect="openai", api_key=UPSTREAM_KEY)) as (fake, sdk):
        message = await sdk.messages.create(**{**request(READ_TOOL), "tools": [READ_TOOL]})
    assert message.content[0].text == "hello"
    assert len(fake.chat_requests) == 1
