"""Routing by model and size, retries with backoff, and failover to the next provider."""

from __future__ import annotations

import random
from collections import deque
from types import SimpleNamespace

import anthropic
import pytest
import structlog

from lynkr_core import ConfigError, Provider, UpstreamError, events, hookimpl
from lynkr_core import anthropic as wire
from lynkr_core.config import CoreSettings
from lynkr_core.resilience import RetryPolicy, with_failover
from lynkr_core.routing import ModelRoute, Router, Target
from lynkr_core.testing.server import make_test_app, serving

HELLO = [{"role": "user", "content": "hi"}]


# --------------------------------------------------------------------------- routing


def test_target_splits_at_the_first_colon():
    assert Target.parse("ollama:qwen2.5-coder:7b") == Target("ollama", "qwen2.5-coder:7b")
    assert Target.parse(" openai ") == Target("openai", "")
    assert str(Target("ollama", "llama3.1:8b")) == "ollama:llama3.1:8b"
    with pytest.raises(ConfigError):
        Target.parse(":gpt-4o")


@pytest.mark.parametrize("entry", ["haiku", "=openai", "haiku openai"])
def test_malformed_routes_are_refused_with_the_variable_named(entry):
    with pytest.raises(ConfigError, match="LYNKR_MODEL_ROUTES"):
        ModelRoute.parse(entry)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-haiku-4-5-20251001", Target("ollama", "qwen2.5-coder:7b")),
        ("claude-3-5-haiku-latest", Target("ollama", "qwen2.5-coder:7b")),
        ("claude-opus-4-8", Target("openrouter", "anthropic/claude-opus-4")),
        ("claude-sonnet-4-5", Target("databricks", "databricks-claude-sonnet-4-5")),
        ("claude-sonnet-3-7", Target("databricks", "")),
        ("my-model", Target("databricks", "")),
    ],
)
def test_model_routes_match_families_and_globs_in_order(model, expected):
    router = Router.from_settings(
        CoreSettings(
            model_provider="databricks",
            model_routes=[
                "haiku=ollama:qwen2.5-coder:7b",
                "claude-sonnet-4-*=databricks:databricks-claude-sonnet-4-5",
                "opus=openrouter:anthropic/claude-opus-4",
            ],
        )
    )
    assert router.choose(model) == expected


def test_long_context_route_wins_when_the_estimate_reaches_the_threshold():
    router = Router.from_settings(
        CoreSettings(
            model_provider="openai",
            model_routes=["haiku=ollama"],
            long_context_route="openrouter:google/gemini-2.5-pro",
            long_context_tokens=1000,
        )
    )
    assert router.choose("claude-haiku-4-5", lambda: 999) == Target("ollama")
    assert router.choose("claude-haiku-4-5", lambda: 1000) == Target("openrouter", "google/gemini-2.5-pro")


def test_size_is_not_estimated_without_a_long_context_route():
    router = Router(Target("openai"))

    def boom() -> int:
        raise AssertionError("estimated")

    assert router.targets("m", boom) == [Target("openai")]


def test_fallbacks_follow_the_chosen_target_without_repeating_it():
    core = CoreSettings(model_provider="openai", fallback_provider=["openai", "ollama:llama3.1"])
    assert Router.from_settings(core).targets("m") == [Target("openai"), Target("ollama", "llama3.1")]
    off = CoreSettings(model_provider="openai", fallback_provider=["ollama"], fallback_enabled=False)
    assert Router.from_settings(off).targets("m") == [Target("openai")]


