"""The circuit breaker per route target: the state machine on a fake clock, then through a
real lynkr in front of a scripted upstream, with the anthropic SDK as the client.

The route sends ``claude-*`` to the OpenAI-format provider (target ``openai``) and falls
back to the Anthropic one (target ``anthropic:backup-model``); one `FaultServer` serves
both, and its script says, per target, what each request gets. The cool-down is a minute
and the breakers' clock is a fake one the test moves: nothing waits, nothing is timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import anthropic
import pytest

from lynkr_core import runfiles
from lynkr_core.breaker import CircuitBreakers, CircuitOpen
from lynkr_core.config import Settings
from lynkr_core.errors import UpstreamError
from lynkr_core.testing import cli as testing_cli
from lynkr_core.testing.faults import Answer, Fault, FaultServer, HttpError, self_signed_tls
from lynkr_core.testing.gateway import quick_retries
from lynkr_core.testing.plugins import inline_plugin
from lynkr_core.testing.server import make_test_app, serving, serving_in_thread

lynkr_command = testing_cli.lynkr_command  # the installed command, as a fixture

MODEL = "claude-breaker-test"
FIRST = "openai"
SECOND = "anthropic:backup-model"
BACKUP_ANSWER = "answered by the fallback"
HELLO = [{"role": "user", "content": "hello"}]


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --------------------------------------------------------------------------- the state machine


def test_consecutive_failures_open_the_breaker_and_it_refuses_during_the_cooldown():
    clock = FakeClock()
    breakers = CircuitBreakers(failures=3, cooldown=60, clock=clock)
    for _ in range(2):
        breakers.admit("t")
        breakers.failed("t")
    breakers.admit("t")  # two failures: still closed
    breakers.failed("t")
    with pytest.raises(CircuitOpen) as refused:
        breakers.admit("t")
    assert (refused.value.status, refused.value.error_type, refused.value.retry_after) == (529, "overloaded_error", 60)
    clock.advance(59.5)
    with pytest.raises(CircuitOpen) as refused:
        breakers.admit("t")
    assert refused.value.retry_after == 1  # whole seconds, at least 1
    [state] = breakers.states()
    assert (state.target, state.state, state.failures, state.opened, state.skipped) == ("t", "open", 3, 1, 2)


def test_after_the_cooldown_one_probe_goes_through_and_its_outcome_decides():
    clock = FakeClock()
    breakers = CircuitBreakers(failures=1, cooldown=10, clock=clock)
    breakers.admit("t")
    breakers.failed("t")
    clock.advance(10)
    breakers.admit("t")  # the probe
    with pytest.raises(CircuitOpen):
        breakers.admit("t")  # a second request while the probe runs
    assert breakers.states()[0].state == "half_open"
    breakers.failed("t")  # the probe failed: open for another cool-down
    assert breakers.states()[0].state == "open"
    with pytest.raises(CircuitOpen):
        breakers.admit("t")
    clock.advance(10)
    breakers.admit("t")
    breakers.succeeded("t")  # the probe succeeded: closed
    breakers.admit("t")
    breakers.admit("t")
    assert [(s.state, s.failures, s.opened) for s in breakers.states()] == [("closed", 0, 2)]


def test_a_probe_whose_client_left_frees_its_place():
    clock = FakeClock()
    breakers = CircuitBreakers(failures=1, cooldown=10, clock=clock)
    breakers.admit("t")
    breakers.failed("t")
    clock.advance(10)
    breakers.admit("t")
    breakers.abandoned("t")
    breakers.admit("t")  # the next request is the probe


def test_client_errors_do_not_count_and_reset_the_count():
    breakers = CircuitBreakers(failures=2, cooldown=10, clock=FakeClock())
    for error in [UpstreamError("boom", status=500), UpstreamError("bad", status=400),
                  UpstreamError("boom", status=503), UpstreamError("slow down", status=429),
                  UpstreamError("boom", status=529)]:
        with contextlib.suppress(UpstreamError), breakers.guard("t"):
            raise error
    assert [(s.state, s.failures) for s in breakers.states()] == [("closed", 1)]


def test_zero_failures_turns_breakers_off():
    breakers = CircuitBreakers(failures=0, cooldown=10, clock=FakeClock())
    for _ in range(10):
        with contextlib.suppress(UpstreamError), breakers.guard("t"):
            raise UpstreamError("boom", status=500)
    assert breakers.states() == []


# --------------------------------------------------------------------------- through lynkr


@dataclass
class Script:
    """What each target's requests get, changed by the test as it goes."""

    first: Fault = field(default_factory=lambda: HttpError(500, "the first target is down"))
    second: Fault = field(default_factory=lambda: Answer(BACKUP_ANSWER))

    def __call__(self, body: Any) -> Fault:
        return self.second if body["model"] == "backup-model" else self.first


