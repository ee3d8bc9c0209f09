"""Upstream faults: every kind of failing upstream, through lynkr, as one table.

Each fault of `lynkr_core.testing.faults` is served to lynkr's OpenAI-compatible provider
(``MODEL_PROVIDER=openai``) and to its Anthropic one. Per case, four requests run at once:
JSON and stream, each with raw aiohttp and with the official ``anthropic`` SDK. Checked:
what each client receives (an Anthropic error with the right status, or a well-formed
event stream that ends with an ``error`` event), how often lynkr tried the upstream
(``LYNKR_UPSTREAM_RETRIES=1``: a fault before the answer started is tried twice, one
after it once), that timeouts are honoured, that nothing leaks (lynkr's connection pool
has nothing in use, the fault server sees every connection closed that lynkr does not
keep idle, no asyncio task is left over) and that lynkr keeps serving. Then upstreams
that never answer (connection refused, DNS failure, TLS error, connect timeout), and
fallback to the second target of a route. The providers' own suites
(``plugins/*/tests``) check each one's error formats; this is the one table of faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import anthropic
import pytest
from structlog.testing import capture_logs

from lynkr_core.testing.faults import (
    INVALID_HOST,
    Answer,
    BadChunk,
    Blackhole,
    CutStream,
    ErrorIn200,
    Fault,
    FaultServer,
    HeadersThenStall,
    HttpError,
    Reset,
    Silent,
    StallMidStream,
    closed_port,
    eventually,
    pool_state,
    self_signed_tls,
)
from lynkr_core.testing.gateway import quick_retries, sse_events
from lynkr_core.testing.server import make_test_app, serving, serving_in_thread

WIRES = ("openai", "anthropic")
SHORT = 0.5
"""The upstream timeout of the cases that wait for one (seconds). lynkr, the clients and the
fault server share one event loop: when the loop is held up for longer than this (a loaded
2-core CI machine, at 0.2 s), an attempt can time out and close its connection before the
fault server has read the request, and the server never counts it."""
LONG = 5.0
"""The upstream timeout of the cases that must not wait for one."""
MODEL = "claude-fault-test"
HEALTHY = "health check"
"""Requests that say this get a complete answer, whatever the fault of the test."""
CLIENT_TIMEOUT = 15.0
"""How long a client waits for lynkr: a hang fails the test instead of stalling the run."""
MAX_BODY = 1_000_000
"""More than this from lynkr is a runaway answer (pings in a loop, say): the test fails."""


# --------------------------------------------------------------------------- lynkr


def lynkr_env(wire: str, base_url: str, *, timeout: float = LONG, **extra: str) -> dict[str, str]:
    """lynkr with ``wire``'s provider at ``base_url``, one retry 10-50 ms later."""
    return {
        "LYNKR_PLUGINS": "lynkr-provider-openai,lynkr-provider-anthropic",
        "TOOL_EXECUTION_MODE": "client",
        "MODEL_PROVIDER": wire,
        "OPENAI_ENDPOINT": base_url + "/v1/chat/completions",
        "OPENAI_MODEL": "gpt-4o",
        "ANTHROPIC_UPSTREAM_BASE_URL": base_url,
        "LYNKR_UPSTREAM_TIMEOUT_SECONDS": str(timeout),
        "LYNKR_UPSTREAM_CONNECT_TIMEOUT_SECONDS": str(timeout),
        "LYNKR_CIRCUIT_BREAKER_FAILURES": "0",  # attempts are counted here; tests/test_circuit_breaker.py
        **quick_retries(1),
        **extra,
    }


#: Hypercorn's tasks of a client connection. Once the client has gone they wait out the
#: connection's keep-alive timeout (5 s) before they end (``TCPServer.run`` leaves its task
#: group only when the idle timer does), so they are not lynkr's leak. A request lynkr
#: never finished would still show: as its ASGI task, ``task_group._handle``.
HYPERCORN_CONNECTION = {
    "worker_serve.<locals>._server_callback",
    "TCPServer._idle_timeout",
    "EventWrapper.wait",
}


