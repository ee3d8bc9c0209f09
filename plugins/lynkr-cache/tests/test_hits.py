"""A hit replays the stored answer, JSON or streamed, whichever way it was stored; what is
not deterministic, opted out, incomplete or failed is not cached."""

from __future__ import annotations

from typing import Any

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import CutStream, ErrorReply, FakeAnthropic, Reply

ANSWER = Reply(
    [
        {"type": "thinking", "thinking": "The user says hello; greet back.", "signature": "sig-1"},
        {"type": "text", "text": "Hello! How can I help — with \"quotes\", é and ✓?"},
        {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x", "n": [1, 2]}},
    ],
    usage={"input_tokens": 1234, "output_tokens": 56, "cache_read_input_tokens": 7},
)
TOOLS = [{"name": "lookup", "description": "Looks up.", "input_schema": {"type": "object"}}]


def comparable(message: Any) -> dict[str, Any]:
    """A message as the client sees it, without what a hit changes (id, usage)."""
    return message.model_dump(exclude={"id", "usage"})


async def test_a_json_answer_is_replayed_to_a_stream(lynkr, home):
    async with FakeAnthropic([ANSWER]) as upstream:
        async with lynkr(upstream, home) as gw:
            original, first_headers = await gw.answered(tools=TOOLS)
            replayed, headers = await gw.streamed(tools=TOOLS)
    assert first_headers["x-lynkr-cache"] == "miss"
    assert headers["x-lynkr-cache"] == "hit"
    assert len(upstream.message_requests) == 1
    assert comparable(replayed) == comparable(original)
    assert [block.type for block in replayed.content] == ["thinking", "text", "tool_use"]
    assert replayed.id != original.id and replayed.id.startswith("msg_")
    miss, hit = gw.exchanges
    assert miss.steps[0].answered_by is None and miss.steps[0].attempts
    assert hit.steps[0].answered_by == "lynkr-cache"
    assert hit.steps[0].attempts == []
    assert hit.streamed and hit.response.text() == original.content[1].text


async def test_a_streamed_answer_is_replayed_as_json(lynkr, home):
    async with FakeAnthropic([ANSWER]) as upstream:
        async with lynkr(upstream, home) as gw:
            original, first_headers = await gw.streamed(tools=TOOLS)
            replayed, second_headers = await gw.answered(tools=TOOLS)
            third, third_headers = await gw.streamed(tools=TOOLS)
    assert first_headers["x-lynkr-cache"] == "miss"
    assert second_headers["x-lynkr-cache"] == third_headers["x-lynkr-cache"] == "hit"
    assert len(upstream.message_requests) == 1
    assert comparable(replayed) == comparable(original) == comparable(third)


async def test_a_hit_bills_nothing_and_counts_what_it_saved(lynkr, home):
    async with FakeAnthropic([ANSWER]) as upstream:
        async with lynkr(upstream, home) as gw:
            original = await gw.create()
            json_hit = await gw.create()
            stream_hit, _ = await gw.streamed()
    assert original.usage.input_tokens == 1234
    for hit in (json_hit, stream_hit):
        assert (hit.usage.input_tokens, hit.usage.output_tokens) == (0, 0)
        assert hit.usage.cache_read_input_tokens is None
        assert hit.usage.cache_creation_input_tokens is None
    stats = await _stats(home)
    assert (stats["hits"], stats["misses"], stats["stored"]) == (2, 1, 1)
    assert stats["saved_input_tokens"] == 2 * (1234 + 7)
    assert stats["saved_output_tokens"] == 2 * 56


async def test_a_stream_hit_is_a_well_formed_event_stream_with_a_ping(lynkr, home):
    body = {"model": "claude-opus-4-8", "max_tokens": 100, "stream": True,
            "messages": [{"role": "user", "content": "hello"}]}
    async with FakeAnthropic([Reply.text("pong")]) as upstream:
        async with lynkr(upstream, home) as gw:
            async with aiohttp.ClientSession() as client:
                for _ in range(2):
                    async with client.post(f"{gw.url}/v1/messages", json=body) as hit:
                        text = await hit.text()
    assert hit.headers["x-lynkr-cache"] == "hit"
    assert hit.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("event: ") for line in text.splitlines() if line.startswith("event: ")]
    assert events == [
        "message_start", "ping", "content_block_start", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop",
    ]


@pytest.mark.parametrize(
    ("options", "env", "cached"),
    [
        ({"extra_body": {"temperature": 1.0}}, {}, False),
        ({"extra_body": {"temperature": 0.3}}, {}, False),
        ({"extra_body": {"temperature": 0}}, {}, True),
        ({}, {}, True),  # unset: Claude Code never sends one
        ({"extra_body": {"temperature": 1}}, {"PROMPT_CACHE_NONDETERMINISTIC": "true"}, True),
    ],
)
async def test_only_deterministic_requests_are_cached_unless_told_otherwise(lynkr, home, options, env, cached):
    async with FakeAnthropic() as upstream:
        async with lynkr(upstream, home, **env) as gw:
            await gw.create(**options)
            _, headers = await gw.answered(**options)
    assert len(upstream.message_requests) == (1 if cached else 2)
    assert headers["x-lynkr-cache"] == ("hit" if cached else "bypass")