# --------------------------------------------------------------------------- retries


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(retries=5, base=0.5, max_delay=3.0)
    error = UpstreamError("busy", status=503)
    rng = random.Random(7)
    delays = [policy.delay(n, error, rng) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        full = min(3.0, 0.5 * 2 ** (n - 1))
        assert full / 2 <= delay <= full
    assert policy.delay(6, error, rng) is None


def test_retry_after_is_honoured_when_short_and_skipped_when_long():
    policy = RetryPolicy(retries=2, max_delay=8.0)
    assert policy.delay(1, UpstreamError("slow down", status=429, retry_after=3), None) == 3
    assert policy.delay(1, UpstreamError("slow down", status=429, retry_after=60), None) is None


def test_client_errors_are_not_retried():
    policy = RetryPolicy(retries=3)
    for status in (400, 401, 403, 404, 413):
        assert policy.delay(1, UpstreamError("no", status=status), None) is None


async def test_with_failover_retries_then_moves_on_and_raises_the_last_error():
    calls: list[str] = []
    waits: list[float] = []
    outcomes = {
        "a": deque([UpstreamError("down", status=502)] * 3),
        "b": deque([UpstreamError("busy", status=429, retry_after=1), "ok from b"]),
    }

    async def attempt(target: Target) -> str:
        calls.append(target.provider)
        outcome = outcomes[target.provider].popleft()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    log = structlog.get_logger("test")
    result = await with_failover(
        [Target("a"), Target("b")], attempt, RetryPolicy(retries=2, base=0.1, max_delay=5), log, sleep=sleep
    )
    assert result == "ok from b"
    assert calls == ["a", "a", "a", "b", "b"]
    assert len(waits) == 3 and waits[-1] == 1
    assert all(0.05 <= w <= 0.2 for w in waits[:2])


async def test_with_failover_raises_a_client_error_at_once():
    calls: list[str] = []

    async def attempt(target: Target) -> str:
        calls.append(target.provider)
        raise UpstreamError("bad request", status=400)

    with pytest.raises(UpstreamError, match="bad request"):
        await with_failover([Target("a"), Target("b")], attempt, RetryPolicy(), structlog.get_logger())
    assert calls == ["a"]


# --------------------------------------------------------------------------- through the app


class Scripted(Provider):
    """Answers with its name and the routed model; fails as scripted first."""

    def __init__(self, name: str, failures=(), *, fail_mid_stream: bool = False) -> None:
        self.name = name
        self.failures = deque(failures)
        self.fail_mid_stream = fail_mid_stream
        self.seen: list[tuple[str, str]] = []

    def _text(self, request, context) -> str:
        self.seen.append((request.model, context.model))
        if self.failures:
            raise self.failures.popleft()
        return f"{self.name}:{context.model or 'default'}"

    def _message(self, request, text: str) -> wire.MessageResponse:
        return wire.MessageResponse(
            id="msg_1",
            model=request.model,
            content=[wire.raw(wire.TextBlock(text=text))] if text else [],
            stop_reason="end_turn" if text else None,
        )

    async def complete(self, request, context):
        return self._message(request, self._text(request, context))

    async def stream(self, request, context):
        text = self._text(request, context)
        yield events.event_frame(events.MessageStart(message=self._message(request, "")))
        if self.fail_mid_stream:
            raise UpstreamError("went away mid-stream", status=502)
        yield events.event_frame(events.ContentBlockStart(index=0, content_block=wire.raw(wire.TextBlock(text=""))))
        yield events.event_frame(events.ContentBlockDelta(index=0, delta=events.TextDelta(text)))
        yield events.event_frame(events.ContentBlockStop(index=0))
        yield events.event_frame(events.MessageDelta(delta=events.MessageDeltaBody(stop_reason="end_turn")))
        yield events.event_frame(events.MessageStop())


def providers_plugin(*providers: Provider):
    @hookimpl
    def lynkr_register_providers(register, settings):
        for provider in providers:
            register(provider)

    return SimpleNamespace(lynkr_register_providers=lynkr_register_providers)


FAST = {"LYNKR_RETRY_BASE_SECONDS": "0.01", "LYNKR_RETRY_MAX_SECONDS": "0.05"}


async def test_requests_are_routed_by_model_family_to_the_routed_model():
    primary, cheap = Scripted("primary"), Scripted("cheap")
    env = {"MODEL_PROVIDER": "primary", "LYNKR_MODEL_ROUTES": "haiku=cheap:small-model"}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, cheap))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        routed = await sdk.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO)
        default = await sdk.messages.create(model="claude-opus-4-8", max_tokens=5, messages=HELLO)
    assert routed.content[0].text == "cheap:small-model"
    assert routed.model == "claude-haiku-4-5"
    assert default.content[0].text == "primary:default"
    assert cheap.seen == [("claude-haiku-4-5", "small-model")]


