"""The ledger on its own, with a clock the test moves: sliding windows that reopen,
limits per key from ``lynkr.toml``, the ledger shared by two ledgers (two workers), and
settings errors that name the setting."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import msgspec
import pytest
import structlog
from lynkr_usage.config import DB_NAME, PLUGIN_NAME, load_settings
from lynkr_usage.ledger import UsageLedger
from lynkr_usage.limits import day_start, month_start, next_day, next_month, rfc3339

from lynkr_core import (
    ConfigError,
    Exchange,
    ModelClient,
    RateLimited,
    RequestContext,
    Services,
    Settings,
    anthropic,
)

REQUEST = anthropic.decode_request(b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}')


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def context(client: str | None, purpose: str = "messages") -> RequestContext:
    return RequestContext(request_id="req_1", http=None, settings=Settings({}),  # type: ignore[arg-type]
                          log=structlog.get_logger("test"), client_id=client, purpose=purpose)


async def started(settings: Settings, clock: Clock) -> UsageLedger:
    ledger = UsageLedger(load_settings(settings), clock=clock)
    await ledger.start(Services(settings=settings, http=None, model=ModelClient(None)))  # type: ignore[arg-type]
    return ledger


async def admitted(ledger: UsageLedger, client: str | None, count: int) -> int:
    async def one() -> bool:
        try:
            await ledger.check_request(REQUEST, context(client))
        except RateLimited:
            return False
        return True

    return sum(await asyncio.gather(*(one() for _ in range(count))))


async def test_the_request_window_slides(lynkr_env):
    clock = Clock()
    ledger = await started(Settings({**lynkr_env, "RATE_LIMIT_REQUESTS_PER_MINUTE": "3"}), clock)
    try:
        assert await admitted(ledger, "key_a", 2) == 2
        clock.now += 30
        assert await admitted(ledger, "key_a", 5) == 1
        with pytest.raises(RateLimited) as refused:
            await ledger.check_request(REQUEST, context("key_a"))
        assert refused.value.retry_after == pytest.approx(30)  # the first two leave the window at +60
        assert refused.value.headers()["anthropic-ratelimit-requests-reset"] == rfc3339(clock.now + 60)
        clock.now += 30.5
        assert await admitted(ledger, "key_a", 5) == 2
        assert await admitted(ledger, None, 5) == 3  # without API keys: one "anonymous" client
    finally:
        await ledger.close()


async def test_limits_per_key_from_lynkr_toml(lynkr_env):
    toml = {"plugins": {"lynkr-usage": {"requests_per_minute": 2, "keys": {
        "key_bbbbbbbbbbbb": {"requests_per_minute": 4}, "key_cccccccccccc": {"requests_per_minute": 0}}}}}
    ledger = await started(Settings(lynkr_env, toml), Clock())
    try:
        assert await admitted(ledger, "key_aaaaaaaaaaaa", 10) == 2
        assert await admitted(ledger, "key_bbbbbbbbbbbb", 10) == 4
        assert await admitted(ledger, "key_cccccccccccc", 10) == 10  # 0: no limit for this key
    finally:
        await ledger.close()


async def test_two_ledgers_on_one_file_share_each_window(lynkr_env):
    settings = Settings({**lynkr_env, "RATE_LIMIT_REQUESTS_PER_MINUTE": "10"})
    clock = Clock()
    first, second = await started(settings, clock), await started(settings, clock)
    try:
        counts = await asyncio.gather(admitted(first, "key_a", 25), admitted(second, "key_a", 25))
        assert sum(counts) == 10
    finally:
        await first.close()
        await second.close()


def finished_exchange(client: str) -> Exchange:
    """An exchange that went upstream once and got 7 tokens in, 2 out."""
    record = context(client)
    step = record.begin_step(REQUEST)
    record.begin_attempt("anthropic", "m")
    step.response = anthropic.decode_response(msgspec.json.encode({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 7, "output_tokens": 2}}))
    return Exchange(REQUEST, record, streamed=False, duration=0.01)


async def test_a_busy_gateway_loses_no_rows_while_the_writer_keeps_up(lynkr_env):
    # 5,000 exchanges within the flush interval, five times USAGE_QUEUE_SIZE: batches go to
    # the writer as they fill instead of waiting out USAGE_FLUSH_SECONDS, so the queue
    # never holds more than a few of them (before, the batch waiting for the timer held
    # the whole queue and 4,000 rows were dropped while the writer sat idle).
    settings = Settings({**lynkr_env, "USAGE_FLUSH_SECONDS": "60", "USAGE_QUEUE_SIZE": "1000"})
    ledger = await started(settings, Clock())
    try:
        for turn in range(5000):
            ledger.exchange_finished(finished_exchange("key_a"))
            if turn % 100 == 99:
                await asyncio.sleep(0.001)  # the event loop turns, as it does between requests
        await ledger.idle()
        assert ledger.dropped == 0
    finally:
        await ledger.close()
    with sqlite3.connect(Path(lynkr_env["LYNKR_HOME"]) / PLUGIN_NAME / DB_NAME) as db:
        assert db.execute("SELECT count(*), sum(input), sum(output) FROM usage").fetchone() == (5000, 35000, 10000)


async def test_count_tokens_is_never_counted(lynkr_env):
    ledger = await started(Settings({**lynkr_env, "RATE_LIMIT_REQUESTS_PER_MINUTE": "1"}), Clock())
    try:
        for _ in range(3):
            await ledger.check_request(REQUEST, context("key_a", purpose="count_tokens"))
        assert await admitted(ledger, "key_a", 3) == 1
    finally:
        await ledger.close()


def test_budget_periods_end_at_utc_boundaries():
    december = 1_796_083_200.0  # 2026-12-01T00:00:00Z
    assert rfc3339(december) == "2026-12-01T00:00:00Z"
    assert rfc3339(next_day(december + 5)) == "2026-12-02T00:00:00Z"
    assert rfc3339(day_start(december + 86_400 * 3.5)) == "2026-12-04T00:00:00Z"
    assert rfc3339(month_start(december + 86_400 * 30.5)) == "2026-12-01T00:00:00Z"
    assert rfc3339(next_month(december + 86_400 * 30.5)) == "2027-01-01T00:00:00Z"


@pytest.mark.parametrize(("toml", "hint"), [
    ({"keys": {"key_a": {"requests_per_hour": 1}}}, "keys.key_a: unknown limits ['requests_per_hour']"),
    ({"keys": {"key_a": {"requests_per_minute": -1}}}, "keys.key_a"),
    ({"cost_per_month": "lots"}, "cost_per_month"),
])
def test_invalid_limits_name_the_setting(toml, hint):
    with pytest.raises(ConfigError, match=hint.replace("[", r"\[").replace("]", r"\]")):
        UsageLedger(load_settings(Settings({}, {"plugins": {"lynkr-usage": toml}})))


def test_an_invalid_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="RATE_LIMIT_REQUESTS_PER_MINUTE"):
        load_settings(Settings({"RATE_LIMIT_REQUESTS_PER_MINUTE": "ten"}))