def _plumbing(task: asyncio.Task[Any]) -> bool:
    """A task of Hypercorn's connection plumbing, or of the fault server (aiohttp's
    ``RequestHandler``: its connections are checked on their own)."""
    name = task.get_coro().__qualname__
    return name in HYPERCORN_CONNECTION or name.startswith("RequestHandler.")


@dataclass
class Lynkr:
    """A running lynkr: its app, URL, and the asyncio tasks that existed once it was up."""

    app: Any
    url: str
    tasks_before: set[asyncio.Task[Any]]

    @property
    def http(self) -> aiohttp.ClientSession:
        """lynkr's one upstream client session."""
        return self.app.state.pipeline.http

    def leftover_tasks(self) -> list[asyncio.Task[Any]]:
        """Tasks that were not there before, plumbing aside."""
        return [
            task
            for task in asyncio.all_tasks()
            if task not in self.tasks_before and task is not asyncio.current_task() and not _plumbing(task)
        ]

    async def assert_no_leaks(self, upstream: FaultServer | None = None) -> None:
        """No connection in use, the upstream sees only lynkr's idle connections open, and
        no task is left over (each polled for up to 3 s: closing takes a loop turn or two)."""
        assert await eventually(lambda: pool_state(self.http).acquired == 0), pool_state(self.http)
        if upstream is not None:
            assert await eventually(
                lambda: upstream.open_connections == pool_state(self.http).idle
            ), (upstream.open_connections, pool_state(self.http))
        assert await eventually(lambda: not self.leftover_tasks()), self.leftover_tasks()

    async def assert_keeps_serving(self) -> None:
        """A request that says `HEALTHY` is answered in full, as JSON and as a stream."""
        whole, streamed = await asyncio.gather(post(self.url, False, HEALTHY), post(self.url, True, HEALTHY))
        assert whole.status == 200 and json.loads(whole.body)["content"][0]["text"], whole.body
        assert streamed.status == 200 and streamed.event_names()[-1] == "message_stop", streamed.body


@contextlib.asynccontextmanager
async def running_lynkr(env: Mapping[str, str]) -> AsyncIterator[Lynkr]:
    """lynkr configured by ``env``, served in this event loop."""
    app = make_test_app(env)
    async with serving(app) as url:
        yield Lynkr(app, url, set(asyncio.all_tasks()))


# --------------------------------------------------------------------------- clients


@dataclass
class Received:
    """What the raw client got: status, headers, body, and how long it took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float

    def events(self) -> list[tuple[str, Any]]:
        """The body's events, each one's data decoded from JSON (which fails if it is not)."""
        return sse_events(self.body)

    def event_names(self) -> list[str]:
        """The body's event names."""
        return [name for name, _ in self.events()]

    def text(self) -> str:
        """The answer's text, from a JSON message or from a stream's text deltas."""
        if self.headers["content-type"].startswith("application/json"):
            return "".join(block["text"] for block in json.loads(self.body)["content"])
        return "".join(
            data["delta"].get("text", "") for name, data in self.events() if name == "content_block_delta"
        )


def request(stream: bool, says: str = "hello") -> dict[str, Any]:
    """A small Messages API request."""
    return {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": says}], "stream": stream}


def is_health_check(body: dict[str, Any]) -> bool:
    """Whether an upstream request body is `Lynkr.assert_keeps_serving`'s."""
    return HEALTHY in json.dumps(body["messages"])


async def post(url: str, stream: bool, says: str = "hello") -> Received:
    """POST a request to lynkr with aiohttp, on a connection of its own."""
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT)) as http:
        async with http.post(
            f"{url}/v1/messages", json=request(stream, says), headers={"anthropic-version": "2023-06-01"}
        ) as response:
            body = bytearray()
            async for piece in response.content.iter_any():
                body += piece
                assert len(body) <= MAX_BODY, f"runaway answer: {bytes(body[-300:])!r}"
    return Received(response.status, response.headers, bytes(body), time.monotonic() - started)


