"""A Claude Code session replayed twice through lynkr reaches the upstream with the same
bytes up to its last cache breakpoint, and each turn starts with the previous turn's prefix:
what a provider's prompt cache needs to serve the second run and every next turn.

The session is the captured two-turn task of ``tests/fixtures/claude_code`` (the CLI's
requests, as sent). A second run of the CLI differs in its per-run values: the billing
line's ``cc_version`` suffix and the session id (header and ``metadata.user_id``); each
replay fills them in as a run would. ``tests/test_prompt_caching_claude_code.py`` does the
same with the real CLI.

Where a breakpoint ends: at a content part's ``cache_control`` in a request that carries
them (OpenRouter's Claude models); for an upstream that caches by itself (OpenAI), at the
end of the last message, where Claude Code put its last breakpoint.
"""

from __future__ import annotations

import json
import secrets
import uuid
from itertools import pairwise
from typing import Any

from lynkr_core.testing.fake_openai import ChatReply, FakeOpenAI
from lynkr_core.testing.gateway import Harness, claude_code_headers
from lynkr_core.testing.gateway import claude_code_turns as claude_code_turns  # a fixture

KEY = "sk-upstream"
UPSTREAMS = {
    "openrouter-claude": Harness(lambda base, **extra: {
        "MODEL_PROVIDER": "openrouter",
        "OPENROUTER_ENDPOINT": f"{base}/api/v1/chat/completions",
        "OPENROUTER_API_KEY": KEY,
        "OPENROUTER_MODEL": "anthropic/claude-sonnet-4.5",
        **extra,
    }),
    "openai": Harness(lambda base, **extra: {
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": f"{base}/v1/chat/completions",
        "OPENAI_API_KEY": KEY,
        "OPENAI_MODEL": "gpt-4o",
        "OPENAI_PROMPT_CACHE_KEY": "true",  # on by default only toward api.openai.com
        **extra,
    }),
}
DIALECTS = {"openrouter-claude": "openrouter", "openai": "openai"}
BREAKPOINT = b',"cache_control":'


def one_run(turns: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The session's requests as one run of the CLI sends them: its own billing suffix and
    session id."""
    session, suffix = str(uuid.uuid4()), secrets.token_hex(2)[:3]
    text = json.dumps(turns).replace("SESSION_ID", session).replace(".SUFFIX;", f".{suffix};")
    return json.loads(text), {**claude_code_headers(), "x-claude-code-session-id": session}


def value_span(body: bytes, key: str) -> tuple[int, int]:
    """Where the top-level ``key``'s value starts and ends in ``body`` (byte offsets)."""
    text = body.decode()
    start = text.index(f'"{key}":') + len(key) + 3
    _, end = json.JSONDecoder().raw_decode(text, start)
    return len(text[:start].encode()), len(text[:end].encode())


def prefix_end(body: bytes) -> int:
    """Where the cacheable prefix of an upstream request body ends: its last breakpoint,
    else the end of its last message (before the list's "]": the next turn goes on there)."""
    if BREAKPOINT in body:
        return body.rindex(BREAKPOINT)
    return value_span(body, "messages")[1] - 1


def prompt_share(body: bytes) -> float:
    """The share of the prompt a provider caches up to the last breakpoint. A provider
    reads the tools first, then the messages (Anthropic: tools, system, messages; OpenAI
    renders tools ahead of the conversation), while the JSON body has the messages first."""
    messages, tools = value_span(body, "messages"), value_span(body, "tools")
    size = (messages[1] - messages[0]) + (tools[1] - tools[0])
    return ((tools[1] - tools[0]) + (prefix_end(body) - messages[0])) / size


async def replay(harness: Harness, dialect: str, turns: list[dict[str, Any]]) -> list[bytes]:
    """The bodies lynkr sent upstream for one run of the session."""
    fake = FakeOpenAI([ChatReply("ok")] * len(turns), dialect=dialect, api_key=KEY)
    bodies, headers = one_run(turns)
    async with harness.run(fake) as gw:
        for body in bodies:
            status, _, raw = await gw.post(body, headers)
            assert status == 200, raw
    return [request.body for request in fake.chat_requests]


def common_prefix(a: bytes, b: bytes) -> int:
    """The length of the longest common prefix of ``a`` and ``b``."""
    n = min(len(a), len(b))
    low, high = 0, n
    while low < high:  # bisect on equal prefixes: bytes compare in C
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


async def measure(name: str, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replay the session twice; per turn, the prefix and the bytes both runs share."""
    first = await replay(UPSTREAMS[name], DIALECTS[name], turns)
    second = await replay(UPSTREAMS[name], DIALECTS[name], turns)
    figures = []
    for a, b in zip(first, second, strict=True):
        figures.append({
            "prefix": prefix_end(a), "shared": common_prefix(a, b), "size": len(a),
            "prompt_share": round(prompt_share(a), 4),
        })
    # the next turn starts with this turn's prefix
    for before, after in pairwise(first):
        assert after.startswith(before[: prefix_end(before)])
    print(name, figures)  # the figures quoted in docs/providers.md ("Prompt caching")
    return figures


async def test_a_replayed_session_reaches_openrouter_claude_with_the_same_prefix(claude_code_turns):
    figures = await measure("openrouter-claude", claude_code_turns)
    for turn in figures:
        assert turn["shared"] == turn["size"]  # every byte: nothing per-run reaches the upstream
        assert turn["prompt_share"] > 0.95  # tools, system prompt, and the conversation


async def test_a_replayed_session_reaches_openai_with_the_same_prefix(claude_code_turns):
    figures = await measure("openai", claude_code_turns)
    for turn in figures:
        # the runs differ only after the messages, in their prompt_cache_key (per session)
        assert turn["prefix"] <= turn["shared"] < turn["size"]
        assert turn["prompt_share"] > 0.95
