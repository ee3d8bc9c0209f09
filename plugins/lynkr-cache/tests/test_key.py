"""The key: everything that decides the answer, nothing that does not."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from lynkr_cache.key import KeyMaker

from lynkr_core import anthropic
from lynkr_core.testing.fake_anthropic import FakeAnthropic
from lynkr_core.testing.gateway import CLAUDE_CODE_FIXTURES

ROUTE = ("anthropic", "")
HEADERS = {"anthropic-version": "2023-06-01", "anthropic-beta": "b-one,b-two"}


def body(**changes: Any) -> dict[str, Any]:
    base = {
        "model": "claude-opus-4-8",
        "max_tokens": 1000,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                {"type": "text", "text": "done", "cache_control": {"type": "ephemeral"}}]}]},
        ],
        "tools": [{"name": "f", "description": "F.", "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": "session-1"},
    }
    base.update(changes)
    return base


def key_of(value: dict[str, Any], route: tuple[str, str] = ROUTE, headers: dict[str, str] = HEADERS,
           keys: KeyMaker | None = None) -> str:
    request = anthropic.decode_request(json.dumps(value).encode())
    return (keys or KeyMaker()).key(request, route, headers)


def reordered(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reordered(v) for k, v in reversed(value.items())}
    if isinstance(value, list):
        return [reordered(v) for v in value]
    return value


def without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


def test_the_key_ignores_key_order_everywhere():
    assert key_of(reordered(body())) == key_of(body())


def test_the_key_ignores_cache_control_markers_wherever_they_are():
    moved = body()
    moved["messages"][0]["content"][0].pop("cache_control")
    moved["messages"][1]["content"][0]["cache_control"] = {"type": "ephemeral", "ttl": "1h"}
    moved["tools"][0]["cache_control"] = {"type": "ephemeral"}
    assert key_of(moved) == key_of(body()) == key_of(without_cache_control(body()))


def test_cache_control_inside_tool_data_is_data():
    schema = body()
    schema["tools"][0]["input_schema"]["properties"]["cache_control"] = {"type": "string"}
    arguments = body()
    arguments["messages"][1]["content"][0]["input"]["cache_control"] = "keep"
    assert len({key_of(schema), key_of(arguments), key_of(body())}) == 3


def test_the_key_ignores_metadata_and_streaming():
    assert key_of(body(metadata={"user_id": "another session"}, stream=True)) == key_of(body())
    plain = body()
    del plain["metadata"]
    assert key_of(plain) == key_of(body())


def test_a_string_is_the_text_block_it_stands_for():
    as_string = body(system="You are terse.")
    as_string["messages"][0]["content"] = "hi"
    assert key_of(as_string) == key_of(body())


@pytest.mark.parametrize(
    "changes",
    [
        {"system": [{"type": "text", "text": "You are verbose."}]},
        {"system": [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "More."}]},
        {"model": "claude-sonnet-4-5"},
        {"max_tokens": 999},
        {"temperature": 0.0},
        {"top_p": 0.5},
        {"top_k": 5},
        {"stop_sequences": ["END"]},
        {"tool_choice": {"type": "any"}},
        {"tools": []},
        {"thinking": {"type": "enabled", "budget_tokens": 2000}},
        {"output_config": {"effort": "low"}},
        {"context_management": {"edits": []}},
        {"some_future_option": {"x": 1}},  # a field lynkr has no type for
        {"messages": [{"role": "user", "content": "hi!"}]},
    ],
)
def test_everything_that_decides_the_answer_changes_the_key(changes):
    assert key_of(body(**changes)) != key_of(body())


def test_the_route_and_the_beta_headers_are_in_the_key():
    base = key_of(body())
    assert key_of(body(), route=("anthropic", "claude-other")) != base
    assert key_of(body(), route=("azure-anthropic", "")) != base
    assert key_of(body(), headers={**HEADERS, "anthropic-beta": "b-one"}) != base
    assert key_of(body(), headers={**HEADERS, "anthropic-beta": " b-two , b-one,b-one"}) == base
    assert key_of(body(), headers={**HEADERS, "anthropic-dangerous-direct-browser-access": "true"}) == base


def test_the_claude_code_billing_header_block_is_left_out():
    turn = json.loads((CLAUDE_CODE_FIXTURES / "turn1.json").read_text())
    assert turn["system"][0]["text"].startswith("x-anthropic-billing-header: cc_version=")
    other_run = copy.deepcopy(turn)
    other_run["system"][0]["text"] = "x-anthropic-billing-header: cc_version=2.1.197.f00; cc_entrypoint=sdk-cli;"
    other_run["metadata"]["user_id"] = json.dumps({"session_id": "another"})
    assert key_of(other_run) == key_of(turn)
    without = copy.deepcopy(turn)
    del without["system"][0]
    assert key_of(without) == key_of(turn)
    # ... but only that block, only first, only when it is the header line alone
    later = copy.deepcopy(turn)
    later["system"].append(turn["system"][0])
    assert key_of(later) != key_of(turn)
    longer = copy.deepcopy(turn)
    longer["system"][0]["text"] += "\nAnd do as I say."
    assert key_of(longer) != key_of(without)


def test_remembered_digests_give_the_same_key():
    keys = KeyMaker(memo_bytes=4096)
    first = [key_of(body(max_tokens=n), keys=keys) for n in range(1, 30)]
    again = [key_of(body(max_tokens=n), keys=keys) for n in range(1, 30)]
    fresh = [key_of(body(max_tokens=n)) for n in range(1, 30)]
    assert first == again == fresh


async def test_a_route_to_elsewhere_is_a_different_entry(lynkr, home):
    routed = {"LYNKR_MODEL_ROUTES": "claude-opus-*=anthropic:claude-haiku-4-5"}
    async with FakeAnthropic() as upstream:
        async with lynkr(upstream, home) as gw:
            await gw.create()
        async with lynkr(upstream, home, **routed) as gw:
            _, elsewhere = await gw.answered()
            _, elsewhere_again = await gw.answered()
        async with lynkr(upstream, home) as gw:
            _, back = await gw.answered()
    assert [r.json["model"] for r in upstream.message_requests] == ["claude-opus-4-8", "claude-haiku-4-5"]
    assert (elsewhere["x-lynkr-cache"], elsewhere_again["x-lynkr-cache"], back["x-lynkr-cache"]) == (
        "miss", "hit", "hit"
    )


async def test_a_request_too_deeply_nested_to_key_passes_by(lynkr, home):
    deep: Any = []
    for _ in range(600):
        deep = [deep]
    content = [{"type": "text", "text": "x", "deep": deep}]
    async with FakeAnthropic() as upstream:
        async with lynkr(upstream, home) as gw:
            message, headers = await gw.answered(messages=[{"role": "user", "content": content}])
    assert message.content[0].text == "ok"
    assert headers["x-lynkr-cache"] == "bypass"
