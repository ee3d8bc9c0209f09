"""What the preparers add is what is checked and counted: the egress check sees URL sources
a preparer injected, and ``count_tokens`` counts the prepared request with lynkr's tools."""

from __future__ import annotations

from typing import Annotated

import anthropic
import msgspec
import pytest

from lynkr_core import Provider, RequestPreparer, Tool, ToolEffects
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving
from lynkr_core.tokens import estimate_input_tokens
from lynkr_core.wire.anthropic import Message, decode_request, raw

UPSTREAM_KEY = "upstream-key"
ASK = [{"role": "user", "content": "what do you remember?"}]
CLIENT_TOOL = {"name": "Read", "description": "client side read", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}}}
MEMORY = "Remembered: the user prefers tabs. " * 40


class Remember(RequestPreparer):
    """Injects a memory block (and, when asked to, an image from a URL) into the last turn."""

    name = "remember"

    def __init__(self, image_url: str | None = None) -> None:
        self.image_url = image_url
        self.purposes: list[str] = []

    async def prepare(self, request, context):
        self.purposes.append(context.purpose)
        blocks = [raw({"type": "text", "text": MEMORY})]
        if self.image_url:
            blocks.append(raw({"type": "image", "source": {"type": "url", "url": self.image_url}}))
        last = request.messages[-1]
        content = [raw({"type": "text", "text": last.content})] if isinstance(last.content, str) else last.content
        return request.replace(messages=[*request.messages[:-1], Message(role="user", content=[*blocks, *content])])


class Note(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(description="what to note")]


class Jot(Tool):
    name = "lynkr_jot"
    description = "Write a note down."
    Input = Note

    def effects(self, args):
        return ToolEffects(writes=("notes.txt",))

    async def run(self, args, context):
        return "noted"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_url_a_preparer_injects_is_checked_before_anything_goes_upstream(anthropic_client, streamed):
    fake = FakeAnthropic([Reply.text("never")], api_key=UPSTREAM_KEY)
    injecting = Remember(image_url="http://127.0.0.1:9/secret.png")
    client = await anthropic_client(fake, ("mine", inline_plugin(preparers=[injecting], tools=[Jot()])))

    with pytest.raises(anthropic.BadRequestError) as refused:
        if streamed:
            async with client.messages.stream(model="m", max_tokens=10, messages=ASK) as stream:
                await stream.get_final_message()
        else:
            await client.messages.create(model="m", max_tokens=10, messages=ASK)
    assert "messages[0].content[1].source.url: refused" in refused.value.body["error"]["message"]
    assert fake.message_requests == []


async def test_count_tokens_counts_the_request_as_it_would_be_sent(anthropic_client):
    remember = Remember()
    fake = FakeAnthropic([], api_key=UPSTREAM_KEY)
    client = await anthropic_client(fake, ("mine", inline_plugin(preparers=[remember], tools=[Jot()])))

    counted = await client.messages.count_tokens(model="m", messages=ASK, tools=[CLIENT_TOOL])

    (sent,) = [r for r in fake.requests if r.path.endswith("/count_tokens")]
    assert sent.json["messages"][0]["content"][0]["text"] == MEMORY
    assert [tool["name"] for tool in sent.json["tools"]] == ["Read", "lynkr_jot"]
    assert counted.input_tokens > len(MEMORY) // 8
    assert remember.purposes == ["count_tokens"]


class Uncounting(Provider):
    """A provider that cannot count tokens: the core estimates."""

    name = "uncounting"

    async def complete(self, request, context):
        raise AssertionError("not called")

    def stream(self, request, context):
        raise AssertionError("not called")


@pytest.mark.parametrize("tools", [[], [CLIENT_TOOL]])
async def test_the_core_estimate_counts_what_preparers_and_the_tool_offer_add(tools):
    counts = []
    for plugin in (inline_plugin(providers=[Uncounting()]),
                   inline_plugin(providers=[Uncounting()], preparers=[Remember()], tools=[Jot()])):
        app = make_test_app({"MODEL_PROVIDER": "uncounting"}, plugins=[("p", plugin)], load_entry_points=False)
        async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k") as client:
            counts.append((await client.messages.count_tokens(model="m", messages=ASK, tools=tools)).input_tokens)
    plain, prepared = counts
    memory = estimate_input_tokens(decode_request(msgspec.json.encode(
        {"model": "m", "messages": [{"role": "user", "content": MEMORY}]})))
    jot = 30 if tools else 0  # lynkr's tool is offered only alongside the client's own
    assert prepared - plain >= memory - 10 + jot
