"""Client faults: clients that leave mid-answer, clients that read slowly, idle connections.

Every upstream here is `PacedUpstream`, a raw HTTP/1.1 server on 127.0.0.1 that streams
its answers frame by frame, honours TCP backpressure (it awaits ``drain`` after every
frame) and notes, for each request lynkr makes, how many bytes it got out and when lynkr
closed the connection. Disconnects are measured against lynkr served in the test's event
loop; slow readers and idle connections against a real ``lynkr start`` subprocess, whose
memory and file descriptors are read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.run import SCRUBBED_PREFIXES, Proc, free_port, wait_ready
from lynkr_core.config import ConfigError, Settings
from lynkr_core.testing.server import make_test_app, serving

MODEL = "claude-sonnet-4-5"
UPSTREAM_MODEL = "gpt-4o"
#: Generous: the issue asks for "within a second"; measured delays are a few milliseconds.
CANCEL_BOUND_SECONDS = 1.0
MB = 1024 * 1024


# --- the upstream -------------------------------------------------------------------------


@dataclass
class Answer:
    """What the upstream sends for one request: ``frames`` (lazily, so an answer can be
    tens of MB), ``delay`` seconds before each frame after the first, after waiting
    ``first_byte_delay`` seconds before the response head."""

    frames: Iterable[bytes]
    content_type: str = "text/event-stream"
    delay: float = 0.0
    first_byte_delay: float = 0.0


@dataclass
class Served:
    """One request the upstream received, and how its answer went."""

    body: dict[str, Any]
    received_at: float
    sent: int = 0  # body bytes written and drained
    finished: bool = False
    closed_at: float | None = None  # when lynkr closed the connection, if before the end


class PacedUpstream:
    """A scripted upstream speaking raw HTTP/1.1 (one request per connection).

    ``script`` is a list of `Answer`s consumed in order; once it is used up, ``default``
    answers, given the request's body. The connection's read side is watched during the
    answer, so ``closed_at`` is the moment lynkr's close arrives, not the next write's
    failure.
    """

    def __init__(self, script: list[Answer], default: Callable[[dict[str, Any]], Answer]) -> None:
        self.script = list(script)
        self.default = default
        self.served: list[Served] = []
        self.url = ""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> PacedUpstream:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1)) if length else 0)
            served = Served(json.loads(body) if body else {}, time.monotonic())
            self.served.append(served)
            answer = self.script.pop(0) if self.script else self.default(served.body)
            watcher = asyncio.create_task(_note_close(reader, served))
            try:
                await _send(writer, answer, served, watcher)
            finally:
                watcher.cancel()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)


async def _note_close(reader: asyncio.StreamReader, served: Served) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass
    served.closed_at = time.monotonic()


async def _send(
    writer: asyncio.StreamWriter, answer: Answer, served: Served, watcher: asyncio.Task[None]
) -> None:
    if answer.first_byte_delay:
        await asyncio.wait({watcher}, timeout=answer.first_byte_delay)
    if watcher.done():
        return
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n"
        b"connection: close\r\n\r\n" % answer.content_type.encode()
    )
    for number, frame in enumerate(answer.frames):
        if number and answer.delay:
            await asyncio.wait({watcher}, timeout=answer.delay)
        if watcher.done():
            return
        writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        await writer.drain()
        served.sent += len(frame)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    served.finished = True


# --- what the upstream says, in each wire format -----------------------------------------


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return b"event: %s\n%s" % (kind.encode(), _data({"type": kind, **payload}))


def openai_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One chat.completion.chunk frame."""
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return _data({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                  "model": UPSTREAM_MODEL, "choices": [choice]})


def openai_text(pieces: Iterable[str]) -> Iterator[bytes]:
    """A streamed OpenAI answer carrying ``pieces``."""
    yield openai_chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        yield openai_chunk({"content": piece})
    yield openai_chunk({}, "stop")
    yield b"data: [DONE]\n\n"


