"""Observers whose ``exchange_finished`` is a plain function: with nothing to await (no
hook implementation, no async observer, no session store whose ``record`` is a
coroutine) they are called from the event loop without a task made per exchange, the
session store first; beside an async observer or store they run in its task, in hook
order; a failing one is logged and the others still see the exchange."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from lynkr_core import ExchangeObserver
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.faults import eventually
from lynkr_core.testing.plugins import RecordingSessions, inline_plugin

ASK = [{"role": "user", "content": "hello"}]


class PlainTally(ExchangeObserver):
    """Counts exchanges, and notes whether each came in a task."""

    def __init__(self, name: str, seen: list[tuple[str, bool, bool]], fail: bool = False) -> None:
        self.name = name
        self.seen = seen
        self.fail = fail

    def exchange_finished(self, exchange):
        self.seen.append((self.name, exchange.streamed, asyncio.current_task() is not None))
        if self.fail:
            raise RuntimeError("tally bug")


class AsyncTally(PlainTally):
    async def exchange_finished(self, exchange):
        super().exchange_finished(exchange)


class PlainSessions(RecordingSessions):
    """A session store whose ``record`` notes the exchange (and whether in a task)."""

    def __init__(self, seen: list[tuple[str, bool, bool]]) -> None:
        super().__init__()
        self.seen = seen

    def record(self, exchange):
        self.seen.append(("store", exchange.streamed, asyncio.current_task() is not None))


class AsyncSessions(PlainSessions):
    async def record(self, exchange):
        super().record(exchange)


async def ask_twice(client) -> None:
    await client.messages.create(model="claude-x", max_tokens=50, messages=ASK)
    async with client.messages.stream(model="claude-x", max_tokens=50, messages=ASK) as stream:
        await stream.get_final_message()


async def test_plain_observers_run_without_a_task_and_a_failing_one_spares_the_others(anthropic_client):
    seen: list[tuple[str, bool, bool]] = []
    observers = [PlainTally("first", seen, fail=True), PlainTally("second", seen)]
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key="upstream-key")
    client = await anthropic_client(fake, ("tallies", inline_plugin(observers=observers)))
    with capture_logs() as logs:
        await ask_twice(client)
        assert await eventually(lambda: len(seen) >= 4, within=5)

    assert sorted(seen) == [("first", False, False), ("first", True, False),
                            ("second", False, False), ("second", True, False)]
    failures = [entry for entry in logs if entry["event"] == "observer_failed"]
    assert [entry["observer"] for entry in failures] == ["first", "first"]


@pytest.mark.parametrize("async_first", [True, False])
async def test_beside_an_async_observer_every_observer_runs_in_its_task_in_order(anthropic_client, async_first):
    seen: list[tuple[str, bool, bool]] = []
    pair = [AsyncTally("async", seen), PlainTally("plain", seen)]
    observers = pair if async_first else pair[::-1]
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key="upstream-key")
    client = await anthropic_client(fake, ("tallies", inline_plugin(observers=observers)))
    await ask_twice(client)
    assert await eventually(lambda: len(seen) >= 4, within=5)

    names = [observer.name for observer in observers]
    assert seen == [(names[0], False, True), (names[1], False, True), (names[0], True, True), (names[1], True, True)]


@pytest.mark.parametrize("store_kind", [PlainSessions, AsyncSessions])
async def test_a_plain_session_store_needs_no_task_an_async_one_gets_one_and_it_comes_first(
        anthropic_client, store_kind):
    # every bundled store and observer only queues: a full install makes no task per exchange
    seen: list[tuple[str, bool, bool]] = []
    plugin = inline_plugin(stores=[store_kind(seen)], observers=[PlainTally("plain", seen)])
    fake = FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key="upstream-key")
    client = await anthropic_client(fake, ("kept", plugin), LYNKR_DISABLE_PLUGINS="lynkr-sessions")
    await ask_twice(client)
    assert await eventually(lambda: len(seen) >= 4, within=5)

    in_task = store_kind is AsyncSessions
    assert seen == [("store", False, in_task), ("plain", False, in_task),
                    ("store", True, in_task), ("plain", True, in_task)]