@pytest.mark.parametrize(
    "headers",
    [{"cache-control": "no-store"}, {"Cache-Control": "max-age=0, No-Store"}, {"x-lynkr-cache": "bypass"}],
)
async def test_a_client_can_keep_a_call_out_of_the_cache(lynkr, home, headers):
    async with FakeAnthropic([Reply.text("first"), Reply.text("second"), Reply.text("third")]) as upstream:
        async with lynkr(upstream, home) as gw:
            await gw.create()  # stored
            opted_out, opted_out_headers = await gw.answered(extra_headers=headers)
            after = await gw.create()
            fresh = await gw.create(messages=[{"role": "user", "content": "new"}], extra_headers=headers)
            still_fresh = await gw.create(messages=[{"role": "user", "content": "new"}])
    assert opted_out_headers["x-lynkr-cache"] == "bypass"
    assert opted_out.content[0].text == "second"  # not served from the cache
    assert after.content[0].text == "first"  # ... and the stored answer was left alone
    assert fresh.content[0].text == "third"
    assert still_fresh.content[0].text == "ok"  # the opted-out answer was not stored
    assert len(upstream.message_requests) == 4


@pytest.mark.parametrize(
    "headers", [{"cache-control": "no-cache"}, {"pragma": "no-cache"}, {"x-lynkr-cache": "refresh"}]
)
async def test_no_cache_asks_upstream_and_replaces_the_stored_answer(lynkr, home, headers):
    async with FakeAnthropic([Reply.text("stale"), Reply.text("fresh")]) as upstream:
        async with lynkr(upstream, home) as gw:
            await gw.create()
            refreshed, refreshed_headers = await gw.answered(extra_headers=headers)
            after, after_headers = await gw.answered()
    assert refreshed_headers["x-lynkr-cache"] == "refresh"
    assert refreshed.content[0].text == "fresh"
    assert after_headers["x-lynkr-cache"] == "hit"
    assert after.content[0].text == "fresh"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("stop_reason", ["max_tokens", "refusal", "pause_turn", "model_context_window_exceeded"])
async def test_answers_that_did_not_end_normally_are_not_stored(lynkr, home, stream, stop_reason):
    async with FakeAnthropic([Reply.text("cut", stop_reason=stop_reason)]) as upstream:
        async with lynkr(upstream, home) as gw:
            if stream:
                first, _ = await gw.streamed()
            else:
                first = await gw.create()
            second = await gw.create()
    assert first.stop_reason == stop_reason
    assert second.content[0].text == "ok"
    assert len(upstream.message_requests) == 2


@pytest.mark.parametrize(
    ("failure", "stream"),
    [
        (ErrorReply(500), False),
        (ErrorReply(529), True),
        (ErrorReply(529, in_stream=True), True),
        (CutStream(abort=False), True),
        (CutStream(abort=True), True),
    ],
)
async def test_failures_and_broken_streams_are_not_stored(lynkr, home, failure, stream):
    async with FakeAnthropic([failure]) as upstream:
        async with lynkr(upstream, home) as gw:
            with pytest.raises(anthropic.APIError):
                if stream:
                    await gw.streamed()
                else:
                    await gw.create()
            after, headers = await gw.answered()
    assert headers["x-lynkr-cache"] == "miss"
    assert after.content[0].text == "ok"
    assert len(upstream.message_requests) == 2


async def test_an_answer_from_a_fallback_provider_is_not_stored_under_the_first_route(lynkr, home):
    async with FakeAnthropic([ErrorReply(529), Reply.text("from the fallback")]) as upstream:
        fallback = {
            "FALLBACK_PROVIDER": "azure-anthropic",
            "AZURE_ANTHROPIC_ENDPOINT": f"{upstream.base_url}/anthropic/v1/messages",
            "AZURE_ANTHROPIC_API_KEY": "azure-key",
        }
        async with lynkr(upstream, home, **fallback) as gw:
            first = await gw.create()
            second, headers = await gw.answered()
    assert first.content[0].text == "from the fallback"
    assert headers["x-lynkr-cache"] == "miss"
    assert second.content[0].text == "ok"


async def _stats(home) -> dict[str, int]:
    """The persisted counters (the app is closed: everything is flushed)."""
    from lynkr_cache.store import Store

    store = Store(home / "lynkr-cache")
    try:
        stats = store.stats()
    finally:
        store.close()
    return {name: getattr(stats, name) for name in stats.__struct_fields__}