async def sdk_call(url: str, stream: bool) -> anthropic.APIStatusError | anthropic.types.Message:
    """The same request with the anthropic SDK (no retries of its own): its message or
    the error it raised."""
    # lynkr is plain HTTP on loopback: no CA bundle to load (30 ms a client)
    http = anthropic.DefaultAsyncHttpxClient(verify=False)
    async with anthropic.AsyncAnthropic(
        base_url=url, api_key="client-key", max_retries=0, http_client=http, timeout=CLIENT_TIMEOUT
    ) as sdk:
        body = request(stream)
        del body["stream"]
        try:
            async with asyncio.timeout(CLIENT_TIMEOUT):
                return await _sdk_request(sdk, body, stream)
        except anthropic.APIStatusError as exc:
            return exc


async def _sdk_request(sdk: anthropic.AsyncAnthropic, body: dict[str, Any], stream: bool) -> Any:
    if not stream:
        return await sdk.messages.create(**body)
    async with sdk.messages.stream(**body) as events:
        async for _ in events:
            pass
        return await events.get_final_message()


@dataclass
class Round:
    """The four requests of a case, made at once: JSON and stream, raw and with the SDK."""

    raw: dict[bool, Received]
    sdk: dict[bool, Any]


async def four_requests(url: str) -> Round:
    """JSON and stream, each with raw aiohttp and the SDK, all in flight together."""
    raw_json, raw_stream, sdk_json, sdk_stream = await asyncio.gather(
        post(url, False), post(url, True), sdk_call(url, False), sdk_call(url, True)
    )
    return Round({False: raw_json, True: raw_stream}, {False: sdk_json, True: sdk_stream})


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Refused:
    """The client gets HTTP ``status`` with an Anthropic error of ``error_type`` (per wire
    format when a mapping) whose message contains ``says``, after ``attempts`` upstream
    attempts; ``retry_after`` is the header it must carry (None: none)."""

    status: int
    error_type: str | Mapping[str, str]
    says: str
    attempts: int = 2
    retry_after: str | None = None

    def type_for(self, wire: str) -> str:
        """The error type for ``wire``."""
        return self.error_type if isinstance(self.error_type, str) else self.error_type[wire]


@dataclass(frozen=True)
class Broken:
    """A stream that had started: HTTP 200, then an ``error`` event of ``error_type`` whose
    message contains ``says``; one upstream attempt (nothing is retried once started)."""

    error_type: str
    says: str
    attempts: int = 1


@dataclass(frozen=True)
class Served:
    """The complete answer, after one attempt."""

    attempts: int = 1


Outcome = Refused | Broken | Served


def check_raw(got: Received, expected: Outcome, wire: str) -> None:
    """``got`` is what ``expected`` describes, well-formed."""
    if isinstance(expected, Served):
        assert got.status == 200, got.body
        assert got.text() == Answer().text
        return
    if isinstance(expected, Refused):
        assert got.status == expected.status, got.body
        assert got.headers["content-type"].startswith("application/json")
        error = json.loads(got.body)
        assert error["type"] == "error"
        assert error["error"]["type"] == expected.type_for(wire)
        assert expected.says in error["error"]["message"]
        assert got.headers.get("retry-after") == expected.retry_after
        return
    assert got.status == 200 and got.headers["content-type"].startswith("text/event-stream")
    events = got.events()  # every event's data is JSON
    names = [name for name, _ in events]
    assert names[0] == "message_start" and "message_stop" not in names
    assert names.count("error") == 1 and names[-1] == "error", names
    assert events[-1][1]["error"]["type"] == expected.error_type
    assert expected.says in events[-1][1]["error"]["message"]