def openai_tool_call(name: str, arguments: dict[str, Any]) -> list[bytes]:
    """A streamed OpenAI answer that calls one tool."""
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}
    return [openai_chunk({"role": "assistant", "content": None, "tool_calls": [call]}),
            openai_chunk({}, "tool_calls"), b"data: [DONE]\n\n"]


def _openai_completion(message: dict[str, Any], finish: str) -> bytes:
    choice = {"index": 0, "message": message, "finish_reason": finish}
    usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                       "model": UPSTREAM_MODEL, "choices": [choice], "usage": usage}).encode()


def openai_json(text: str) -> bytes:
    """A complete (non-streaming) OpenAI answer."""
    return _openai_completion({"role": "assistant", "content": text}, "stop")


def openai_tool_json(name: str, arguments: dict[str, Any]) -> bytes:
    """A complete (non-streaming) OpenAI answer that calls one tool."""
    call = {"id": "call_1", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}
    return _openai_completion({"role": "assistant", "content": None, "tool_calls": [call]},
                              "tool_calls")


def _message(content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": MODEL,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1}}


def anthropic_text(pieces: Iterable[str]) -> Iterator[bytes]:
    """A streamed Anthropic answer carrying ``pieces``."""
    yield _event("message_start", {"message": _message([], None)})
    yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    for piece in pieces:
        yield _event("content_block_delta",
                     {"index": 0, "delta": {"type": "text_delta", "text": piece}})
    yield _event("content_block_stop", {"index": 0})
    yield _event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                   "usage": {"output_tokens": 1}})
    yield _event("message_stop", {})


def anthropic_tool_call(name: str, arguments: dict[str, Any]) -> list[bytes]:
    """A streamed Anthropic answer that calls one tool."""
    block = {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}
    delta = {"type": "input_json_delta", "partial_json": json.dumps(arguments)}
    return [
        _event("message_start", {"message": _message([], None)}),
        _event("content_block_start", {"index": 0, "content_block": block}),
        _event("content_block_delta", {"index": 0, "delta": delta}),
        _event("content_block_stop", {"index": 0}),
        _event("message_delta", {"delta": {"stop_reason": "tool_use", "stop_sequence": None},
                                 "usage": {"output_tokens": 1}}),
        _event("message_stop", {}),
    ]


def anthropic_json(text: str) -> bytes:
    """A complete (non-streaming) Anthropic answer."""
    return json.dumps(_message([{"type": "text", "text": text}], "end_turn")).encode()


def anthropic_tool_json(name: str, arguments: dict[str, Any]) -> bytes:
    """A complete (non-streaming) Anthropic answer that calls one tool."""
    block = {"type": "tool_use", "id": "toolu_1", "name": name, "input": arguments}
    return json.dumps(_message([block], "tool_use")).encode()


JSON = "application/json"
#: The lynkr tool the first step of a server-mode case calls, and what it finds.
READ_NOTES = ("workspace_read", {"path": "notes.txt"})
NOTES = "remember the milk"


@dataclass(frozen=True)
class Wire:
    """One provider: lynkr's settings for an upstream at a URL, and the upstream's answers."""

    name: str
    env: Callable[[str], dict[str, str]]
    text: Callable[[Iterable[str]], Iterable[bytes]]
    text_json: Callable[[str], bytes]
    tool_call: Callable[[str, dict[str, Any]], list[bytes]]
    tool_json: Callable[[str, dict[str, Any]], bytes]

    def reading_notes(self, *, streaming: bool) -> Answer:
        """A model step that calls lynkr's ``workspace_read``."""
        if streaming:
            return Answer(self.tool_call(*READ_NOTES))
        return Answer([self.tool_json(*READ_NOTES)], JSON)


OPENAI = Wire(
    "openai",
    lambda url: {"MODEL_PROVIDER": "openai", "OPENAI_ENDPOINT": url + "/v1/chat/completions",
                 "OPENAI_API_KEY": "upstream-key", "OPENAI_MODEL": UPSTREAM_MODEL},
    openai_text, openai_json, openai_tool_call, openai_tool_json,
)
ANTHROPIC = Wire(
    "anthropic",
    lambda url: {"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_BASE_URL": url,
                 "ANTHROPIC_UPSTREAM_API_KEY": "upstream-key"},
    anthropic_text, anthropic_json, anthropic_tool_call, anthropic_tool_json,
)
WIRES = {"openai": OPENAI, "anthropic": ANTHROPIC}


