"""The metrics after real requests through the real server: JSON, a stream, lynkr's tool
calls (one denied), an upstream error with failover, tokens, a cache's answer; who may
read them."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from lynkr_core import api_key_id
from lynkr_core.testing.exchange_parts import recording_plugin
from lynkr_core.testing.fake_anthropic import ErrorReply, FakeAnthropic, Reply
from lynkr_core.testing.plugins import HeldRecorder, inline_plugin

CLIENT_TOOL = {"name": "Read", "description": "client side read",
               "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}


def tools_plugin():
    return recording_plugin(canned=True)


async def until(check, helpers, url, key=None):
    """Scrape until ``check(scrape)`` holds (the observer runs off the request path)."""
    for _ in range(200):
        _, scraped, _ = await helpers.scrape(url, key)
        if scraped is not None and check(scraped):
            return scraped
        await asyncio.sleep(0.02)
    raise AssertionError(f"the metrics never got there:\n{scraped.text if scraped else ''}")


def client(url, key="k"):
    return anthropic.AsyncAnthropic(base_url=url, api_key=key, max_retries=0)


async def test_json_stream_tools_failover_tokens_and_cache_are_counted(gateway, helpers):
    fake = FakeAnthropic([
        Reply.text("plain json", usage={"input_tokens": 11, "output_tokens": 5,
                                        "cache_read_input_tokens": 7}),
        ErrorReply(529, message="overloaded right now"),
        Reply([{"type": "text", "text": "On it."},
               {"type": "tool_use", "id": "toolu_w", "name": "lynkr_whisper", "input": {"text": "Hi"}},
               {"type": "tool_use", "id": "toolu_u", "name": "lynkr_upper", "input": {"text": "hi"}}],
              usage={"input_tokens": 100, "output_tokens": 20}),
        Reply.text("HI", usage={"input_tokens": 150, "output_tokens": 7}),
    ])
    async with gateway(fake, tools_plugin(), FALLBACK_PROVIDER="anthropic:fallback-model") as url:
        async with client(url) as sdk:
            await sdk.messages.create(model="claude-sonnet-4-6", max_tokens=50,
                                      messages=[{"role": "user", "content": "hi"}])
            async with sdk.messages.stream(model="claude-sonnet-4-6", max_tokens=50, tools=[CLIENT_TOOL],
                                           messages=[{"role": "user", "content": "shout"}]) as stream:
                assert (await stream.get_final_message()).content[-1].text == "HI"
            await sdk.messages.create(model="canned", max_tokens=50, messages=[{"role": "user", "content": "x"}])
        scraped = await until(lambda s: s.value("lynkr_requests_total") == 3, helpers, url)

    assert scraped.value("lynkr_requests_total", route="/v1/messages", status="200", provider="anthropic",
                         model="claude-sonnet-4-6", client="none") == 2
    assert scraped.value("lynkr_requests_total", provider="canned", model="canned") == 1
    assert scraped.value("lynkr_request_duration_seconds_count", streamed="true") == 1
    assert scraped.value("lynkr_request_duration_seconds_count", streamed="false") == 2
    # the stream: a 529, a failover to the fallback model, then the tool step
    assert scraped.value("lynkr_upstream_attempts_total", provider="anthropic", outcome="overloaded_error") == 1
    assert scraped.value("lynkr_upstream_attempts_total", outcome="ok") == 3
    assert scraped.value("lynkr_upstream_errors_total", provider="anthropic", kind="overloaded_error") == 1
    assert scraped.value("lynkr_upstream_failovers_total", from_provider="anthropic", to_provider="anthropic") == 1
    assert scraped.value("lynkr_upstream_retries_total") == 0
    assert scraped.value("lynkr_time_to_first_token_seconds_count") == 2  # the stream's two answered steps
    assert scraped.value("lynkr_tool_calls_total", tool="lynkr_upper", outcome="ok") == 1
    assert scraped.value("lynkr_tool_calls_total", tool="lynkr_whisper", outcome="denied") == 1
    assert scraped.value("lynkr_tokens_total", kind="input", provider="anthropic") == 11 + 100 + 150
    assert scraped.value("lynkr_tokens_total", kind="output", provider="anthropic") == 5 + 20 + 7
    assert scraped.value("lynkr_tokens_total", kind="cache_read") == 7
    assert scraped.value("lynkr_cache_hits_total", answered_by="canned") == 1
    assert scraped.value("lynkr_active_streams") == 0
    assert scraped.value("lynkr_plugin_errors_total") == 0


async def test_an_upstream_error_without_failover_is_counted_with_its_status(gateway, helpers):
    fake = FakeAnthropic([ErrorReply(400, message="bad thing")])
    async with gateway(fake) as url:
        async with client(url) as sdk:
            with pytest.raises(anthropic.BadRequestError):
                await sdk.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        scraped = await until(lambda s: s.value("lynkr_requests_total") == 1, helpers, url)
    assert scraped.value("lynkr_requests_total", status="400", provider="anthropic") == 1
    assert scraped.value("lynkr_upstream_errors_total", kind="invalid_request_error") == 1


async def test_a_stream_in_progress_is_active_until_it_ends(gateway, helpers):
    fake = FakeAnthropic([Reply.text("slow words " * 5, chunk_size=5, delay=0.05)])
    async with gateway(fake) as url, client(url) as sdk:
        async with sdk.messages.stream(model="m", max_tokens=50, messages=[{"role": "user", "content": "x"}]) as stream:
            async for _ in stream.text_stream:
                _, during, _ = await helpers.scrape(url)
                break
            await stream.get_final_message()
        after = await until(lambda s: s.value("lynkr_requests_total") == 1, helpers, url)
    assert during.value("lynkr_active_streams") == 1
    assert after.value("lynkr_active_streams") == 0


async def test_requests_are_counted_per_api_key_by_its_id_never_the_key(gateway, helpers):
    fake = FakeAnthropic([Reply.text("ok")])
    async with gateway(fake, LYNKR_API_KEYS="alice-key-0123456789") as url:
        async with client(url, "alice-key-0123456789") as sdk:
            await sdk.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        scraped = await until(lambda s: s.value("lynkr_requests_total") == 1, helpers, url,
                              "alice-key-0123456789")
        status, _, _ = await helpers.scrape(url)
    assert status == 401  # auto, without admin keys: behind the API keys like /v1/messages
    assert scraped.labels("lynkr_requests_total", "client") == {api_key_id("alice-key-0123456789")}
    assert "alice-key-0123456789" not in scraped.text


async def test_with_an_admin_key_the_metrics_need_it(gateway, helpers):
    async with gateway(FakeAnthropic([]), LYNKR_API_KEYS="client-key-0123456789",
                       LYNKR_ADMIN_KEYS="admin-key-0123456789") as url:
        assert (await helpers.scrape(url, "client-key-0123456789"))[0] == 401
        status, scraped, content_type = await helpers.scrape(url, "admin-key-0123456789")
    assert status == 200 and content_type.startswith("text/plain; version=")
    assert scraped.value("lynkr_active_streams") == 0


async def test_metrics_auth_none_serves_without_a_key(gateway, helpers):
    async with gateway(FakeAnthropic([]), LYNKR_API_KEYS="client-key-0123456789",
                       LYNKR_ADMIN_KEYS="admin-key-0123456789", METRICS_AUTH="none",
                       METRICS_PATH="/internal/metrics") as url:
        status, _, _ = await helpers.scrape(url, path="/internal/metrics")
    assert status == 200


async def test_client_chosen_models_cannot_grow_the_labels_without_bound(gateway, helpers):
    fake = FakeAnthropic([Reply.text("ok")])
    async with gateway(fake, METRICS_MAX_MODELS="3") as url:
        async with client(url) as sdk:
            for model in ("a", "b", "c", "d"):
                await sdk.messages.create(model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
        scraped = await until(lambda s: s.value("lynkr_requests_total") == 4, helpers, url)
    assert scraped.labels("lynkr_requests_total", "model") == {"a", "b", "other"}
    # the upstream model (empty: the provider's configured one) took the third place
    assert scraped.labels("lynkr_upstream_attempts_total", "model") == {"default"}


async def test_what_a_plugins_background_queue_drops_or_fails_is_counted(gateway, helpers):
    writer = HeldRecorder("gated", 1, fails_on="breaks")
    fake = FakeAnthropic([Reply.text("ok")])
    async with gateway(fake, ("gated", inline_plugin(observers=[writer]))) as url:
        async with client(url) as sdk:
            for model in ("a", "b", "c", "d"):  # the first waits in the worker's hand, the rest are dropped
                await sdk.messages.create(model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
            scraped = await until(lambda s: s.value("lynkr_background_dropped_total", queue="gated") == 3,
                                  helpers, url)
            assert scraped.value("lynkr_background_waiting", queue="gated") == 1
            assert scraped.value("lynkr_background_failed_total", queue="gated") == 0
            writer.gate.set()
            await writer.queue.idle()
            await sdk.messages.create(model="breaks", max_tokens=5, messages=[{"role": "user", "content": "x"}])
            scraped = await until(lambda s: s.value("lynkr_background_failed_total", queue="gated") == 1,
                                  helpers, url)
    assert scraped.value("lynkr_background_dropped_total", queue="gated") == 3  # counted once, not per scrape
    assert scraped.value("lynkr_background_waiting", queue="gated") == 0