@pytest.mark.parametrize("streamed", [False, True])
async def test_retryable_failures_are_retried_then_failed_over(streamed):
    primary = Scripted("primary", [UpstreamError("overloaded", status=529)] * 3)
    backup = Scripted("backup", [UpstreamError("cannot connect", status=502)])
    env = {"MODEL_PROVIDER": "primary", "FALLBACK_PROVIDER": "backup:spare", **FAST}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, backup))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        if streamed:
            async with sdk.messages.stream(model="m", max_tokens=5, messages=HELLO) as stream:
                message = await stream.get_final_message()
        else:
            message = await sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
    assert message.content[0].text == "backup:spare"
    assert len(primary.seen) == 3  # first try + LYNKR_UPSTREAM_RETRIES=2
    assert len(backup.seen) == 2


async def test_client_errors_reach_the_client_without_failover():
    primary = Scripted("primary", [UpstreamError("prompt is too long", status=400)])
    backup = Scripted("backup")
    env = {"MODEL_PROVIDER": "primary", "FALLBACK_PROVIDER": "backup", **FAST}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, backup))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
            await sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
    assert backup.seen == []


async def test_the_last_error_reaches_the_client_when_every_target_failed():
    primary = Scripted("primary", [UpstreamError("busy", status=429, retry_after=30)])
    backup = Scripted("backup", [UpstreamError("busy too", status=429, retry_after=40)])
    env = {"MODEL_PROVIDER": "primary", "FALLBACK_PROVIDER": "backup", **FAST}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, backup))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(anthropic.RateLimitError, match="busy too") as caught:
            await sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
    assert caught.value.response.headers["retry-after"] == "40"
    # A Retry-After longer than LYNKR_RETRY_MAX_SECONDS moves on at once.
    assert (len(primary.seen), len(backup.seen)) == (1, 1)


async def test_no_failover_once_the_stream_has_started():
    primary = Scripted("primary", fail_mid_stream=True)
    backup = Scripted("backup")
    env = {"MODEL_PROVIDER": "primary", "FALLBACK_PROVIDER": "backup", **FAST}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, backup))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(anthropic.APIStatusError, match="went away mid-stream"):
            async with sdk.messages.stream(model="m", max_tokens=5, messages=HELLO) as stream:
                await stream.get_final_message()
    assert backup.seen == []


async def test_a_route_to_an_unregistered_provider_starts_but_answers_every_request_with_why():
    env = {"MODEL_PROVIDER": "primary", "FALLBACK_PROVIDER": "nowhere"}
    primary = Scripted("primary")
    app = make_test_app(env, plugins=[("p", providers_plugin(primary))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        with pytest.raises(anthropic.InternalServerError) as caught:
            await sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
    message = caught.value.body["error"]["message"]
    assert message.startswith("FALLBACK_PROVIDER names provider 'nowhere', but no installed plugin provides it;")
    assert message.endswith("; installed providers: primary")
    assert primary.seen == []
    strict = {**env, "LYNKR_STRICT_PLUGINS": "true"}
    with pytest.raises(ConfigError, match="FALLBACK_PROVIDER names provider 'nowhere'"):
        make_test_app(strict, plugins=[("p", providers_plugin(Scripted("primary")))], load_entry_points=False)


def test_the_routing_size_estimate_is_close_to_the_tokenizer_on_claude_code_requests():
    from pathlib import Path

    from lynkr_core.tokens import approximate_input_tokens, estimate_input_tokens

    for name in ("turn1.json", "turn2.json"):
        body = (Path(__file__).parent / "fixtures/claude_code" / name).read_bytes()
        request = wire.decode_request(body)
        fast, careful = approximate_input_tokens(request), estimate_input_tokens(request)
        assert 0.9 <= careful / fast <= 1.1, (name, fast, careful)


async def test_long_requests_go_to_the_long_context_route():
    primary, long = Scripted("primary"), Scripted("long")
    env = {"MODEL_PROVIDER": "primary", "LYNKR_LONG_CONTEXT_ROUTE": "long:big", "LYNKR_LONG_CONTEXT_TOKENS": "500"}
    app = make_test_app(env, plugins=[("p", providers_plugin(primary, long))], load_entry_points=False)
    async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        short = await sdk.messages.create(model="m", max_tokens=5, messages=HELLO)
        big = await sdk.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "word " * 1000}]
        )
    assert (short.content[0].text, big.content[0].text) == ("primary:default", "long:big")