def check_sdk(got: Any, expected: Outcome, wire: str) -> None:
    """The SDK raised the error ``expected`` describes, or returned the message."""
    if isinstance(expected, Served):
        assert isinstance(got, anthropic.types.Message), got
        assert got.content[0].text == Answer().text
        return
    assert isinstance(got, anthropic.APIStatusError), got
    if isinstance(expected, Refused):
        assert got.status_code == expected.status
        assert got.body["error"]["type"] == expected.type_for(wire)
    else:
        assert got.body["error"]["type"] == expected.error_type
    assert expected.says in got.body["error"]["message"]


# --------------------------------------------------------------------------- the table


def timed_out() -> Refused:
    """A 504 ``timeout_error`` after two timed-out attempts."""
    return Refused(504, "timeout_error", "timed out")


_503_TYPE = {"openai": "overloaded_error", "anthropic": "api_error"}
"""A 503's type: OpenAI's envelope has no type lynkr knows, so it follows the status; the
Anthropic-format upstream names its own (``fake_anthropic`` says ``api_error``)."""
_ERROR_IN_200 = {"openai": "api_error", "anthropic": "overloaded_error"}
"""An error that came with a 200: OpenAI's envelope says no status (502 ``api_error``);
Anthropic's names ``overloaded_error``, which lynkr answers with 529 as Anthropic does."""

#: (fault, what a JSON request gets, what a streaming one gets, the upstream timeout)
FAULTS = [
    pytest.param(Silent(), timed_out(), timed_out(), SHORT, id="never-answers"),
    pytest.param(HeadersThenStall(), timed_out(), timed_out(), SHORT, id="headers-then-stall"),
    pytest.param(Answer(first_byte_delay=0.1), Served(), Served(), 1.0, id="slow-first-byte"),
    pytest.param(
        StallMidStream(), timed_out(), Broken("timeout_error", "timed out"), SHORT, id="stall-mid-stream"
    ),
    pytest.param(
        CutStream(),
        Refused(502, "api_error", "unreadable"),
        Broken("api_error", "ended before"),
        LONG,
        id="cut-without-final-event",
    ),
    pytest.param(
        BadChunk(),
        Refused(502, "api_error", "unreadable"),
        Broken("api_error", "unreadable stream"),
        LONG,
        id="invalid-json-chunk",
    ),
    *(
        pytest.param(HttpError(429, "slow down", retry_after=after), refused, refused, LONG, id=name)
        for name, after, refused in [
            # short enough to wait for: retried after it, and passed on at the end
            ("429-short-retry-after", 0.05, Refused(429, "rate_limit_error", "slow down", 2, "0.05")),
            # longer than LYNKR_RETRY_MAX_SECONDS: the client waits, not lynkr
            ("429-long-retry-after", 30, Refused(429, "rate_limit_error", "slow down", 1, "30")),
            ("429-without-retry-after", None, Refused(429, "rate_limit_error", "slow down")),
        ]
    ),
    *(
        pytest.param(
            HttpError(status, f"upstream says {status}"),
            Refused(status, kind, f"upstream says {status}"),
            Refused(status, kind, f"upstream says {status}"),
            LONG,
            id=str(status),
        )
        for status, kind in [
            (500, "api_error"),
            (502, "api_error"),
            (503, _503_TYPE),
            (529, "overloaded_error"),
        ]
    ),
    pytest.param(
        ErrorIn200(message="failed after 200"),
        Refused(502, _ERROR_IN_200, "failed after 200"),
        Refused(502, _ERROR_IN_200, "failed after 200"),
        LONG,
        id="200-with-error-body",
    ),
    pytest.param(
        ErrorIn200(message="failed after 200", as_event=True),
        Refused(502, _ERROR_IN_200, "failed after 200"),
        Refused(502, _ERROR_IN_200, "failed after 200"),
        LONG,
        id="200-stream-of-one-error-event",
    ),
    pytest.param(
        Reset(),
        Refused(502, "api_error", "reset"),
        Refused(502, "api_error", "reset"),
        LONG,
        id="tcp-reset-before-answer",
    ),
    pytest.param(
        Reset(after=3),
        Refused(502, "api_error", "payload is not completed"),
        Broken("api_error", "payload is not completed"),
        LONG,
        id="tcp-reset-mid-stream",
    ),
]

