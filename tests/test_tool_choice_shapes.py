"""``tool_choice`` as clients send it: OpenAI's shapes inside a Messages request become
Anthropic's, and a choice that forces one of lynkr's tools is offered lynkr's tools even
when the request declares none (the indexer's ``workspace_index_rebuild`` example)."""

from __future__ import annotations

import json

import msgspec
import pytest

from lynkr_core import Tool, ToolEffects
from lynkr_core.orchestrator.advertise import ToolCatalog
from lynkr_core.registry import Registry
from lynkr_core.wire.anthropic import ToolChoiceTool, decode_request


def request(**fields):
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], **fields}
    return decode_request(json.dumps(body).encode())


@pytest.mark.parametrize(("sent", "expected"), [
    ({"type": "function", "function": {"name": "rebuild"}}, {"type": "tool", "name": "rebuild"}),
    ("required", {"type": "any"}),
    ("auto", {"type": "auto"}),
    ("none", {"type": "none"}),
    ({"type": "tool", "name": "rebuild"}, {"type": "tool", "name": "rebuild"}),
    ({"type": "any", "disable_parallel_tool_use": True}, {"type": "any", "disable_parallel_tool_use": True}),
])
def test_openai_shapes_become_anthropics(sent, expected):
    assert json.loads(bytes(request(tool_choice=sent).tool_choice)) == expected


@pytest.mark.parametrize("sent", [{"type": "function"}, {"type": "function", "function": {}}, "sometimes"])
def test_other_shapes_are_still_refused(sent):
    with pytest.raises(msgspec.ValidationError):
        request(tool_choice=sent)


class Rebuild(Tool):
    name = "rebuild"
    description = "rebuild"

    class Input(msgspec.Struct):
        pass

    def effects(self, args):
        return ToolEffects()

    async def run(self, args, context):
        return "ok"


def catalog() -> ToolCatalog:
    tools = Registry[Tool]("tool")
    tools.add("test", Rebuild())
    return ToolCatalog(tools)


def test_a_choice_forcing_a_lynkr_tool_is_offered_lynkrs_tools_without_tools_of_its_own():
    offer = catalog().offer(request(tool_choice={"type": "function", "function": {"name": "rebuild"}}))
    assert offer.ours == {"rebuild"}
    assert [json.loads(bytes(t))["name"] for t in offer.request.tools] == ["rebuild"]
    assert isinstance(offer.request.tool_choice_config(), ToolChoiceTool)


@pytest.mark.parametrize("choice", [None, {"type": "tool", "name": "elsewhere"}, {"type": "any"}])
def test_other_requests_without_tools_are_offered_none(choice):
    offer = catalog().offer(request(**({"tool_choice": choice} if choice else {})))
    assert offer.ours == frozenset()
    assert offer.request.tools is msgspec.UNSET