# --- the client side ---------------------------------------------------------------------


#: A tool of the client's: lynkr offers its own tools only to requests that bring some (and
#: not those that duplicate the client's: this one duplicates none of them).
CLIENT_TOOL = {"name": "get_weather", "description": "Weather of a city.", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def messages_body(text: str, *, stream: bool) -> bytes:
    """A Messages API request asking ``text``, with one client tool."""
    return json.dumps({"model": MODEL, "max_tokens": 1000, "stream": stream, "tools": [CLIENT_TOOL],
                       "messages": [{"role": "user", "content": text}]}).encode()


def raw_request(body: bytes) -> bytes:
    """``POST /v1/messages`` with ``body``, as bytes on the wire."""
    return (b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"anthropic-version: 2023-06-01\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def read_until(reader: asyncio.StreamReader, marker: bytes, count: int) -> bytes:
    """Read until ``marker`` was seen ``count`` times; everything read."""
    seen = b""
    while seen.count(marker) < count:
        piece = await asyncio.wait_for(reader.read(65536), 10)
        assert piece, f"lynkr closed the stream early: {seen[-300:]!r}"
        seen += piece
    return seen


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll ``condition`` every 5 ms for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.005)
    return condition()


async def quick_answer(url: str, question: str = "quick") -> str:
    """A streamed request through lynkr (short unless the upstream is told otherwise); its
    text. Whole and well-formed: lynkr still serves."""
    async with aiohttp.ClientSession() as http, http.post(
        url + "/v1/messages", data=messages_body(question, stream=True),
        headers={"content-type": "application/json"}, timeout=aiohttp.ClientTimeout(total=20),
    ) as response:
        raw = await response.read()
    assert response.status == 200, raw[:300]
    assert raw.rstrip().endswith(b'{"type":"message_stop"}'), raw[-300:]
    texts = re.findall(rb'"text_delta","text":"([^"]*)"', raw)
    return b"".join(texts).decode()


def slow_pieces(count: int = 400) -> list[str]:
    return [f"part {number} " for number in range(count)]


# --- 1. clients that leave ---------------------------------------------------------------

CASES = [
    pytest.param(wire, mode, when, id=f"{wire}-{mode}-{when}")
    for wire in ("openai", "anthropic")
    for mode in ("client", "server")
    for when in ("mid-stream", "before-first-byte-stream", "before-first-byte-json")
]


@pytest.mark.parametrize(("wire_name", "mode", "when"), CASES)
async def test_a_client_that_leaves_cancels_the_upstream_request_within_a_second(
    wire_name: str, mode: str, when: str, tmp_path: Path
) -> None:
    wire = WIRES[wire_name]
    streaming = when != "before-first-byte-json"
    if when == "mid-stream":
        waiting = Answer(wire.text(slow_pieces()), delay=0.025)  # 10 s if nobody leaves
    elif streaming:
        waiting = Answer(wire.text(["never sent"]), first_byte_delay=30)
    else:
        waiting = Answer([wire.text_json("never sent")], JSON, first_byte_delay=30)
    # In server mode a first step runs a workspace tool: the client leaves during the second.
    script = [wire.reading_notes(streaming=streaming), waiting] if mode == "server" else [waiting]
    (tmp_path / "notes.txt").write_text(NOTES + "\n")

    def still_serving(_: dict[str, Any]) -> Answer:
        return Answer(wire.text(["still ", "serving"]))

    async with PacedUpstream(script, still_serving) as upstream:
        env = {
            **wire.env(upstream.url),
            "TOOL_EXECUTION_MODE": mode,
            "WORKSPACE_ROOT": str(tmp_path),
            "LYNKR_UPSTREAM_RETRIES": "0",
            "LYNKR_PLUGINS": f"lynkr-provider-{wire.name},lynkr-tools-workspace",
        }
        async with serving(make_test_app(env)) as url:
            reader, writer = await asyncio.open_connection(*_address(url))
            writer.write(raw_request(messages_body("tell me slowly", stream=streaming)))
            await writer.drain()
            leaving = len(script) - 1  # the upstream request the client leaves during
            if when == "mid-stream":
                await read_until(reader, b"event: content_block_delta", 3)
            else:
                assert await wait_for(lambda: len(upstream.served) > leaving)
                await asyncio.sleep(0.1)  # lynkr is now waiting for the upstream's answer
            left_at = time.monotonic()
            writer.close()
            served = upstream.served[leaving]
            assert await wait_for(lambda: served.closed_at is not None, 5), (
                "lynkr never closed its upstream request"
            )
            delay = served.closed_at - left_at
            print(f"\n{wire.name} {mode} {when}: upstream closed {delay * 1000:.1f} ms "
                  f"after the client left ({served.sent} bytes of its answer sent)")
            assert delay < CANCEL_BOUND_SECONDS
            assert not served.finished
            if mode == "server":  # the tool step was whole, and its result went upstream
                assert upstream.served[0].finished and NOTES in json.dumps(served.body)
            assert await quick_answer(url) == "still serving"


# --- 2. clients that read slowly ---------------------------------------------------------

# Tens of MB of answer: 48,000 pieces of 1 KiB of text.
BIG_PIECES = 48_000
PIECE = "x" * 1023 + " "


def _proc_status(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field_name} not in /proc/{pid}/status")


def rss(pid: int) -> int:
    """Resident memory of process ``pid``, in bytes."""
    return _proc_status(pid, "VmRSS")


def open_fds(pid: int) -> int:
    """File descriptors process ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


@contextlib.asynccontextmanager
async def lynkr_process(
    upstream_url: str, work: Path, **env: str
) -> AsyncIterator[tuple[str, int]]:
    """``lynkr start`` in a subprocess (provider openai, client tool mode unless ``env``
    says otherwise) in front of ``upstream_url``; yields its URL and pid."""
    port = free_port()
    settings = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    settings.update(OPENAI.env(upstream_url))
    settings.update(LOG_LEVEL="warning", LYNKR_UPSTREAM_RETRIES="0", TOOL_EXECUTION_MODE="client",
                    LYNKR_PLUGINS="lynkr-provider-openai")
    settings.update(env)
    argv = [sys.executable, "-m", "lynkr_core.cli", "start", "--port", str(port)]
    proc = Proc("lynkr", argv, settings, work, work)
    try:
        await wait_ready(proc, f"http://127.0.0.1:{port}/health", limit_s=30)
        yield f"http://127.0.0.1:{port}", proc.popen.pid
    finally:
        proc.stop()
        assert proc.popen.returncode in (0, -15), proc.log_tail()


async def _plateau(served: Served, quiet: float = 1.0, limit: float = 15.0) -> None:
    """Wait until ``served.sent`` has not grown for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last, since = served.sent, time.monotonic()
    while time.monotonic() < deadline and not served.finished:
        await asyncio.sleep(0.05)
        if served.sent != last:
            last, since = served.sent, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


async def _drain(reader: asyncio.StreamReader, pid: int) -> tuple[int, bytes, int]:
    """Read a chunked stream to its last chunk (the connection stays open: keep-alive);
    how many text deltas it had, its tail, and lynkr's peak RSS meanwhile."""
    marker = b"event: content_block_delta"
    deltas, carry, peak = 0, b"", rss(pid)
    async with asyncio.timeout(60):
        while not carry.endswith(b"\r\n0\r\n\r\n"):
            piece = await reader.read(1 << 20)
            assert piece, f"the stream broke off: {carry!r}"
            window = carry + piece
            deltas += window.count(marker) - carry.count(marker)
            carry = window[-200:]
            peak = max(peak, rss(pid))
    return deltas, carry.removesuffix(b"\r\n0\r\n\r\n"), peak


@pytest.mark.parametrize("mode", ["client", "server"])
async def test_a_client_that_reads_nothing_holds_back_the_upstream_not_lynkrs_memory(
    mode: str, tmp_path: Path
) -> None:
    """While the client reads nothing, the upstream is held back (TCP backpressure through
    Hypercorn, the stream's generators and aiohttp) and lynkr's memory stays flat; other
    clients are served. In client mode the client then reads the whole answer, with
    lynkr's memory still flat. In server mode the agent loop keeps each step's answer to
    build the next step (memory grows with what the client has read, by design), so that
    client leaves instead, and the upstream request is closed."""
    def big() -> Answer:
        return Answer(openai_text(PIECE for _ in range(BIG_PIECES)))

    total = sum(len(frame) for frame in big().frames)
    tools = {"TOOL_EXECUTION_MODE": mode, "WORKSPACE_ROOT": str(tmp_path),
             "LYNKR_PLUGINS": "lynkr-provider-openai,lynkr-tools-workspace"}
    async with PacedUpstream([], lambda _: Answer(openai_text(["still ", "serving"]))) as upstream:
        async with lynkr_process(upstream.url, tmp_path, **tools) as (url, pid):
            assert await quick_answer(url) == "still serving"  # warm: first-request costs paid
            upstream.script.append(big())
            before = rss(pid)
            reader, writer = await asyncio.open_connection(*_address(url))
            writer.write(raw_request(messages_body("everything", stream=True)))
            await writer.drain()
            assert await wait_for(lambda: len(upstream.served) == 2)
            slow = upstream.served[1]
            await _plateau(slow)
            stalled, stalled_sent = rss(pid), slow.sent
            started = time.monotonic()
            answers = await asyncio.gather(*(quick_answer(url) for _ in range(5)))
            others = time.monotonic() - started
            if mode == "client":
                deltas, tail, peak = await _drain(reader, pid)
            left_at = time.monotonic()
            writer.close()
            if mode == "server":
                assert await wait_for(lambda: slow.closed_at is not None, 5)
    print(f"\nslow reader ({mode} mode): upstream wrote {stalled_sent / MB:.1f} of "
          f"{total / MB:.1f} MB before stalling; lynkr RSS {before / MB:.1f} MB before, "
          f"{stalled / MB:.1f} MB stalled; 5 other requests took {others:.2f} s")
    assert answers == ["still serving"] * 5
    assert stalled_sent < total / 2, "the upstream was read far ahead of the client"
    assert stalled - before < 32 * MB
    if mode == "client":
        print(f"  then drained: peak RSS {peak / MB:.1f} MB")
        assert peak - before < 32 * MB
        assert deltas == BIG_PIECES and tail.rstrip().endswith(b'{"type":"message_stop"}')
        assert slow.finished
    else:
        print(f"  then left: upstream closed {(slow.closed_at - left_at) * 1000:.1f} ms later")
        assert slow.closed_at - left_at < CANCEL_BOUND_SECONDS and not slow.finished


# --- 3. idle connections -----------------------------------------------------------------

SILENT, HALF_HEADS, HALF_BODIES, ANSWERED = 250, 100, 100, 50
IDLE_TIMEOUT = 2.0


@pytest.fixture
def enough_file_descriptors() -> Iterator[None]:
    """Raise this process's (and so lynkr's) soft limit of open files for hundreds of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def _idle(url: str, payload: bytes) -> tuple[float, bytes]:
    """Open a connection, send ``payload``, then only listen: seconds until lynkr closed it
    (from when it was opened), and everything it sent."""
    opened = time.monotonic()
    reader, writer = await asyncio.open_connection(*_address(url))
    writer.write(payload)
    try:
        async with asyncio.timeout(IDLE_TIMEOUT + 15):
            received = await reader.read()
    finally:
        writer.close()
    return time.monotonic() - opened, received


async def test_hundreds_of_idle_connections_neither_block_others_nor_stay_open(
    tmp_path: Path, enough_file_descriptors: None
) -> None:
    """Connections that send nothing, half a request head, a head and half a body, or one
    whole request and then nothing (keep-alive), all at once: others are served meanwhile,
    and each is closed after the idle timeout (the half body answered 408 first). An
    answer streamed for longer than the timeouts to a client that sends nothing is not
    cut: they only run while lynkr waits for the client."""
    body = messages_body("a request whose body never ends", stream=True)
    half_head = b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: appl"
    half_body = raw_request(body)[: -len(body) // 2]
    whole = raw_request(messages_body("quick", stream=True))
    kinds = {b"": SILENT, half_head: HALF_HEADS, half_body: HALF_BODIES, whole: ANSWERED}
    payloads = [payload for payload, count in kinds.items() for _ in range(count)]

    def answer(body: dict[str, Any]) -> Answer:
        if "long" in json.dumps(body["messages"]):  # outlasts both timeouts, client silent
            return Answer(openai_text(["slow "] * 30), delay=IDLE_TIMEOUT / 20)
        return Answer(openai_text(["still ", "serving"]))

    async with PacedUpstream([], answer) as upstream:
        timeouts = {"LYNKR_KEEP_ALIVE_TIMEOUT_SECONDS": str(IDLE_TIMEOUT),
                    "LYNKR_BODY_TIMEOUT_SECONDS": str(IDLE_TIMEOUT)}
        async with lynkr_process(upstream.url, tmp_path, **timeouts) as (url, pid):
            fds_before = open_fds(pid)
            long_started = time.monotonic()
            long = asyncio.create_task(quick_answer(url, "a long answer"))
            idle = [asyncio.create_task(_idle(url, payload)) for payload in payloads]
            assert await wait_for(lambda: open_fds(pid) >= fds_before + len(payloads), 5), (
                f"lynkr accepted only {open_fds(pid) - fds_before} of {len(payloads)} connections"
            )
            fds_busy = open_fds(pid)
            started = time.monotonic()
            answers = await asyncio.gather(*(quick_answer(url) for _ in range(20)))
            served_in = time.monotonic() - started
            closed = await asyncio.gather(*idle)
            assert await long == "slow " * 30
            long_took = time.monotonic() - long_started
            assert await wait_for(lambda: open_fds(pid) <= fds_before + 2, 5)
            fds_after = open_fds(pid)
    times = [seconds for seconds, _ in closed]
    print(f"\nidle: {len(payloads)} idle connections; 20 requests served meanwhile in "
          f"{served_in:.2f} s; the idle ones closed after {min(times):.1f}-{max(times):.1f} s; "
          f"lynkr fds {fds_before} -> {fds_busy} -> {fds_after}; a {long_took:.1f} s answer "
          "was not cut")
    assert answers == ["still serving"] * 20
    assert long_took > IDLE_TIMEOUT * 1.2
    assert all(IDLE_TIMEOUT * 0.5 <= seconds <= IDLE_TIMEOUT + 10 for seconds in times)
    for payload, (_, received) in zip(payloads, closed, strict=True):
        head, _, answer = received.partition(b"\r\n\r\n")
        if payload in (b"", half_head):
            assert received == b""
        elif payload == half_body:
            assert head.startswith(b"HTTP/1.1 408"), received[:200]
            assert json.loads(answer)["error"]["type"] == "timeout_error"
        else:
            assert head.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n0\r\n\r\n")


def test_the_client_timeouts_come_from_the_settings_and_must_be_positive() -> None:
    defaults = Settings({}).core
    assert (defaults.keep_alive_timeout_seconds, defaults.body_timeout_seconds) == (75, 60)
    custom = Settings(
        {"LYNKR_KEEP_ALIVE_TIMEOUT_SECONDS": "5", "LYNKR_BODY_TIMEOUT_SECONDS": "0.5"}
    ).core
    assert (custom.keep_alive_timeout_seconds, custom.body_timeout_seconds) == (5, 0.5)
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigError, match="LYNKR_BODY_TIMEOUT_SECONDS"):
            _ = Settings({"LYNKR_BODY_TIMEOUT_SECONDS": bad}).core