STALLS = (Silent, HeadersThenStall, StallMidStream)


def for_wire(expected: Outcome, wire: str, fault: Fault) -> Outcome:
    """``expected`` for ``wire``: the Anthropic-format provider answers an error that came
    with a 200 with the status of its type (529 for ``overloaded_error``)."""
    if isinstance(fault, ErrorIn200) and isinstance(expected, Refused) and wire == "anthropic":
        return Refused(529, expected.error_type, expected.says, expected.attempts)
    return expected


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("fault", "json_outcome", "stream_outcome", "upstream_timeout"), FAULTS)
async def test_each_fault_through_lynkr(fault, json_outcome, stream_outcome, upstream_timeout, wire):
    expected = {False: for_wire(json_outcome, wire, fault), True: for_wire(stream_outcome, wire, fault)}
    script: Callable[[Any], Fault] = lambda body: Answer() if is_health_check(body) else fault  # noqa: E731
    async with FaultServer(script) as upstream, running_lynkr(
        lynkr_env(wire, upstream.base_url, timeout=upstream_timeout)
    ) as lynkr:
        got = await four_requests(lynkr.url)
        # the server may record an attempt a loop turn after lynkr gave up on it
        tries = 2 * (expected[False].attempts + expected[True].attempts)
        await eventually(lambda: upstream.attempts() >= tries, within=1.0)
        attempts = upstream.attempts()
        await lynkr.assert_keeps_serving()
        # the fault server saw lynkr hang up on every answer it held back
        stalled = attempts if isinstance(fault, STALLS) else 0
        assert await eventually(lambda: upstream.disconnected == stalled), upstream.disconnected
        await lynkr.assert_no_leaks(upstream)
    for stream in (False, True):
        check_raw(got.raw[stream], expected[stream], wire)
        check_sdk(got.sdk[stream], expected[stream], wire)
    # each request tried once, or retried once (2 clients x JSON and stream)
    assert attempts == tries
    assert {r.path.rsplit("/", 1)[-1] for r in upstream.requests} == (
        {"completions"} if wire == "openai" else {"messages"}
    )
    for stream in (False, True):
        if isinstance(expected[stream], Refused) and expected[stream].error_type == "timeout_error":
            # each attempt waited for the timeout, and not much longer
            seconds, limit = got.raw[stream].seconds, 2 * upstream_timeout
            assert limit * 0.8 <= seconds < limit + 3


async def test_a_stalled_openai_format_stream_times_out_instead_of_pinging_forever():
    """Regression: aiohttp's read timeout is a ``TimeoutError``, which the OpenAI-format
    stream reader took for its own ping timer; it then sent pings in a loop that never
    waited, freezing lynkr's event loop once the client had gone. lynkr runs in a thread
    of its own here, so the old behaviour fails this test instead of freezing the run."""
    script: Callable[[Any], Fault] = lambda body: Answer() if is_health_check(body) else HeadersThenStall()  # noqa: E731
    async with FaultServer(script) as upstream:
        app = make_test_app(lynkr_env("openai", upstream.base_url, timeout=SHORT))
        with serving_in_thread(app) as url:
            stalled = await post(url, True)
            healthy = await post(url, True, HEALTHY)
    check_raw(stalled, timed_out(), "openai")
    assert healthy.status == 200 and healthy.event_names()[-1] == "message_stop"


# --------------------------------------------------------------------------- no answer at all


