"""What the scripted fake upstreams share: the server, request recording, wire helpers.

`FakeAnthropic`, `FakeOpenAI` and `FakeOllama` are each a `ScriptedServer`: a small
aiohttp server on 127.0.0.1 that records every request it receives (`RecordedRequest`)
and answers from a script. A subclass implements `_handle(request)` and
`default_item()`; the lifecycle (`async with`, `start()`/`stop()`,
`run_in_thread()`/`stop_thread()`) comes from here.

The functions below are the wire pieces more than one fake needs: compact JSON, ids,
rough token counts, JSON answers, `retry-after`, waiting while the client stays
connected, and writing a chunked body frame by frame.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

__all__ = [
    "RecordedRequest",
    "ScriptedServer",
    "count_input_tokens",
    "drop_connection",
    "dumps",
    "estimate_tokens",
    "json_response",
    "new_id",
    "pieces",
    "retry_after_header",
    "send_frames",
    "wait_while_connected",
]

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass
class RecordedRequest:
    """One request the fake received, as it arrived.

    `headers` has lowercased names; `json` is the decoded body or None.
    `disconnected` is set when the client went away before the response was complete.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    disconnected: bool = False


# --- wire helpers ------------------------------------------------------------------


def dumps(value: Any) -> str:
    """Compact JSON with raw UTF-8, as the real services send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def new_id(prefix: str) -> str:
    """An Anthropic-looking id such as `msg_01...` or `req_01...`."""
    return prefix + "01" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def estimate_tokens(value: Any) -> int:
    """A deterministic rough token count: about four characters of JSON per token."""
    return max(1, len(dumps(value)) // 4)


def count_input_tokens(body: dict[str, Any]) -> int:
    """Rough, deterministic input token count of a request's system, messages and tools."""
    return estimate_tokens([body.get(key) for key in ("system", "messages", "tools")])


def pieces(text: str, size: int | None) -> list[str]:
    """`text` in pieces of `size` characters (whole when None; none when empty)."""
    if not text:
        return []
    if not size:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)]


def json_response(
    status: int,
    payload: Any,
    headers: dict[str, str] | None = None,
    *,
    charset: str | None = None,
) -> web.Response:
    """`payload` as a compact JSON answer."""
    return web.Response(
        status=status,
        body=dumps(payload).encode(),
        content_type="application/json",
        charset=charset,
        headers=headers,
    )


def retry_after_header(seconds: float | None) -> dict[str, str]:
    """A `retry-after` header, or none."""
    if seconds is None:
        return {}
    value = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    return {"retry-after": value}


async def wait_while_connected(
    request: web.Request, record: RecordedRequest, seconds: float
) -> bool:
    """Sleep `seconds`; return False (and mark `record` disconnected) if the client leaves first."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        transport = request.transport
        if transport is None or transport.is_closing():
            record.disconnected = True
            return False
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return True
        await asyncio.sleep(min(remaining, 0.01))


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the connection without any response (a cut non-streaming request)."""
    request.transport.close()
    return web.StreamResponse()


async def send_frames(
    request: web.Request,
    record: RecordedRequest,
    frames: Sequence[bytes],
    *,
    headers: dict[str, str],
    delay: float = 0.0,
    gap_frame: bytes | None = None,
    abort: bool = False,
) -> web.StreamResponse:
    """Send `frames` as a chunked body, `delay` seconds apart (`gap_frame` after each wait).

    With `abort` the TCP connection is closed after the last frame instead of ending the
    body; a client that goes away marks `record.disconnected`.
    """
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        for index, frame in enumerate(frames):
            if index and delay:
                if not await wait_while_connected(request, record, delay):
                    return response
                if gap_frame:
                    await response.write(gap_frame)
            await response.write(frame)
        if abort:
            request.transport.close()
        else:
            await response.write_eof()
    except ConnectionResetError:
        record.disconnected = True
    return response


# --- the server ----------------------------------------------------------------------


class ScriptedServer:
    """An aiohttp server on a free port of 127.0.0.1 that records requests and keeps a script.

    Subclasses implement `_handle(request)` (usually starting with `await
    self._record(request)`) and `default_item()`. `script` is a sequence consumed in
    order (`default_item()` once it runs out) or a callable that gets the decoded request
    body; `_next_item(body)` gives the next answer. Use it with `async with`,
    `start()`/`stop()`, or `run_in_thread()`/`stop_thread()` when the client is
    synchronous or a subprocess.
    """

    thread_name = "fake-upstream"

    def __init__(self, script: Sequence[Any] | Callable[[Any], Any] | None) -> None:
        self.requests: list[RecordedRequest] = []
        self.base_url: str | None = None
        self._script = script if callable(script) else deque(script or ())
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def default_item(self) -> Any:
        """The item served once a sequence script is used up."""
        raise NotImplementedError

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request (implemented by each fake)."""
        raise NotImplementedError

    # lifecycle

    async def start(self) -> str:
        """Start serving on a free port of 127.0.0.1; return the base URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server (see `start`)."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    def run_in_thread(self) -> str:
        """Serve from a daemon thread with its own event loop; return the base URL."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.start(), self._loop).result(timeout=10)

    def stop_thread(self) -> None:
        """Stop a server started with `run_in_thread` and end its thread."""
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    # helpers for subclasses

    async def _record(self, request: web.Request) -> RecordedRequest:
        """Read the whole request and append it to `requests`."""
        body = await request.read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            json=decoded,
        )
        self.requests.append(record)
        return record

    def _next_item(self, body: Any) -> Any:
        """The scripted answer for this request body."""
        if callable(self._script):
            return self._script(body)
        if self._script:
            return self._script.popleft()
        return self.default_item()