def lynkr_env(first_url: str, second_url: str, **extra: str) -> dict[str, str]:
    """``claude-*`` to the OpenAI-format provider at ``first_url``, falling back to the
    Anthropic one at ``second_url``; two failures open a breaker for a minute."""
    return {
        "LYNKR_PLUGINS": "lynkr-provider-openai,lynkr-provider-anthropic",
        "TOOL_EXECUTION_MODE": "client",
        "MODEL_PROVIDER": "openai",
        "OPENAI_ENDPOINT": first_url + "/v1/chat/completions",
        "OPENAI_MODEL": "gpt-4o",
        "ANTHROPIC_UPSTREAM_BASE_URL": second_url,
        "LYNKR_MODEL_ROUTES": "claude-*=openai",
        "FALLBACK_PROVIDER": SECOND,
        "LYNKR_CIRCUIT_BREAKER_FAILURES": "2",
        "LYNKR_CIRCUIT_BREAKER_COOLDOWN_SECONDS": "60",
        **quick_retries(0),
        **extra,
    }


@dataclass
class Running:
    """lynkr, its breakers' fake clock, an SDK client, the upstream and the exchanges seen
    (complete once lynkr has stopped: they are handed on off the request path)."""

    url: str
    clock: FakeClock
    sdk: anthropic.AsyncAnthropic
    upstream: FaultServer
    exchanges: list[Any]

    async def ask(self, stream: bool = False) -> str:
        """One request; the text of the answer."""
        if stream:
            async with self.sdk.messages.stream(model=MODEL, max_tokens=20, messages=HELLO) as answer:
                message = await answer.get_final_message()
        else:
            message = await self.sdk.messages.create(model=MODEL, max_tokens=20, messages=HELLO)
        return message.content[0].text

    def sent(self) -> tuple[int, int]:
        """Requests the upstream got: for the first target, for the second."""
        models = [record.json["model"] for record in self.upstream.requests]
        return len(models) - models.count("backup-model"), models.count("backup-model")

    async def circuits(self) -> dict[str, dict[str, Any]]:
        """``GET /v1/health/circuits``, by target."""
        async with aiohttp.ClientSession() as http, http.get(self.url + "/v1/health/circuits") as response:
            assert response.status == 200
            return {circuit["target"]: circuit for circuit in (await response.json())["circuits"]}


def recorder(exchanges: list[Any]) -> Any:
    """A plugin that keeps every finished exchange."""

    def lynkr_exchange_finished(exchange: Any, services: Any) -> None:
        exchanges.append(exchange)

    return inline_plugin(hooks={"lynkr_exchange_finished": lynkr_exchange_finished})


@contextlib.asynccontextmanager
async def running(script: Script, **extra: str) -> AsyncIterator[Running]:
    async with FaultServer(script) as upstream:
        exchanges: list[Any] = []
        env = lynkr_env(upstream.base_url, upstream.base_url, **extra)
        env["LYNKR_PLUGINS"] += ",recorder"
        app = make_test_app(env, plugins=[("recorder", recorder(exchanges))])
        clock = FakeClock()
        app.state.pipeline.calls.breakers.clock = clock
        async with serving(app) as url, anthropic.AsyncAnthropic(
            base_url=url, api_key="unused", max_retries=0
        ) as sdk:
            yield Running(url, clock, sdk, upstream, exchanges)


async def test_a_failing_target_is_skipped_and_failover_goes_to_the_next_at_once():
    async with running(Script()) as lynkr:
        for stream in (False, True):  # two failures open the first target's breaker
            assert await lynkr.ask(stream) == BACKUP_ANSWER
        assert lynkr.sent() == (2, 2)
        for stream in (False, True, False):
            assert await lynkr.ask(stream) == BACKUP_ANSWER
        assert lynkr.sent() == (2, 5)  # the first target saw nothing more
        circuits = await lynkr.circuits()
    assert (circuits[FIRST]["state"], circuits[FIRST]["skipped"], circuits[FIRST]["retry_in"]) == ("open", 3, 60)
    assert circuits[SECOND]["state"] == "closed"
    skipped = lynkr.exchanges[-1].attempts[0]
    assert (skipped.provider, skipped.status, skipped.error_type, skipped.skipped) == (
        "openai", 529, "overloaded_error", "circuit_open")
    assert [attempt.skipped for attempt in lynkr.exchanges[0].attempts] == [None, None]


async def test_the_half_open_probe_closes_the_breaker_when_it_succeeds():
    script = Script()
    async with running(script) as lynkr:
        for _ in range(2):
            await lynkr.ask()
        lynkr.clock.advance(60)
        script.first = Answer("the first target is back")
        assert await lynkr.ask(stream=True) == "the first target is back"  # the probe
        assert await lynkr.ask() == "the first target is back"
        assert lynkr.sent() == (4, 2)
        assert (await lynkr.circuits())[FIRST]["state"] == "closed"


