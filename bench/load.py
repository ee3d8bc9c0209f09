"""The load generator: Claude Code-sized Messages API requests at a fixed concurrency.

One aiohttp session (``limit=concurrency``) and ``concurrency`` workers, each
sending the next request as soon as its last one has been read in full, until
``duration`` seconds have passed or ``max_requests`` have been sent. Every
response is validated against what the upstream sent (`bench.upstream.Script`):
JSON must be a ``message`` with exactly that text (or tool input); a stream must
be message_start, well-formed content blocks, message_delta, message_stop, with
exactly that text. Per request it records the start, the latency (until the last
byte), the time to first byte (stream: first body byte; JSON: the response head)
and ok or the error.

Loopback only: `run_load` refuses any other address.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import itertools
import json
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

from bench.upstream import TOOL_NAME, Script

FIXTURE = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "claude_code" / "turn2.json"
)
TOOLS = 15
DESCRIPTION_CHARS = 200
AGENT_LIST_CHARS = 4000
MODEL = "claude-sonnet-4-5"

_decode = msgspec.json.decode


@cache
def request_body(stream: bool) -> bytes:
    """A Claude Code-shaped request from the real capture, cut to about 20 KB.

    System: Claude Code's system blocks (``cache_control`` on the identity block)
    plus the start of its agent-list system text as a last block with
    ``cache_control``, about 10 KB. Tools: the 15 smallest of the capture's 24,
    descriptions cut to 200 characters, schemas whole (``$schema`` included),
    about 9 KB. Messages: the user's
    prompt, the assistant's ``Write`` tool_use and the user's tool_result.
    """
    capture = json.loads(FIXTURE.read_text())
    system = [dict(block) for block in capture["system"]]
    agents = next(m for m in capture["messages"] if m["role"] == "system")["content"]
    system.append(
        {"type": "text", "text": agents[:AGENT_LIST_CHARS], "cache_control": {"type": "ephemeral"}}
    )
    tools = sorted(capture["tools"], key=lambda tool: len(json.dumps(tool)))[:TOOLS]
    tools = [{**tool, "description": tool["description"][:DESCRIPTION_CHARS]} for tool in tools]
    messages = [m for m in capture["messages"] if m["role"] != "system"]
    body = {
        "model": MODEL,
        "max_tokens": 32000,
        "system": system,
        "tools": tools,
        "messages": messages,
        "metadata": capture["metadata"],
        "stream": stream,
    }
    return msgspec.json.encode(body)


@dataclasses.dataclass
class Expect:
    """What every answer must carry."""

    text: str | None = None
    tool_input: dict[str, Any] | None = None

    @classmethod
    def of(cls, script: Script) -> Expect:
        return cls(tool_input=script.tool_input()) if script.tool else cls(text=script.text())


class Invalid(Exception):
    """The response is not what the upstream sent."""


def check_message(body: bytes, expect: Expect) -> None:
    """A complete (non-stream) Messages API answer."""
    message = _decode(body)
    if message.get("type") != "message" or message.get("role") != "assistant":
        raise Invalid(f"not an assistant message: {body[:200]!r}")
    _check_content(message.get("content") or [], expect, message.get("stop_reason"))


def _check_content(content: list[dict[str, Any]], expect: Expect, stop_reason: str | None) -> None:
    if expect.tool_input is not None:
        calls = [block for block in content if block.get("type") == "tool_use"]
        if (
            len(calls) != 1
            or calls[0].get("name") != TOOL_NAME
            or calls[0].get("input") != expect.tool_input
        ):
            raise Invalid(f"tool call differs: {str(calls)[:200]}")
        if stop_reason != "tool_use":
            raise Invalid(f"stop_reason {stop_reason!r}, expected tool_use")
        return
    text = "".join(block.get("text", "") for block in content if block.get("type") == "text")
    if text != expect.text:
        raise Invalid(
            f"text differs ({len(text)} chars, expected {len(expect.text or '')}): {text[:80]!r}"
        )
    if stop_reason != "end_turn":
        raise Invalid(f"stop_reason {stop_reason!r}, expected end_turn")


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of an SSE body."""
    events = []
    for raw in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not raw.strip():
            continue
        name, data = "", b""
        for line in raw.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data += line[5:].lstrip()
        payload = _decode(data) if data else {}
        events.append((name or payload.get("type", ""), payload))
    return events


