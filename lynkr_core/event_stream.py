"""The SSE response of ``POST /v1/messages``.

Starlette's ``StreamingResponse`` would do, but at the ASGI spec version
Hypercorn speaks it runs every response in a task group with a second task
listening for the disconnect, and ``create_message`` needs a watcher of its own
before the first frame. ``EventStreamResponse`` does both with one watcher
and no extra task, and sends the first frame right after the headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lynkr_core.disconnect import CancelOnDisconnect, ClientDisconnected

#: Status logged (never seen by anyone) when the client left before the answer began.
CLIENT_CLOSED = 499
#: Every stream's headers, built once (what ``Response.init_headers`` would build each time).
RAW_HEADERS = [
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"content-type", b"text/event-stream; charset=utf-8"),
]


class EventStreamResponse(Response):
    """Streams ``frames`` (SSE bytes) as ``text/event-stream``.

    Nothing is sent until the first frame exists: an error raised before it
    propagates, so the client gets an HTTP error with the right status. If the
    client leaves, the frames' iterator is cancelled and closed at once (which
    closes the upstream request) and ``on_disconnect`` is called.
    """

    media_type = "text/event-stream; charset=utf-8"

    def __init__(
        self,
        frames: AsyncIterator[bytes],
        on_disconnect: Callable[[], None] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.frames = frames
        self.on_disconnect = on_disconnect
        self.status_code = 200
        self.background = None
        self.raw_headers = list(RAW_HEADERS)
        #: Headers plugins set while the first frame was made (read when it is there).
        self.extra_headers = extra_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream; the ASGI app interface."""
        started = False
        try:
            async with CancelOnDisconnect(receive) as watch:
                frame = await anext(self.frames, None)
                if self.extra_headers:
                    self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                         for k, v in self.extra_headers.items()]
                await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
                started = True
                while frame is not None:
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
                    if watch.disconnected:
                        # The watcher's cancellation can be swallowed: Hypercorn, closing a
                        # connection whose write failed inside ``send``, catches CancelledError.
                        break  # the block then ends with ClientDisconnected all the same
                    frame = await anext(self.frames, None)
                if not watch.disconnected:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        except ClientDisconnected:
            if self.on_disconnect is not None:
                self.on_disconnect()
            if not started:
                await send({"type": "http.response.start", "status": CLIENT_CLOSED, "headers": []})
                await send({"type": "http.response.body", "body": b""})
        finally:
            close = getattr(self.frames, "aclose", None)
            if close is not None:
                await close()