async def test_the_half_open_probe_reopens_the_breaker_when_it_fails():
    async with running(Script()) as lynkr:
        for _ in range(2):
            await lynkr.ask()
        lynkr.clock.advance(60)
        assert await lynkr.ask() == BACKUP_ANSWER  # the probe failed; the same request failed over
        assert lynkr.sent() == (3, 3)
        assert await lynkr.ask(stream=True) == BACKUP_ANSWER
        assert lynkr.sent() == (3, 4)  # open again: skipped
        circuit = (await lynkr.circuits())[FIRST]
    assert (circuit["state"], circuit["opened"]) == ("open", 2)


async def test_client_errors_do_not_trip_the_breaker():
    async with running(Script(first=HttpError(400, "your request is wrong"))) as lynkr:
        for _ in range(5):
            with pytest.raises(anthropic.BadRequestError, match="your request is wrong"):
                await lynkr.ask()
        assert lynkr.sent() == (5, 0)
        assert (await lynkr.circuits())[FIRST]["state"] == "closed"


async def test_when_every_target_is_open_the_client_gets_529_overloaded_at_once():
    script = Script(second=HttpError(503, "the second target is down too"))
    async with running(script) as lynkr:
        for _ in range(2):
            with pytest.raises(anthropic.InternalServerError):
                await lynkr.ask()
        assert lynkr.sent() == (2, 2)
        with pytest.raises(anthropic.OverloadedError) as refused:
            await lynkr.ask()
        assert lynkr.sent() == (2, 2)  # nothing went upstream
        assert refused.value.status_code == 529
        assert refused.value.body["error"]["type"] == "overloaded_error"
        assert "circuit open" in refused.value.body["error"]["message"]
        assert refused.value.response.headers["retry-after"] == "60"
        async with aiohttp.ClientSession() as http, http.post(
            lynkr.url + "/v1/messages", json={"model": MODEL, "max_tokens": 20, "messages": HELLO, "stream": True}
        ) as response:
            assert response.status == 529
            assert json.loads(await response.read())["error"]["type"] == "overloaded_error"


async def test_an_untrusted_certificate_is_not_retried_on_the_same_target(tmp_path):
    async with FaultServer(tls=self_signed_tls(tmp_path)) as untrusted, FaultServer(
        Script(second=Answer(BACKUP_ANSWER))
    ) as backup:
        app = make_test_app(lynkr_env(untrusted.base_url, backup.base_url, **quick_retries(2)))
        async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            message = await sdk.messages.create(model=MODEL, max_tokens=20, messages=HELLO)
    assert message.content[0].text == BACKUP_ANSWER
    assert (untrusted.accepted, untrusted.requests) == (1, [])  # one handshake, no retry
    assert len(backup.requests) == 1


async def test_lynkr_without_a_fallback_passes_the_certificate_error_on_after_one_try(tmp_path):
    async with FaultServer(tls=self_signed_tls(tmp_path)) as untrusted:
        app = make_test_app(lynkr_env(untrusted.base_url, untrusted.base_url, FALLBACK_PROVIDER="",
                                      **quick_retries(2)))
        async with serving(app) as url, anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as sdk:
            with pytest.raises(anthropic.APIStatusError, match="certificate verify failed") as failed:
                await sdk.messages.create(model=MODEL, max_tokens=20, messages=HELLO)
    assert failed.value.status_code == 502
    assert untrusted.accepted == 1


# --------------------------------------------------------------------------- lynkr doctor


@contextlib.contextmanager
def environment(values: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Settings]:
    """The process environment set to ``values`` (lynkr's own names only), in an empty
    directory: what ``lynkr doctor`` will load."""
    for name in list(os.environ):
        if name.startswith(("LYNKR_", "MODEL_", "OPENAI_", "ANTHROPIC_", "FALLBACK_", "TOOL_")):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    yield Settings.load()


def test_doctor_shows_the_running_servers_breakers(lynkr_command, monkeypatch, tmp_path):
    upstream = FaultServer(Script())
    base = upstream.run_in_thread()
    try:
        env = lynkr_env(base, base, LYNKR_HOME=str(tmp_path / "home"))
        with environment(env, monkeypatch, tmp_path) as settings:
            app = make_test_app(env)
            with serving_in_thread(app) as url:
                port = int(url.rsplit(":", 1)[1])
                with runfiles.registered(settings, host="127.0.0.1", port=port):
                    _, before = lynkr_command("doctor")
                    sdk = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
                    for _ in range(3):
                        sdk.messages.create(model=MODEL, max_tokens=20, messages=HELLO)
                    _, after = lynkr_command("doctor")
                _, stopped = lynkr_command("doctor")
    finally:
        upstream.stop_thread()
    assert "circuit breakers: 2 failures in a row skip a target for 60 s" in before
    assert f"{url}: no upstream called yet" in before
    assert re.search(rf"{url}: openai: OPEN, retry in \d+ s \(opened 1x, 1 skipped\)", after), after
    assert f"{url}: anthropic:backup-model: closed (opened 0x, 0 skipped)" in after
    assert "no running server for this configuration" in stopped
