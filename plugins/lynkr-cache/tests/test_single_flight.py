"""Identical calls that arrive while the first is still upstream wait for its answer."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import CutStream, FakeAnthropic, Reply

CONCURRENT = 20


def slow(text: str, **options) -> Reply:
    return Reply.text(text, first_byte_delay=0.3, delay=0.005, **options)


@pytest.mark.parametrize("stream", [False, True])
async def test_twenty_identical_calls_ask_upstream_once(lynkr, home, stream):
    async with FakeAnthropic([slow("the one answer, streamed in pieces")]) as upstream:
        async with lynkr(upstream, home) as gw:
            call = gw.streamed if stream else gw.answered
            answers = await asyncio.gather(*(call() for _ in range(CONCURRENT)))
    assert len(upstream.message_requests) == 1
    assert {message.content[0].text for message, _ in answers} == {"the one answer, streamed in pieces"}
    outcomes = sorted(headers["x-lynkr-cache"] for _, headers in answers)
    assert outcomes == ["hit"] * (CONCURRENT - 1) + ["miss"]
    assert len({message.id for message, _ in answers}) == CONCURRENT


async def test_json_and_streamed_calls_share_one_flight(lynkr, home):
    async with FakeAnthropic([slow("shared")]) as upstream:
        async with lynkr(upstream, home) as gw:
            answers = await asyncio.gather(*(gw.streamed() if n % 2 else gw.answered() for n in range(10)))
    assert len(upstream.message_requests) == 1
    assert {message.content[0].text for message, _ in answers} == {"shared"}


@pytest.mark.parametrize("stream", [False, True])
async def test_when_the_first_answer_is_not_kept_the_others_ask_for_themselves(lynkr, home, stream):
    replies = [slow("cut short", stop_reason="max_tokens")] + [Reply.text("own") for _ in range(CONCURRENT)]
    async with FakeAnthropic(replies) as upstream:
        async with lynkr(upstream, home) as gw:
            call = gw.streamed if stream else gw.answered
            answers = await asyncio.gather(*(call() for _ in range(5)))
    assert len(upstream.message_requests) == 5
    assert sorted(message.content[0].text for message, _ in answers) == ["cut short"] + ["own"] * 4
    assert {headers["x-lynkr-cache"] for _, headers in answers} == {"miss"}


@pytest.mark.parametrize("stream", [False, True])
async def test_when_the_first_call_fails_the_others_ask_for_themselves(lynkr, home, stream):
    failing = CutStream(first_byte_delay=0.3, abort=True)
    async with FakeAnthropic([failing, *[Reply.text("own")] * 4]) as upstream:
        async with lynkr(upstream, home) as gw:
            call = gw.streamed if stream else gw.answered
            first = asyncio.ensure_future(call())
            await asyncio.sleep(0.1)  # the first call leads its flight, upstream is slow
            answers = await asyncio.gather(*(call() for _ in range(4)))
            with pytest.raises(anthropic.APIError):
                await first
    assert [message.content[0].text for message, _ in answers] == ["own"] * 4
    assert len(upstream.message_requests) == 5


async def test_a_waiting_call_whose_client_leaves_does_not_break_the_flight(lynkr, home):
    async with FakeAnthropic([slow("still delivered")]) as upstream:
        async with lynkr(upstream, home) as gw:
            leader = asyncio.ensure_future(gw.answered())
            await asyncio.sleep(0.05)
            quitter = asyncio.ensure_future(gw.answered())
            await asyncio.sleep(0.05)
            quitter.cancel()
            message, _ = await leader
            again, headers = await gw.answered()
    assert message.content[0].text == again.content[0].text == "still delivered"
    assert headers["x-lynkr-cache"] == "hit"
    assert len(upstream.message_requests) == 1
