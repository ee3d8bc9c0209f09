"""An upstream's "prompt too long" becomes Anthropic's own error, the one Claude Code
compacts on: ``invalid_request_error``, ``prompt is too long: N tokens > M maximum``.

Each OpenAI-format dialect words it its own way, as an HTTP error or inside a 200
stream; none is retried, none becomes a 502. With a known context window, lynkr
clamps ``max_tokens`` to what the prompt leaves and answers a prompt that cannot fit
without sending it, or sends it to ``LYNKR_LONG_CONTEXT_ROUTE``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.fake_ollama import FakeOllama, OllamaError
from lynkr_core.testing.fake_openai import ChatReply, ErrorReply, FakeOpenAI
from lynkr_core.testing.gateway import Harness, quick_retries
from lynkr_core.translate import (
    ModelLimit,
    TargetOptions,
    clamp_max_tokens,
    find_overflow,
    find_overflow_in_body,
)

#: What Claude Code matches before it compacts.
CLAUDE_CODE_PATTERN = re.compile(r"^prompt is too long: \d+ tokens > \d+ maximum$")
KEY = "sk-upstream"
HELLO = [{"role": "user", "content": "hello"}]

OPENAI_MESSAGE = (
    "This model's maximum context length is 32768 tokens. However, your messages resulted in "
    "40000 tokens. Please reduce the length of the messages."
)


def _env(provider: str, base: str) -> dict[str, str]:
    envs = {
        "openai": {"OPENAI_ENDPOINT": f"{base}/v1/chat/completions", "OPENAI_API_KEY": KEY,
                   "OPENAI_MODEL": "local-model"},
        "azure-openai": {"AZURE_OPENAI_ENDPOINT": base, "AZURE_OPENAI_API_KEY": KEY,
                         "AZURE_OPENAI_DEPLOYMENT": "prod-chat"},
        "databricks": {"DATABRICKS_API_BASE": base, "DATABRICKS_API_KEY": KEY,
                       "DATABRICKS_ENDPOINT_PATH": "/serving-endpoints/my-llm/invocations"},
        "openrouter": {"OPENROUTER_ENDPOINT": f"{base}/api/v1/chat/completions", "OPENROUTER_API_KEY": KEY,
                       "OPENROUTER_MODEL": "some/model"},
        "llamacpp": {"LLAMACPP_ENDPOINT": base, "LLAMACPP_MODEL": "local", "LLAMACPP_API_KEY": KEY},
        "ollama": {"OLLAMA_ENDPOINT": base, "OLLAMA_MODEL": "qwen3:8b"},
    }
    return {"MODEL_PROVIDER": provider, **quick_retries(2), **envs[provider]}


HARNESS = Harness(lambda base, provider="openai", **extra: {**_env(provider, base), **extra})

DIALECT = {"openai": "openai", "azure-openai": "azure", "databricks": "databricks",
           "openrouter": "openrouter", "llamacpp": "llamacpp"}

#: (provider, what its upstream answers, the numbers the client must see; None: counted)
OVERFLOWS: list[tuple[str, str, str | None, tuple[int, int] | None]] = [
    ("openai", OPENAI_MESSAGE, "context_length_exceeded", (40000, 32768)),
    ("azure-openai", OPENAI_MESSAGE, "context_length_exceeded", (40000, 32768)),
    ("databricks", "prompt is too long: 210000 tokens > 200000 maximum", "BAD_REQUEST", (210000, 200000)),
    ("openrouter", "This endpoint's maximum context length is 8192 tokens. However, you requested about "
                   "9100 tokens (9000 of text input, 100 in the output). Please reduce the length of "
                   "either one, or use the \"middle-out\" transform to compress your prompt automatically.",
     None, (9100, 8192)),
    ("llamacpp", "request (4476 tokens) exceeds the available context size (4096 tokens)",
     "exceed_context_size_error", (4476, 4096)),
    ("llamacpp", "the request exceeds the available context size, try increasing it",
     "exceed_context_size_error", None),
]


def _assert_prompt_too_long(message: str, numbers: tuple[int, int] | None) -> None:
    assert CLAUDE_CODE_PATTERN.match(message), message
    if numbers is not None:
        assert message == f"prompt is too long: {numbers[0]} tokens > {numbers[1]} maximum"


@pytest.mark.parametrize(("provider", "message", "code", "numbers"), OVERFLOWS)
async def test_an_http_overflow_becomes_anthropics_prompt_too_long_and_is_not_retried(
    provider, message, code, numbers
):
    fake = FakeOpenAI([ErrorReply(400, message, code=code)], dialect=DIALECT[provider], api_key=KEY)
    async with HARNESS.run(fake, provider=provider) as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=HELLO)
    error = caught.value.body["error"]
    assert error["type"] == "invalid_request_error"
    _assert_prompt_too_long(error["message"], numbers)
    assert len(fake.chat_requests) == 1


@pytest.mark.parametrize(("provider", "message", "code", "numbers"), OVERFLOWS[:5])
async def test_an_overflow_inside_a_200_stream_is_a_400_not_a_retried_502(provider, message, code, numbers):
    fake = FakeOpenAI(
        [ErrorReply(400, message, code=code, in_stream=True)], dialect=DIALECT[provider], api_key=KEY
    )
    async with HARNESS.run(fake, provider=provider) as gw:
        status, _, body = await gw.post(
            {"model": "claude-sonnet-4-6", "max_tokens": 100, "stream": True, "messages": HELLO}
        )
    assert status == 400, body
    error = anthropic_error(body)
    assert error["type"] == "invalid_request_error"
    _assert_prompt_too_long(error["message"], numbers)
    assert len(fake.chat_requests) == 1


async def test_an_overflow_after_text_has_streamed_ends_the_stream_with_the_error_event():
    fake = FakeOpenAI(
        [ErrorReply(400, OPENAI_MESSAGE, code="context_length_exceeded", in_stream=True, partial="Let me")],
        api_key=KEY,
    )
    async with HARNESS.run(fake) as gw:
        status, events = await gw.post_sse(
            {"model": "claude-sonnet-4-6", "max_tokens": 100, "stream": True, "messages": HELLO}
        )
    assert status == 200
    name, data = events[-1]
    assert name == "error"
    assert data["error"] == {"type": "invalid_request_error",
                             "message": "prompt is too long: 40000 tokens > 32768 maximum"}
    assert len(fake.chat_requests) == 1


@pytest.mark.parametrize("in_stream", [False, True])
async def test_ollamas_overflow_without_numbers_is_counted(in_stream):
    fake = FakeOllama(
        [OllamaError(400, "the input length exceeds the context length", in_stream=in_stream)], models=["qwen3:8b"]
    )
    async with HARNESS.run(fake, provider="ollama", OLLAMA_NUM_CTX="200000") as gw:
        status, _, body = await gw.post(
            {"model": "claude-sonnet-4-6", "max_tokens": 100, "stream": True, "messages": HELLO}
        )
    assert status == 400, body
    message = anthropic_error(body)["message"]
    assert CLAUDE_CODE_PATTERN.match(message), message
    assert message.endswith("> 200000 maximum")  # OLLAMA_NUM_CTX is the window
    assert len(fake.chat_requests) == 1


# --------------------------------------------------------------------------- #
# A known window: clamp, refuse before sending, or take the long-context route


def _big_messages(words: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "lorem ipsum dolor sit amet " * (words // 5)}]


async def test_a_prompt_that_cannot_fit_the_known_window_is_refused_without_sending_it():
    fake = FakeOpenAI([ChatReply("never")], api_key=KEY)
    async with HARNESS.run(fake, OPENAI_CONTEXT_WINDOW="2000") as gw:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await gw.sdk.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=_big_messages(5000))
    message = caught.value.body["error"]["message"]
    assert CLAUDE_CODE_PATTERN.match(message) and message.endswith("> 2000 maximum"), message
    assert fake.chat_requests == []


async def test_max_tokens_is_clamped_to_what_the_window_leaves():
    fake = FakeOpenAI([ChatReply("ok")], api_key=KEY)
    async with HARNESS.run(fake, OPENAI_MODEL_LIMITS="local-*=8000/4000") as gw:
        for words in (1000, 3000):
            status, _, body = await gw.post(
                {"model": "claude-sonnet-4-6", "max_tokens": 32000, "messages": _big_messages(words)}
            )
            assert status == 200, body
    small, large = (request.json["max_tokens"] for request in fake.chat_requests)
    assert small == 4000  # the model's output limit
    assert 0 < large < 8000 - 3000  # the window minus the prompt (over a token a word)


async def test_a_prompt_that_cannot_fit_goes_to_the_long_context_route():
    small = FakeOpenAI([ChatReply("never")], api_key=KEY)
    large = FakeAnthropic([Reply([{"type": "text", "text": "read it all"}])])
    async with large:
        async with HARNESS.run(
            small,
            OPENAI_CONTEXT_WINDOW="2000",
            LYNKR_LONG_CONTEXT_ROUTE="anthropic",
            LYNKR_LONG_CONTEXT_TOKENS="1000000",  # the size rule alone would not move it
            ANTHROPIC_UPSTREAM_BASE_URL=large.base_url,
            ANTHROPIC_UPSTREAM_API_KEY="sk-ant-upstream",
        ) as gw:
            message = await gw.sdk.messages.create(
                model="claude-sonnet-4-6", max_tokens=100, messages=_big_messages(5000)
            )
    assert message.content[0].text == "read it all"
    assert small.chat_requests == [] and len(large.message_requests) == 1


async def test_an_upstream_overflow_goes_to_the_long_context_route():
    small = FakeOpenAI([ErrorReply(400, OPENAI_MESSAGE, code="context_length_exceeded")], api_key=KEY)
    large = FakeAnthropic([Reply([{"type": "text", "text": "fits here"}])])
    async with large:
        async with HARNESS.run(
            small,
            LYNKR_LONG_CONTEXT_ROUTE="anthropic",
            ANTHROPIC_UPSTREAM_BASE_URL=large.base_url,
            ANTHROPIC_UPSTREAM_API_KEY="sk-ant-upstream",
        ) as gw:
            message = await gw.sdk.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=HELLO)
    assert message.content[0].text == "fits here"
    assert len(small.chat_requests) == 1 and len(large.message_requests) == 1


# --------------------------------------------------------------------------- #
# Recognising the wordings


@pytest.mark.parametrize(
    ("message", "codes", "expected"),
    [
        (OPENAI_MESSAGE, (), (40000, 32768)),
        ("This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
         "(4000 in the messages, 1000 in the completion).", (), (5000, 4096)),
        ("'max_tokens' or 'max_completion_tokens' is too large: 1000. This model's maximum context "
         "length is 4096 tokens and your request has 3500 input tokens (1000 > 4096 - 3500).", (), (4500, 4096)),
        ("The decoder prompt (length 5000) is longer than the maximum model length of 4096.", (), (5000, 4096)),
        ("input length and `max_tokens` exceed context limit: 187254 + 20000 > 200000, decrease input "
         "length or `max_tokens` and try again", (), (207254, 200000)),
        ("The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", (),
         (1200000, 1048576)),
        ("Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum "
         "context length", (), (40000, 32768)),
        ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 "
         "`inputs` tokens and 1000 `max_new_tokens`", (), (5000, 4096)),
        ("Your input exceeds the context window of this model. Please adjust your input and try again.",
         ("context_length_exceeded",), (None, None)),
        ("Input is too long for requested model.", (), (None, None)),
        ("the input length exceeds the context length", (), (None, None)),
        ("something", ("exceed_context_size_error",), (None, None)),
    ],
)
def test_overflow_wordings(message, codes, expected):
    found = find_overflow(message, *codes)
    assert found is not None and (found.tokens, found.maximum) == expected


@pytest.mark.parametrize(
    "message",
    ["max_tokens is too large: 64000. This model supports at most 16384 completion tokens",
     "Rate limit reached", "Invalid API key", "model not found"],
)
def test_other_errors_are_not_overflows(message):
    assert find_overflow(message, "invalid_request_error") is None


def test_llamacpp_numbers_beside_the_message():
    body = (b'{"error":{"code":400,"message":"the request exceeds the available context size, try '
            b'increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}')
    found = find_overflow_in_body(body)
    assert found is not None and (found.tokens, found.maximum) == (9000, 8192)


def test_the_clamp_keeps_settings_first():
    target = TargetOptions(model="gpt-4o", model_limits=(ModelLimit.parse("gpt-4o=10000/3000"),))
    assert clamp_max_tokens(64000, target) == 3000
    assert clamp_max_tokens(64000, target, input_tokens=9000) == 1000
    assert clamp_max_tokens(64000, TargetOptions(model="gpt-4o"), input_tokens=120000) == 8000
    assert clamp_max_tokens(64000, TargetOptions(model="unknown-local"), input_tokens=120000) == 64000
    with pytest.raises(ValueError, match="model=context_window"):
        ModelLimit.parse("gpt-4o=lots")


def anthropic_error(body: bytes) -> dict[str, Any]:
    """The ``error`` object of an Anthropic error body."""
    return json.loads(body)["error"]
