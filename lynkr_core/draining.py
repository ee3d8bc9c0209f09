"""Shutting down with requests in flight: end each one properly when the grace period is over.

On SIGTERM or SIGINT Hypercorn closes its listening sockets (new connections are
refused), closes idle keep-alive connections and lets the requests in flight run on
for ``graceful_timeout`` (``LYNKR_SHUTDOWN_GRACE_SECONDS``); a connection whose answer
is complete is closed. When the grace period is over it cancels the connections still
open. ``EndAtShutdown`` turns that cancellation of a model request into an answer the
client understands instead of a cut connection: a stream gets Anthropic's ``error``
event (``overloaded_error``, which Claude Code and the SDKs retry) and a clean end of
the body, a request whose answer had not begun gets a 529 ``overloaded_error``. Then the
lifespan shutdown closes the plugins (``lynkr_core.lifecycle``).

A client that leaves is not a cancellation here: ``CancelOnDisconnect`` turns it into
``ClientDisconnected`` further in, so a ``CancelledError`` reaching this middleware
comes from the server stopping.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lynkr_core.errors import encode_error
from lynkr_core.openai_api.errors import encode_openai_error
from lynkr_core.shedding import OPENAI_PATHS, SHED_PATHS, Overloaded
from lynkr_core.wire.events import error_frame

log = structlog.get_logger("lynkr.draining")

#: What a client is told when the grace period ended before its answer did.
SHUTDOWN_MESSAGE = "lynkr is shutting down; retry the request"
#: What the client is told: a 529 ``overloaded_error`` (Claude Code and the SDKs retry it).
SHUTDOWN_ERROR = Overloaded(SHUTDOWN_MESSAGE, retry_after=1)
#: How long the last frame (or the 529) may take to write: a client that reads nothing
#: must not hold the exit.
LAST_WRITE_SECONDS = 2.0


def shutdown_body(openai: bool) -> bytes:
    """The JSON error body for a request cut by the shutdown, in the client's API shape."""
    if openai:
        return encode_openai_error(SHUTDOWN_ERROR)
    return encode_error(SHUTDOWN_ERROR.error_type, SHUTDOWN_ERROR.message)


def shutdown_frame(openai: bool) -> bytes:
    """The last SSE frame of a stream cut by the shutdown: Anthropic's ``error`` event, or
    the ``data: {"error": ...}`` chunk the OpenAI SDKs raise."""
    if openai:
        return b"data: " + shutdown_body(openai=True) + b"\n\n"
    return error_frame(SHUTDOWN_ERROR.error_type, SHUTDOWN_ERROR.message)


class EndAtShutdown:
    """Pure ASGI middleware for the model routes (``SHED_PATHS``): when the server cancels
    a request at the end of the shutdown grace period, the client still gets a complete
    HTTP answer (see the module docstring), then the cancellation goes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in SHED_PATHS:
            await self.app(scope, receive, send)
            return
        state = _ResponseState()

        async def watched_send(message: Message) -> None:
            state.saw(message)
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if not state.finished:
                await _end_cut_request(scope, send, state)
            raise


class _ResponseState:
    """What part of the answer has been sent."""

    __slots__ = ("finished", "started", "streaming")

    def __init__(self) -> None:
        self.started = False
        self.streaming = False
        self.finished = False

    def saw(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers: Any = message.get("headers") or ()
            self.streaming = any(k.lower() == b"content-type" and v.startswith(b"text/event-stream")
                                 for k, v in headers)
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True


async def _end_cut_request(scope: Scope, send: Send, state: _ResponseState) -> None:
    """Send the end of an answer the shutdown cut: the error frame and the end of the body,
    or a whole 529; give up after ``LAST_WRITE_SECONDS`` (the client is not reading)."""
    openai = scope["path"] in OPENAI_PATHS
    try:
        async with asyncio.timeout(LAST_WRITE_SECONDS):
            if not state.started:
                log.info("shutdown_refused_request", path=scope["path"])
                body = shutdown_body(openai)
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                headers += [(k.encode(), v.encode()) for k, v in SHUTDOWN_ERROR.headers().items()]
                await send({"type": "http.response.start", "status": SHUTDOWN_ERROR.status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
            elif state.streaming:
                log.info("shutdown_ended_stream", path=scope["path"])
                await send({"type": "http.response.body", "body": shutdown_frame(openai), "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # A JSON answer already begun is written in one piece: nothing is left to end.
    except TimeoutError:
        log.warning("shutdown_last_write_timeout", path=scope["path"])
    except Exception as exc:  # the connection is already gone: nothing to tell anyone
        log.debug("shutdown_last_write_failed", path=scope["path"], error=f"{type(exc).__name__}: {exc}")


def ignore_cancelled_connections(loop: asyncio.AbstractEventLoop) -> None:
    """Keep the log clean when the grace period ends: asyncio (3.11) reports every connection
    task Hypercorn cancels as "Exception in callback ..." with a ``CancelledError``
    traceback. Those are dropped; every other report goes to the loop's handler as before."""
    previous = loop.get_exception_handler()
    if getattr(previous, "ignores_cancelled", False):
        return  # another app already did it in this loop

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.ignores_cancelled = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)
