"""Rate limits and budgets per API key through the real server: exactly the limit under
concurrency (in one worker and across two apps sharing the ledger), Anthropic's 429 with
``retry-after`` and the ``anthropic-ratelimit-*`` headers read with the official SDK,
token limits, budgets, per-key limits."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import aiohttp
import anthropic
import pytest

from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.server import make_test_app, serving

PROMPT = {"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


def many_answers(usage=None):
    return FakeAnthropic(lambda body: Reply.text("ok", usage=usage or {"input_tokens": 10, "output_tokens": 2}))


async def post_all(url: str, key: str, count: int, *, stream: bool = False) -> list[tuple[int, dict, dict]]:
    """``count`` requests at once, each on its own connection."""

    async def one() -> tuple[int, dict, dict]:
        async with aiohttp.ClientSession() as http, http.post(
                url + "/v1/messages", json={**PROMPT, "stream": stream}, headers={"x-api-key": key}) as response:
            body = await response.read()
            headers = {name.lower(): value for name, value in response.headers.items()}
            return response.status, (json.loads(body) if response.status != 200 else {}), headers

    return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.parametrize("stream", [False, True])
async def test_fifty_concurrent_requests_against_a_limit_of_ten_let_exactly_ten_through(gateway, helpers, stream):
    fake = many_answers()
    async with gateway(fake, RATE_LIMIT_REQUESTS_PER_MINUTE="10") as url:
        answers = await post_all(url, helpers.ALICE, 50, stream=stream)
    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) == 10 and statuses.count(429) == 40
    assert len(fake.message_requests) == 10  # nothing else went upstream
    for status, body, headers in answers:
        if status == 429:
            assert body["error"]["type"] == "rate_limit_error"
            assert "10 requests per minute" in body["error"]["message"]
            assert 1 <= int(headers["retry-after"]) <= 60
            assert headers["anthropic-ratelimit-requests-limit"] == "10"
            assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    remaining = sorted(int(h["anthropic-ratelimit-requests-remaining"]) for s, _, h in answers if s == 200)
    assert remaining == list(range(10))


async def test_two_servers_on_one_ledger_share_the_limit(helpers, lynkr_env):
    """Two apps (as two workers would be) on one ``LYNKR_HOME``: one limit between them."""
    async with many_answers() as fake:
        env = {**lynkr_env, "LYNKR_PLUGINS": "lynkr-provider-anthropic,lynkr-usage", "MODEL_PROVIDER": "anthropic",
               "ANTHROPIC_UPSTREAM_BASE_URL": fake.base_url, "ANTHROPIC_UPSTREAM_API_KEY": "sk-up",
               "RATE_LIMIT_REQUESTS_PER_MINUTE": "10"}
        async with serving(make_test_app(env)) as first, serving(make_test_app(env)) as second:
            answers = await asyncio.gather(post_all(first, helpers.ALICE, 25), post_all(second, helpers.ALICE, 25))
    statuses = [status for batch in answers for status, _, _ in batch]
    assert statuses.count(200) == 10 and statuses.count(429) == 40


async def test_the_sdk_reads_anthropics_rate_limit_headers(gateway, helpers):
    async with gateway(many_answers(), RATE_LIMIT_REQUESTS_PER_MINUTE="3",
                       RATE_LIMIT_TOKENS_PER_MINUTE="1000") as url:
        async with helpers.sdk(url) as client:
            raw = await client.messages.with_raw_response.create(**PROMPT)
            message = await raw.parse()
            headers = raw.headers
            await client.messages.create(**PROMPT)
            await client.messages.create(**PROMPT)
            with pytest.raises(anthropic.RateLimitError) as refused:
                await client.messages.create(**PROMPT)
    assert message.content[0].text == "ok"
    assert headers["anthropic-ratelimit-requests-limit"] == "3"
    assert headers["anthropic-ratelimit-requests-remaining"] == "2"
    reset = datetime.datetime.fromisoformat(headers["anthropic-ratelimit-requests-reset"])
    now = datetime.datetime.now(datetime.UTC)
    assert now < reset <= now + datetime.timedelta(seconds=61)
    assert headers["anthropic-ratelimit-tokens-limit"] == "1000"
    assert int(headers["anthropic-ratelimit-tokens-remaining"]) <= 1000
    datetime.datetime.fromisoformat(headers["anthropic-ratelimit-tokens-reset"])
    error = refused.value
    assert error.status_code == 429 and error.body["error"]["type"] == "rate_limit_error"
    assert int(error.response.headers["retry-after"]) >= 1
    assert error.response.headers["anthropic-ratelimit-requests-remaining"] == "0"


async def test_a_token_limit_refuses_once_the_window_holds_it(gateway, helpers):
    fake = many_answers({"input_tokens": 400, "output_tokens": 200})
    async with gateway(fake, RATE_LIMIT_TOKENS_PER_MINUTE="1000", RATE_LIMIT_OUTPUT_TOKENS_PER_MINUTE="5000") as url:
        async with helpers.sdk(url) as client:
            await client.messages.create(**PROMPT)
            await helpers.recorded(url, 1)
            raw = await client.messages.with_raw_response.create(**PROMPT)
            await helpers.recorded(url, 2)
            with pytest.raises(anthropic.RateLimitError) as refused:
                await client.messages.create(**PROMPT)
        async with helpers.sdk(url, helpers.BOB) as bob:
            await bob.messages.create(**PROMPT)  # another key has its own window
    assert raw.headers["anthropic-ratelimit-tokens-remaining"] == "400"
    assert raw.headers["anthropic-ratelimit-output-tokens-remaining"] == "4800"
    assert "1000 tokens per minute" in refused.value.body["error"]["message"]
    assert refused.value.response.headers["anthropic-ratelimit-tokens-remaining"] == "0"
    assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60


async def test_a_daily_token_budget_lasts_until_the_next_utc_day(gateway, helpers):
    async with gateway(many_answers({"input_tokens": 700, "output_tokens": 400}), BUDGET_TOKENS_PER_DAY="1000") as url:
        async with helpers.sdk(url) as client:
            await client.messages.create(**PROMPT)
            await helpers.recorded(url, 1)
            with pytest.raises(anthropic.RateLimitError) as refused:
                await client.messages.create(**PROMPT)
    now = datetime.datetime.now(datetime.UTC)
    midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
    assert "1000 tokens per day" in refused.value.body["error"]["message"]
    assert abs(int(refused.value.response.headers["retry-after"]) - (midnight - now).total_seconds()) < 5


async def test_a_monthly_cost_budget_uses_the_price_table(gateway, helpers, lynkr_env):
    prices = Path(lynkr_env["LYNKR_HOME"]) / "lynkr-usage" / "prices.toml"
    prices.parent.mkdir(parents=True)
    prices.write_text('[models."claude-sonnet-4-6"]\ninput = 1000.0\noutput = 0.0\n')  # $1 per 1000 tokens
    async with gateway(many_answers({"input_tokens": 1500, "output_tokens": 1}), BUDGET_COST_PER_MONTH="2") as url:
        async with helpers.sdk(url) as client:
            await client.messages.create(**PROMPT)  # $1.50
            await helpers.recorded(url, 1)
            await client.messages.create(**PROMPT)  # under $2 before it: let through, $3 after
            await helpers.recorded(url, 2)
            with pytest.raises(anthropic.RateLimitError) as refused:
                await client.messages.create(**PROMPT)
    assert "a budget of 2 USD per month" in refused.value.body["error"]["message"]
    assert int(refused.value.response.headers["retry-after"]) > 0


async def test_count_tokens_and_requests_without_limits_are_not_limited(gateway, helpers):
    async with gateway(many_answers(), RATE_LIMIT_REQUESTS_PER_MINUTE="1") as url:
        async with helpers.sdk(url) as client:
            for _ in range(3):
                await client.messages.count_tokens(model="claude-sonnet-4-6", messages=PROMPT["messages"])
            await client.messages.create(**PROMPT)
