"""``<think>...</think>`` in content becomes a thinking block, JSON and streamed, with the
tags cut anywhere across chunks; ``*_THINK_TAGS`` says when (``auto``, ``on``, ``off``)."""

from __future__ import annotations

import random

import pytest

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.gateway import Harness, quick_retries, stream_events
from lynkr_core.translate import ThinkTagSplitter, is_lynkr_signature

KEY = "sk-upstream"
ASK = [{"role": "user", "content": "hi"}]
HARNESS = Harness(lambda base, **extra: {
    "MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": base, "LLAMACPP_MODEL": "qwq-32b",
    "LLAMACPP_API_KEY": KEY, "TOOL_EXECUTION_MODE": "client", **quick_retries(0), **extra,
})


def split(mode: str, pieces: list[str]) -> list[tuple[bool, str]]:
    """The runs of content given in ``pieces``, adjacent runs of a kind joined."""
    splitter = ThinkTagSplitter(mode)  # type: ignore[arg-type]
    runs = [run for piece in pieces for run in splitter.feed(piece)] + splitter.finish()
    joined: list[tuple[bool, str]] = []
    for thinking, text in runs:
        if joined and joined[-1][0] == thinking:
            joined[-1] = (thinking, joined[-1][1] + text)
        else:
            joined.append((thinking, text))
    return joined


def chunkings(text: str, count: int = 40):
    """``text`` whole, one character at a time, and cut at random places."""
    yield [text]
    yield list(text)
    rng = random.Random(text)
    for _ in range(count):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, min(8, len(text) - 1))))
        yield [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


CASES = [
    ("auto", "<think>\nplan it</think>\n\nThe answer.", [(True, "plan it"), (False, "The answer.")]),
    ("auto", "  <think>a < b</think>done", [(True, "a < b"), (False, "done")]),
    ("auto", "Text with <think>tags</think> inside", [(False, "Text with <think>tags</think> inside")]),
    ("auto", "<think>never closed", [(True, "never closed")]),
    ("auto", "<thin", [(False, "<thin")]),
    ("auto", "<think>x</think>y<think>z</think>", [(True, "x"), (False, "y<think>z</think>")]),
    ("on", "a<think>b</think>c<think>d</think>", [(False, "a"), (True, "b"), (False, "c"), (True, "d")]),
    ("on", "no tags, only </thinking> and <thinker>", [(False, "no tags, only </thinking> and <thinker>")]),
    ("off", "<think>x</think>y", [(False, "<think>x</think>y")]),
]


@pytest.mark.parametrize(("mode", "content", "expected"), CASES)
def test_content_splits_the_same_however_it_is_chunked(mode, content, expected):
    for pieces in chunkings(content):
        assert split(mode, pieces) == expected, pieces


@pytest.mark.parametrize("stream", [False, True])
async def test_think_tags_become_a_signed_thinking_block(stream):
    reply = ChatReply("<think>\nThe user greets me.\n</think>\n\nHello!", chunk_size=3)
    async with HARNESS.run(FakeOpenAI([reply], dialect="llamacpp", api_key=KEY)) as gw:
        request = dict(model="claude-sonnet-4-6", max_tokens=100, messages=ASK)
        if stream:
            _, message = await stream_events(gw.sdk, **request)
        else:
            message = await gw.sdk.messages.create(**request)
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.strip() == "The user greets me."
    assert is_lynkr_signature(message.content[0].signature)
    assert message.content[1].text == "Hello!"


@pytest.mark.parametrize("stream", [False, True])
async def test_think_tags_off_leaves_the_text_alone(stream):
    reply = ChatReply("<think>plan</think>Hello!", chunk_size=3)
    async with HARNESS.run(FakeOpenAI([reply], dialect="llamacpp", api_key=KEY), LLAMACPP_THINK_TAGS="off") as gw:
        request = dict(model="claude-sonnet-4-6", max_tokens=100, messages=ASK)
        if stream:
            _, message = await stream_events(gw.sdk, **request)
        else:
            message = await gw.sdk.messages.create(**request)
    assert [(block.type, block.text) for block in message.content] == [("text", "<think>plan</think>Hello!")]