def attempts_logged(logs: list[dict[str, Any]]) -> int:
    """How many upstream attempts lynkr logged as failed."""
    return sum(1 for entry in logs if entry["event"] == "upstream_failed")


@pytest.fixture(scope="module")
def untrusted_tls(tmp_path_factory: pytest.TempPathFactory):
    """A server-side TLS context with a self-signed certificate nobody trusts."""
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@contextlib.asynccontextmanager
async def nowhere(kind: str, tls: Any) -> AsyncIterator[tuple[str, FaultServer | None]]:
    """An upstream base URL that fails the way ``kind`` says, and the server behind it
    (for TLS: it counts the connections that came to offer a handshake)."""
    if kind == "refused":
        yield f"http://127.0.0.1:{closed_port()}", None
    elif kind == "dns":
        yield f"http://{INVALID_HOST}:80", None
    elif kind == "connect-timeout":
        with Blackhole() as port:
            yield f"http://127.0.0.1:{port}", None
    else:
        async with FaultServer(tls=tls) as server:
            yield server.base_url, server


#: (how it fails, what every request gets, the connect timeout). The DNS case keeps the
#: long one: a resolver that is slow to say "no" must not turn it into a timeout.
UNREACHABLE = [
    pytest.param("refused", Refused(502, "api_error", "Connect call failed"), LONG, id="connection-refused"),
    pytest.param(
        "dns", Refused(502, "api_error", f"cannot connect to upstream http://{INVALID_HOST}"), LONG, id="dns-failure"
    ),
    pytest.param(
        "tls", Refused(502, "api_error", "certificate verify failed"), LONG, id="untrusted-certificate"
    ),
    pytest.param(
        "connect-timeout", Refused(504, "timeout_error", "connecting to upstream"), 0.1, id="connect-timeout"
    ),
]


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(("kind", "expected", "connect_timeout"), UNREACHABLE)
async def test_an_upstream_that_cannot_be_reached(kind, expected, connect_timeout, wire, untrusted_tls):
    async with nowhere(kind, untrusted_tls) as (base_url, server):
        env = lynkr_env(wire, base_url, LYNKR_UPSTREAM_CONNECT_TIMEOUT_SECONDS=str(connect_timeout))
        async with running_lynkr(env) as lynkr:
            with capture_logs() as logs:
                got = await four_requests(lynkr.url)
            await lynkr.assert_no_leaks(server)
    for stream in (False, True):
        check_raw(got.raw[stream], expected, wire)
        check_sdk(got.sdk[stream], expected, wire)
    # four requests, each tried and retried once; a certificate error is not retried
    tries = 4 if kind == "tls" else 8
    assert attempts_logged(logs) == tries
    if server is not None:
        assert server.accepted == tries and server.requests == []  # no request got through
    if kind == "connect-timeout":
        assert all(2 * connect_timeout * 0.8 <= got.raw[s].seconds < 2 * connect_timeout + 3 for s in got.raw)


# --------------------------------------------------------------------------- fallback


def route_env(base_url: str, first: str, second: str, *, timeout: float = LONG, **extra: str) -> dict[str, str]:
    """A route for ``claude-*`` to the ``first`` wire format's provider, falling back to the
    ``second`` one's (asked for model ``backup-model``)."""
    return lynkr_env(
        first,
        base_url,
        timeout=timeout,
        LYNKR_MODEL_ROUTES=f"claude-*={first}",
        FALLBACK_PROVIDER=f"{second}:backup-model",
        **extra,
    )


FALLBACK_ANSWER = "answered by the fallback"


def first_fails(fault: Fault, first: str) -> Callable[[Any], Fault]:
    """A script: ``fault`` for the ``first`` target's requests, an answer for the rest."""
    first_model = "gpt-4o" if first == "openai" else MODEL
    return lambda body: fault if body["model"] == first_model else Answer(FALLBACK_ANSWER)


