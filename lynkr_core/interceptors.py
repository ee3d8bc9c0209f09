"""Interceptors: plugins' objects that wrap each model call.

An interceptor sees every model call (each step of the server-side agent
loop) after the preparers and the tool offer, outside routing and failover:
``call_next(request)`` goes on to the next interceptor and finally to
routing, retries, failover and the provider. It may change the request,
look at or change the answer, time the call, or answer by itself without
calling ``call_next`` at all (a cache)::

    class Timer(Interceptor):
        name = "timer"

        async def complete(self, request, context, call_next):
            started = time.monotonic()
            try:
                return await call_next(request)
            finally:
                record(time.monotonic() - started)

        async def stream(self, request, context, call_next):
            async for frame in call_next(request):
                yield frame

A stream is SSE bytes, whole frames (``lynkr_core.streams`` has the tools:
``tap`` to watch the events, ``message_frames`` to replay a stored message).
An error before the first frame reaches the client as an HTTP error; one
after it ends the stream with an ``error`` event. The interceptor registered
first (in hook order) is the outermost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lynkr_core.context import RequestContext
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest

CompleteNext = Callable[["MessagesRequest"], Awaitable["MessageResponse"]]
StreamNext = Callable[["MessagesRequest"], AsyncIterator[bytes]]


class Interceptor:
    """Wraps each model call; the defaults pass the call on unchanged."""

    name: str = ""

    async def complete(
        self, request: MessagesRequest, context: RequestContext, call_next: CompleteNext
    ) -> MessageResponse:
        """Answer a JSON model call: ``await call_next(request)``, or a message of your own."""
        return await call_next(request)

    def stream(
        self, request: MessagesRequest, context: RequestContext, call_next: StreamNext
    ) -> AsyncIterator[bytes]:
        """Answer a streamed model call with SSE frames: ``call_next(request)``'s, changed or
        watched, or frames of your own (an async generator is the usual way to write it)."""
        return call_next(request)


def chain_complete(
    interceptors: Sequence[Interceptor], context: RequestContext, innermost: CompleteNext
) -> CompleteNext:
    """``innermost`` wrapped by every interceptor, the first one outermost."""
    call = innermost
    for interceptor in reversed(interceptors):
        call = _complete_link(interceptor, context, call)
    return call


def chain_stream(
    interceptors: Sequence[Interceptor], context: RequestContext, innermost: StreamNext
) -> StreamNext:
    """``innermost`` wrapped by every interceptor, the first one outermost."""
    call = innermost
    for interceptor in reversed(interceptors):
        call = _stream_link(interceptor, context, call)
    return call


def _complete_link(interceptor: Interceptor, context: RequestContext, call_next: CompleteNext) -> CompleteNext:
    def link(request: MessagesRequest) -> Awaitable[MessageResponse]:
        return interceptor.complete(request, context, call_next)

    return link


def _stream_link(interceptor: Interceptor, context: RequestContext, call_next: StreamNext) -> StreamNext:
    def link(request: MessagesRequest) -> AsyncIterator[bytes]:
        return interceptor.stream(request, context, call_next)

    return link
