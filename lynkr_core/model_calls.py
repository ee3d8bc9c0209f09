"""Each model call of a request: interceptors, then routing, retries and failover, recorded.

Every call is a ``Step`` of the request's context; every provider tried for
it is an ``Attempt`` of that step. The interceptors wrap the whole of it,
outside routing and failover; ``routed_complete`` and ``routed_open`` are
the calls without them (what ``ModelClient`` uses).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from lynkr_core.breaker import SKIPPED_CIRCUIT_OPEN, CircuitBreakers, CircuitOpen
from lynkr_core.context import RequestContext
from lynkr_core.contracts import Provider
from lynkr_core.errors import LynkrError, UpstreamError
from lynkr_core.exchange import Attempt, Step
from lynkr_core.guidance import not_configured_message
from lynkr_core.interceptors import CompleteNext, Interceptor, chain_complete, chain_stream
from lynkr_core.orchestrator.stream import OpenStep
from lynkr_core.registry import Registry
from lynkr_core.resilience import RetryPolicy, with_failover
from lynkr_core.routing import Router, Target
from lynkr_core.tokens import approximate_input_tokens
from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest


class ModelCalls:
    """Makes the model calls of requests for one app.

    ``keep_frames``: a stream's steps keep their SSE bytes, so that the
    exchange's observers can see each step's message.
    """

    def __init__(
        self,
        providers: Registry[Provider],
        router: Router,
        retry: RetryPolicy,
        interceptors: Sequence[Interceptor] = (),
        *,
        keep_frames: bool = False,
        breakers: CircuitBreakers | None = None,
    ) -> None:
        self.providers = providers
        self.router = router
        self.retry = retry
        self.interceptors = tuple(interceptors)
        self.keep_frames = keep_frames
        #: One circuit breaker per target: a failing target is skipped for a while.
        self.breakers = breakers if breakers is not None else CircuitBreakers()

    def targets_for(self, request: MessagesRequest) -> list[Target]:
        """The providers (and upstream models) to try for ``request``, in order."""
        return self.router.targets(request.model, lambda: approximate_input_tokens(request))

    def provider_named(self, name: str) -> Provider:
        """The provider registered as ``name``; a 500 ``api_error`` if there is none, or if it
        misses settings (naming them, before anything is sent)."""
        provider = self.providers.get(name)
        if provider is None:
            raise LynkrError(f"provider {name!r} is not registered", status=500)
        missing = provider.missing_settings()
        if missing:
            default = name == self.router.default.provider
            raise LynkrError(not_configured_message(name, missing, default=default), status=500)
        return provider

    # ------------------------------------------------------------------ JSON

    def complete_for(self, context: RequestContext) -> CompleteNext:
        """The JSON model call of ``context``'s request: each call a step, through the interceptors."""

        async def routed(request: MessagesRequest) -> MessageResponse:
            return await self.routed_complete(request, context)

        chain = chain_complete(self.interceptors, context, routed) if self.interceptors else routed

        async def call_model(request: MessagesRequest) -> MessageResponse:
            step = context.begin_step(request)
            try:
                step.response = await chain(request)
            except BaseException as exc:
                step.finish(exc)
                raise
            step.finish()
            return step.response

        return call_model

    async def routed_complete(self, request: MessagesRequest, context: RequestContext) -> MessageResponse:
        """``request`` answered by the first target that succeeds (no interceptors)."""

        async def attempt(target: Target) -> MessageResponse:
            provider = self.provider_named(target.provider)
            record = context.begin_attempt(target.provider, target.model)
            try:
                with self.breakers.guard(str(target)):
                    response = await provider.complete(request, context)
            except BaseException as exc:
                _failed(record, exc)
                raise
            record.succeeded()
            return response

        return await with_failover(
            self.targets_for(request), attempt, self.retry, context.log, on_overflow=self.router.long_context
        )

    # ------------------------------------------------------------------ streams

    def open_for(self, context: RequestContext) -> OpenStep:
        """The streamed model call of ``context``'s request: each call a step, through the
        interceptors; returns the first frame and the rest once the first frame is there."""
        chain = None
        if self.interceptors:
            chain = chain_stream(self.interceptors, context, lambda request: self._routed_frames(request, context))

        async def open_step(request: MessagesRequest) -> tuple[bytes, AsyncIterator[bytes]]:
            step = context.begin_step(request)
            try:
                if chain is None:
                    first, frames = await self.routed_open(request, context)
                else:
                    first, frames = await first_frame(chain(request))
            except BaseException as exc:
                step.finish(exc)
                raise
            if self.keep_frames:
                frames = _kept(step, first, frames)
            return first, frames

        return open_step

    async def routed_open(
        self, request: MessagesRequest, context: RequestContext
    ) -> tuple[bytes, AsyncIterator[bytes]]:
        """The first target's stream that starts: its first frame and the rest (no interceptors)."""

        async def attempt(target: Target) -> tuple[bytes, AsyncIterator[bytes]]:
            provider = self.provider_named(target.provider)
            record = context.begin_attempt(target.provider, target.model)
            try:
                with self.breakers.guard(str(target)):
                    opened = await first_frame(provider.stream(request, context))
            except BaseException as exc:
                _failed(record, exc)
                raise
            record.succeeded(first_token=True)
            return opened

        return await with_failover(
            self.targets_for(request), attempt, self.retry, context.log, on_overflow=self.router.long_context
        )

    async def _routed_frames(self, request: MessagesRequest, context: RequestContext) -> AsyncIterator[bytes]:
        first, frames = await self.routed_open(request, context)
        try:
            yield first
            async for frame in frames:
                yield frame
        finally:
            await close_quietly(frames)


def _failed(record: Attempt, error: BaseException) -> None:
    """Record an attempt's failure, and whether a circuit breaker refused it unsent."""
    record.failed(error)
    if isinstance(error, CircuitOpen):
        record.skipped = SKIPPED_CIRCUIT_OPEN


async def _kept(step: Step, first: bytes, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``frames`` unchanged, each also kept on ``step`` (with ``first``); the step's end recorded."""
    kept = step.frames = [first]
    try:
        async for frame in frames:
            kept.append(frame)
            yield frame
    except BaseException as exc:
        step.finish(exc)
        raise
    else:
        step.finish()
    finally:
        await close_quietly(frames)


async def first_frame(upstream: AsyncIterator[bytes]) -> tuple[bytes, AsyncIterator[bytes]]:
    """Wait for a stream's first frame, so that a failure before it can still be
    retried, failed over, or answered with an HTTP error."""
    try:
        first = await anext(upstream)
    except StopAsyncIteration:
        raise UpstreamError("the provider sent an empty stream", status=502) from None
    except BaseException:
        await close_quietly(upstream)
        raise
    return first, upstream


async def close_quietly(stream: AsyncIterator[bytes]) -> None:
    """Close ``stream`` if it can be closed, ignoring what closing raises."""
    close = getattr(stream, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except (Exception, asyncio.CancelledError):
        pass