async def json_and_stream(url: str) -> list[Received]:
    """A JSON and a streaming request with aiohttp, at once."""
    return list(await asyncio.gather(post(url, False), post(url, True)))


#: (fault of the first target, its wire format, the second's, the upstream timeout)
FALLBACK_FAULTS = [
    pytest.param(HttpError(529, "overloaded"), "openai", "anthropic", LONG, id="529-openai-first"),
    pytest.param(Silent(), "anthropic", "openai", SHORT, id="never-answers-anthropic-first"),
    pytest.param(Reset(), "openai", "anthropic", LONG, id="tcp-reset-openai-first"),
    # Anthropic's "overloaded" as the only event of a 200 stream
    pytest.param(ErrorIn200(as_event=True), "anthropic", "openai", LONG, id="200-error-event-anthropic-first"),
]


@pytest.mark.parametrize(("fault", "first", "second", "upstream_timeout"), FALLBACK_FAULTS)
async def test_a_faulty_first_target_falls_back_to_the_second(fault, first, second, upstream_timeout):
    async with FaultServer(first_fails(fault, first)) as upstream, running_lynkr(
        route_env(upstream.base_url, first, second, timeout=upstream_timeout)
    ) as lynkr:
        answers = await json_and_stream(lynkr.url)
        await lynkr.assert_no_leaks(upstream)
    assert [(got.status, got.text()) for got in answers] == [(200, FALLBACK_ANSWER)] * 2
    assert answers[1].event_names()[-1] == "message_stop"
    # per request: the first target tried and retried, then the second, asked for its model
    assert (upstream.attempts(first), upstream.attempts(second)) == (4, 2)
    assert [r.json["model"] for r in upstream.requests if first_fails(fault, first)(r.json) != fault] == [
        "backup-model"
    ] * 2


@pytest.mark.parametrize(("first", "second"), [("openai", "anthropic"), ("anthropic", "openai")])
async def test_an_unreachable_first_target_falls_back_to_the_second(first, second):
    unreachable = (
        {"OPENAI_ENDPOINT": f"http://127.0.0.1:{closed_port()}/v1/chat/completions"}
        if first == "openai"
        else {"ANTHROPIC_UPSTREAM_BASE_URL": f"http://{INVALID_HOST}"}
    )
    async with FaultServer() as upstream, running_lynkr(
        route_env(upstream.base_url, first, second) | unreachable
    ) as lynkr:
        answers = await json_and_stream(lynkr.url)
        await lynkr.assert_no_leaks(upstream)
    assert [got.status for got in answers] == [200, 200]
    assert answers[1].event_names()[-1] == "message_stop"
    assert (upstream.attempts(first), upstream.attempts(second)) == (0, 2)


@pytest.mark.parametrize("fault", [StallMidStream(), CutStream(), BadChunk(), Reset(after=3)], ids=repr)
async def test_no_fallback_once_the_stream_has_started(fault):
    async with FaultServer(first_fails(fault, "openai")) as upstream, running_lynkr(
        route_env(upstream.base_url, "openai", "anthropic", timeout=SHORT)
    ) as lynkr:
        got = await post(lynkr.url, stream=True)
        await lynkr.assert_no_leaks(upstream)
    assert got.status == 200 and got.event_names()[-1] == "error"
    assert (upstream.attempts("openai"), upstream.attempts("anthropic")) == (1, 0)


async def test_fallback_turned_off_passes_the_first_targets_error_on():
    async with FaultServer(first_fails(HttpError(529, "overloaded"), "openai")) as upstream, running_lynkr(
        route_env(upstream.base_url, "openai", "anthropic", FALLBACK_ENABLED="false")
    ) as lynkr:
        answers = await json_and_stream(lynkr.url)
        await lynkr.assert_no_leaks(upstream)
    for got in answers:
        check_raw(got, Refused(529, "overloaded_error", "overloaded"), "openai")
    assert (upstream.attempts("openai"), upstream.attempts("anthropic")) == (4, 0)