def check_stream(body: bytes, expect: Expect) -> None:
    """A Messages API stream: event order, block indices, and the content."""
    events = parse_sse(body)
    content: list[dict[str, Any]] = []
    stage = "start"  # start -> blocks -> delta -> stop
    open_index: int | None = None
    stop_reason = None
    for name, data in events:
        if data.get("type", name) != name:
            raise Invalid(f"event {name} carries type {data.get('type')}")
        if name == "ping":
            continue
        if name == "error":
            raise Invalid(f"error event: {str(data.get('error'))[:200]}")
        if stage == "start":
            if name != "message_start":
                raise Invalid(f"first event {name}, expected message_start")
            stage = "blocks"
        elif stage == "blocks" and name == "content_block_start":
            if open_index is not None or data.get("index") != len(content):
                raise Invalid(f"content_block_start index {data.get('index')} (open {open_index})")
            open_index = len(content)
            block = dict(data["content_block"])
            block["_json"] = ""
            content.append(block)
        elif stage == "blocks" and name == "content_block_delta":
            if data.get("index") != open_index or open_index is None:
                raise Invalid(f"delta for block {data.get('index')}, open {open_index}")
            delta, block = data["delta"], content[open_index]
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + delta["text"]
            elif delta.get("type") == "input_json_delta":
                block["_json"] += delta["partial_json"]
        elif stage == "blocks" and name == "content_block_stop":
            if data.get("index") != open_index:
                raise Invalid(f"stop of block {data.get('index')}, open {open_index}")
            open_index = None
        elif stage == "blocks" and name == "message_delta":
            if open_index is not None:
                raise Invalid("message_delta with a block still open")
            stop_reason = data.get("delta", {}).get("stop_reason")
            stage = "delta"
        elif stage == "delta" and name == "message_stop":
            stage = "stop"
        else:
            raise Invalid(f"unexpected {name} at stage {stage}")
    if stage != "stop":
        raise Invalid(f"stream ended at stage {stage} ({len(events)} events)")
    for block in content:
        partial = block.pop("_json")
        if block.get("type") == "tool_use" and partial:
            block["input"] = _decode(partial)
    _check_content(content, expect, stop_reason)


@dataclasses.dataclass
class LoadResult:
    """Every request of one run, in completion order."""

    started: list[float] = dataclasses.field(default_factory=list)  # seconds since the run's start
    latency: list[float] = dataclasses.field(default_factory=list)  # seconds
    ttfb: list[float] = dataclasses.field(default_factory=list)  # seconds (nan if none)
    ok: list[bool] = dataclasses.field(default_factory=list)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    error_samples: list[str] = dataclasses.field(default_factory=list)
    wall: float = 0.0  # from the first send to the last completion

    @property
    def completed(self) -> int:
        return len(self.ok)

    @property
    def succeeded(self) -> int:
        return sum(self.ok)

    def add(self, started: float, latency: float, ttfb: float, error: str | None) -> None:
        self.started.append(started)
        self.latency.append(latency)
        self.ttfb.append(ttfb)
        self.ok.append(error is None)
        if error is not None:
            kind = error.split(":", 1)[0]
            self.errors[kind] += 1
            if len(self.error_samples) < 5 and error not in self.error_samples:
                self.error_samples.append(error)


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the load generator only targets loopback, not {host}")


HEADERS = {
    "content-type": "application/json",
    "anthropic-version": "2023-06-01",
    "x-api-key": "bench",
    "user-agent": "lynkr-bench",
}


def open_session(concurrency: int) -> aiohttp.ClientSession:
    """The one session of a scenario (warm-up and timed window share its connections)."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=60),
        headers=HEADERS,
        auto_decompress=False,
    )


async def _one(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    stream: bool,
    expect: Expect,
    run_start: float,
    result: LoadResult,
) -> None:
    start = time.perf_counter()
    ttfb = float("nan")
    end: float | None = None
    error = None
    try:
        async with session.post(url, data=body) as response:
            if not stream:
                ttfb = time.perf_counter() - start
            parts = []
            async for piece in response.content.iter_any():
                if not parts and stream:
                    ttfb = time.perf_counter() - start
                parts.append(piece)
            end = time.perf_counter()  # the last byte; validating is not the server's time
            data = b"".join(parts)
            if response.status != 200:
                error = f"http {response.status}: {data[:200]!r}"
            elif stream:
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    error = f"content-type: {response.headers.get('content-type')}"
                else:
                    check_stream(data, expect)
            else:
                check_message(data, expect)
    except Invalid as exc:
        error = f"invalid: {exc}"
    except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
        error = f"malformed: {type(exc).__name__} {exc}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = f"transport: {type(exc).__name__} {exc}"
    if end is None:
        end = time.perf_counter()
    result.add(start - run_start, end - start, ttfb, error)


async def run_load(
    session: aiohttp.ClientSession,
    url: str,
    *,
    stream: bool,
    concurrency: int,
    duration: float,
    max_requests: int,
    expect: Expect,
) -> LoadResult:
    """Send requests at ``concurrency`` for ``duration`` seconds or ``max_requests`` requests."""
    _check_loopback(url)
    body = request_body(stream)
    result = LoadResult()
    issued = itertools.count()
    run_start = time.perf_counter()
    deadline = run_start + duration

    async def worker() -> None:
        while time.perf_counter() < deadline and next(issued) < max_requests:
            await _one(session, url, body, stream, expect, run_start, result)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall = time.perf_counter() - run_start
    return result
