"""Registered objects start in the lifespan (stores first, then in the order requests meet
them) and close in reverse; a failing start stops the server naming the plugin; ``start``
receives the services: data directory, session store, a model client."""

from __future__ import annotations

import asyncio
import stat
import time

import anthropic
import msgspec
import pytest

from lynkr_core import (
    ExchangeObserver,
    Interceptor,
    RequestPreparer,
    SessionStore,
    SessionSummary,
    StoredExchange,
    ToolSource,
)
from lynkr_core.lifecycle import Lifecycle, Managed
from lynkr_core.testing.fake_anthropic import FakeAnthropic, Reply
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import serving
from lynkr_core.wire.anthropic import decode_request

UPSTREAM_KEY = "upstream-key"
ASK = [{"role": "user", "content": "hi"}]


class Recorder:
    """start/close write to a shared journal."""

    def __init__(self, name: str, journal: list[str], fail: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail = fail
        self.services = None

    async def start(self, services) -> None:
        if self.fail:
            raise OSError("port in use")
        self.services = services
        self.journal.append(f"start {self.name}")

    def close(self) -> None:  # a plain close is fine too
        self.journal.append(f"close {self.name}")


class Preparer(Recorder, RequestPreparer):
    async def prepare(self, request, context):
        return None


class Wrapper(Recorder, Interceptor):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    async def complete(self, request, context, call_next):
        self.calls += 1
        return await call_next(request)


class Source(Recorder, ToolSource):
    async def list_tools(self):
        return []


class MemorySessions(Recorder, SessionStore):
    """A session store in memory, as a plugin would implement the contract."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept: dict[str, list[StoredExchange]] = {}

    async def record(self, exchange) -> None:
        if exchange.session_id is None:
            return
        self.kept.setdefault(exchange.session_id, []).append(StoredExchange(
            request_id=exchange.context.request_id, session_id=exchange.session_id, finished=time.time(),
            streamed=exchange.streamed, status=exchange.status, provider=exchange.context.provider_name,
            model=exchange.request.model, usage=exchange.usage(), duration=exchange.duration,
            request=exchange.request, response=exchange.response, steps=exchange.steps,
        ))

    async def sessions(self, *, limit: int = 50):
        return [SessionSummary(id=key, started=kept[0].finished, updated=kept[-1].finished, exchanges=len(kept))
                for key, kept in list(self.kept.items())[:limit]]

    async def exchanges(self, session_id, *, limit=None):
        kept = self.kept.get(session_id, [])
        return kept[-limit:] if limit else list(kept)

    async def delete(self, session_id):
        return self.kept.pop(session_id, None) is not None


async def test_objects_start_stores_first_in_request_order_and_close_in_reverse(after_test, anthropic_app, tmp_path):
    journal: list[str] = []
    fake = await after_test.enter_async_context(FakeAnthropic([Reply.text("ok")], api_key=UPSTREAM_KEY))

    def startup(app, services):
        journal.append("hook startup")

    def shutdown(app):
        journal.append("hook shutdown")

    plugins = [
        ("one", inline_plugin(preparers=[Preparer("prep-1", journal)], interceptors=[Wrapper("wrap-1", journal)],
                              hooks={"lynkr_startup": startup, "lynkr_shutdown": shutdown})),
        ("two", inline_plugin(stores=[MemorySessions("sessions", journal)], tool_sources=[Source("src", journal)],
                              preparers=[Preparer("prep-2", journal)])),
    ]
    async with serving(anthropic_app(fake, *plugins, LYNKR_HOME=str(tmp_path / "home"))):
        assert journal == ["start sessions", "start prep-2", "start prep-1", "start src", "start wrap-1",
                           "hook startup"]
    assert journal[6:] == ["hook shutdown", "close wrap-1", "close src", "close prep-1", "close prep-2",
                           "close sessions"]


async def test_a_failing_start_stops_the_server_naming_the_plugin_and_closes_what_started(after_test, anthropic_app):
    journal: list[str] = []
    fake = await after_test.enter_async_context(FakeAnthropic([], api_key=UPSTREAM_KEY))
    plugins = [
        ("lynkr-good", inline_plugin(preparers=[Preparer("fine", journal)])),
        ("lynkr-bad", inline_plugin(interceptors=[Wrapper("fragile", journal, fail=True)])),
    ]
    with pytest.raises(BaseException) as failure:
        async with serving(anthropic_app(fake, *plugins)):
            pass
    assert "lynkr-bad: interceptor 'fragile' failed to start: OSError: port in use" in _messages(failure.value)
    assert journal == ["start fine", "close fine"]


def _messages(error: BaseException) -> str:
    """Every message in an exception and its causes and groups."""
    seen, stack = [], [error]
    while stack:
        current = stack.pop()
        seen.append(str(current))
        stack.extend(getattr(current, "exceptions", ()))
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return " | ".join(seen)


async def test_services_give_a_private_data_directory_the_session_store_and_a_model_client(after_test, anthropic_app, tmp_path):
    journal: list[str] = []
    store = MemorySessions("sessions", journal)
    wrapper = Wrapper("wrap", journal)
    user = Preparer("user", journal)
    exchanges: list = []

    async def finished(exchange, services):
        assert services.sessions is store
        exchanges.append(exchange)

    fake = await after_test.enter_async_context(FakeAnthropic(
        [Reply.text("from the client's request"), Reply.text("a reflection")], api_key=UPSTREAM_KEY))
    plugins = [("mine", inline_plugin(stores=[store], interceptors=[wrapper], preparers=[user],
                                      hooks={"lynkr_exchange_finished": finished}))]
    home = tmp_path / "lynkr-home"
    async with serving(anthropic_app(fake, *plugins, LYNKR_HOME=str(home))) as url:
        services = user.services
        assert services.sessions is store
        directory = services.data_dir("lynkr-memory")
        assert directory == home / "lynkr-memory" and directory.is_dir()
        assert stat.S_IMODE(home.stat().st_mode) == 0o700 and stat.S_IMODE(directory.stat().st_mode) == 0o700
        with pytest.raises(ValueError, match="outside LYNKR_HOME"):
            services.data_dir("..", "escape")

        async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0,
                                            default_headers={"x-claude-code-session-id": "s1"}) as client:
            await client.messages.create(model="m", max_tokens=10, messages=ASK)
        for _ in range(100):
            if exchanges:
                break
            await asyncio.sleep(0.01)

        own = decode_request(msgspec.json.encode(
            {"model": "m", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "reflect"}]}))
        reflection = await services.model.complete(own, purpose="reflector")
        await asyncio.sleep(0.05)

    assert reflection.text() == "a reflection"
    assert fake.message_requests[1].json["messages"][0]["content"] == "reflect"
    assert fake.message_requests[1].json.get("stream") in (None, False)
    assert wrapper.calls == 1 and len(exchanges) == 1  # the plugin's own call skips both
    (kept,) = await store.exchanges("s1")  # the core recorded it: the hook above did not
    assert kept.response.text() == "from the client's request" and kept.steps[0].attempts[0].status == 200
    assert [s.id for s in await store.sessions()] == ["s1"]


def test_a_second_session_store_is_refused_naming_both_plugins():
    from lynkr_core.config import Settings
    from lynkr_core.plugins import make_plugin_manager
    from lynkr_core.registered import Registered

    settings = Settings({"MODEL_PROVIDER": "echo"})
    pm = make_plugin_manager(settings, load_entry_points=False, plugins=[
        ("first", inline_plugin(stores=[MemorySessions("a", [])])),
        ("second", inline_plugin(stores=[MemorySessions("b", [])])),
        ("third", inline_plugin(stores=[object()])),
    ])
    registered = Registered(settings, pm)
    assert registered.stores.owner("sessions") == "second"  # called first: registered last
    assert pm.statuses["first"].reason.endswith("store 'sessions' already registered by second")
    assert "implements no store contract" in pm.statuses["third"].reason


class Watcher(Recorder, ExchangeObserver):
    """An observer that records what it saw (and can be told to fail)."""

    def __init__(self, *args, broken: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.broken = broken
        self.seen: list[str | None] = []

    async def exchange_finished(self, exchange) -> None:
        if self.broken:
            raise RuntimeError("observer bug")
        self.seen.append(exchange.session_id)


class LearningPreparer(Watcher, RequestPreparer):
    """One object as a preparer and an observer, as a reflector is."""

    async def prepare(self, request, context):
        return None


async def test_observers_see_every_exchange_and_a_failing_one_stops_no_other(after_test, anthropic_app):
    journal: list[str] = []
    broken, plain, both = Watcher("broken", journal, broken=True), Watcher("plain", journal), \
        LearningPreparer("both", journal)
    fake = await after_test.enter_async_context(
        FakeAnthropic([Reply.text("one"), Reply.text("two")], api_key=UPSTREAM_KEY))
    plugins = [("mine", inline_plugin(observers=[broken, plain], preparers=[both]))]
    async with serving(anthropic_app(fake, *plugins)) as url:
        async with anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0,
                                            default_headers={"x-claude-code-session-id": "s9"}) as client:
            await client.messages.create(model="m", max_tokens=10, messages=ASK)
            async with client.messages.stream(model="m", max_tokens=10, messages=ASK) as stream:
                await stream.get_final_message()
    assert plain.seen == both.seen == ["s9", "s9"]
    assert journal.count("start both") == 1 and journal.count("close both") == 1


async def test_a_close_that_hangs_is_left_behind_and_the_others_still_close():
    journal: list[str] = []

    class Stuck:
        async def close(self) -> None:
            journal.append("stuck close begins")
            await asyncio.Event().wait()

    class Quick:
        def close(self) -> None:
            journal.append("quick closed")

    lifecycle = Lifecycle([Managed("p1", "store", "quick", Quick()), Managed("p2", "tool", "stuck", Stuck())],
                          close_timeout=0.05)
    await lifecycle.start(None)  # type: ignore[arg-type]  (neither has a start)
    await asyncio.wait_for(lifecycle.close(), timeout=30)
    assert journal == ["stuck close begins", "quick closed"]
