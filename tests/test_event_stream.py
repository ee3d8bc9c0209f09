"""``EventStreamResponse``: frames out as they come, and the stream stops when the client leaves,
even where the server swallows the cancellation that says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from lynkr_core.event_stream import CLIENT_CLOSED, EventStreamResponse


class Client:
    """The ASGI side of one request: what was sent, and a ``receive`` the test can feed."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        return await self.inbox.get()

    async def send(self, message: dict) -> None:
        self.sent.append(message)
        await asyncio.sleep(0)

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


class Frames:
    """An endless stream of frames that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False
        self.made = 0
        self.flowing = asyncio.Event()  # set once a few frames went out

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                await asyncio.sleep(0)
                self.made += 1
                if self.made == 5:
                    self.flowing.set()
                yield b"event: ping\ndata: {}\n\n"
        finally:
            self.closed = True


async def finite(*frames: bytes) -> AsyncIterator[bytes]:
    for frame in frames:
        yield frame


async def test_frames_go_out_after_the_headers_and_the_stream_ends() -> None:
    client = Client()
    await EventStreamResponse(finite(b"a", b"b"))({"type": "http"}, client.receive, client.send)
    start = client.sent[0]
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert client.body() == b"ab" and client.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_the_client_leaving_mid_stream_stops_it_and_closes_the_frames() -> None:
    client, frames, left = Client(), Frames(), []
    response = EventStreamResponse(frames(), on_disconnect=lambda: left.append(True))
    running = asyncio.create_task(response({"type": "http"}, client.receive, client.send))
    await frames.flowing.wait()
    client.inbox.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(running, 2)
    assert frames.closed and left == [True]


async def test_a_swallowed_cancellation_still_stops_the_stream() -> None:
    """Hypercorn closing a connection whose write failed catches CancelledError inside ``send``."""
    client, frames, left = Client(), Frames(), []

    async def swallowing_send(message: dict) -> None:
        client.sent.append(message)
        if len(client.sent) == 4:
            client.inbox.put_nowait({"type": "http.disconnect"})  # the write failed: closing
            try:
                await asyncio.sleep(0.05)  # writer.wait_closed(), during which the watcher cancels
            except asyncio.CancelledError:
                pass  # "already closed"

    response = EventStreamResponse(frames(), on_disconnect=lambda: left.append(True))
    await asyncio.wait_for(response({"type": "http"}, client.receive, swallowing_send), 2)
    assert frames.closed and left == [True]
    assert frames.made < 10  # it stopped reading the upstream, not ran on to a timeout


async def test_a_client_gone_before_the_first_frame_is_logged_as_499() -> None:
    client, left = Client(), []

    async def never() -> AsyncIterator[bytes]:
        await asyncio.sleep(3600)
        yield b""

    response = EventStreamResponse(never(), on_disconnect=lambda: left.append(True))
    running = asyncio.create_task(response({"type": "http"}, client.receive, client.send))
    await asyncio.sleep(0)
    client.inbox.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(running, 2)
    assert left == [True] and client.sent[0]["status"] == CLIENT_CLOSED
