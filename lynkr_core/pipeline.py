"""One request's way: policies, preparers, the provider, then ``lynkr_exchange_finished``.

HTTP stays in ``endpoints``; this module knows requests, providers and
hooks. Errors are ``LynkrError``s; anything else a plugin raises is logged
with its traceback and reaches the client as a plain 500 ``api_error``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

import aiohttp
import structlog

from lynkr_core.accumulate import MessageAccumulator
from lynkr_core.config import ConfigError, Settings
from lynkr_core.contracts import Exchange, Policy, Provider, RequestContext, RequestPreparer
from lynkr_core.errors import InvalidRequest, LynkrError, PermissionDenied, UpstreamError
from lynkr_core.orchestrator.loop import AgentLoop
from lynkr_core.redaction import Redactor
from lynkr_core.registry import Registry
from lynkr_core.resilience import RetryPolicy, with_failover
from lynkr_core.routing import Router, Target
from lynkr_core.tokens import approximate_input_tokens, estimate_input_tokens
from lynkr_core.tools import Tool
from lynkr_core.wire.anthropic import DECODE_ERRORS, request_problem
from lynkr_core.wire.events import KNOWN_EVENT_TYPES, decode_event, error_frame
from lynkr_core.wire.sse import SSEParser

if TYPE_CHECKING:
    from lynkr_core.plugins import LynkrPluginManager
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest

log = structlog.get_logger("lynkr.pipeline")


class Pipeline:
    """The gateway's request handling, built once per app from what plugins registered."""

    def __init__(
        self,
        settings: Settings,
        pm: LynkrPluginManager,
        providers: Registry[Provider],
        policies: Registry[Policy],
        preparers: Registry[RequestPreparer],
        tools: Registry[Tool] | None = None,
    ) -> None:
        self.settings = settings
        self.pm = pm
        #: Masks configured secrets in error messages on their way to a client.
        self.redactor = Redactor(settings.secrets())
        self.providers = providers
        self.policies = policies
        self.preparers = preparers
        self.agent = AgentLoop(settings, tools or Registry[Tool]("tool"), policies)
        self.router = Router.from_settings(settings.core)
        self.retry = RetryPolicy(
            retries=settings.core.upstream_retries,
            base=settings.core.retry_base_seconds,
            max_delay=settings.core.retry_max_seconds,
        )
        self.http: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._observed = bool(pm.hook.lynkr_exchange_finished.get_hookimpls())

    # ------------------------------------------------------------------ setup

    def default_provider(self) -> Provider:
        """The provider ``MODEL_PROVIDER`` names; ``ConfigError`` when no plugin registered it,
        or when a route or fallback names a provider no plugin registered."""
        known = ", ".join(self.providers.names()) or "none"
        name = self.settings.core.model_provider
        provider = self.providers.get(name)
        if provider is None:
            raise ConfigError(
                f"MODEL_PROVIDER={name!r}, but no installed plugin registers that provider "
                f"(registered: {known}). Install its plugin or set MODEL_PROVIDER."
            )
        for routed in sorted(self.router.providers() - set(self.providers.names())):
            raise ConfigError(
                f"a route or FALLBACK_PROVIDER names provider {routed!r}, but no installed plugin "
                f"registers it (registered: {known})."
            )
        return provider

    def context(self, request_id: str, headers: Mapping[str, str]) -> RequestContext:
        """A fresh context for one request."""
        if self.http is None:
            raise LynkrError("lynkr is not started yet", status=503)
        return RequestContext(
            request_id=request_id,
            http=self.http,
            settings=self.settings,
            log=log.bind(request_id=request_id),
            headers=headers,
            provider_name=self.settings.core.model_provider,
        )

    # ------------------------------------------------------------------ steps

    async def prepare(self, request: MessagesRequest, context: RequestContext) -> MessagesRequest:
        """Run every policy (any denial wins), then every preparer in order."""
        for policy in self.policies:
            denial = await policy.check_request(request, context)
            if denial is not None:
                context.log.info("policy_denied", policy=policy.name, reason=denial.reason)
                raise PermissionDenied(denial.reason, status=denial.status)
        for preparer in self.preparers:
            prepared = await preparer.prepare(request, context)
            if prepared is not None:
                request = prepared
        return request

    def targets_for(self, request: MessagesRequest) -> list[Target]:
        """The providers (and upstream models) to try for ``request``, in order."""
        return self.router.targets(request.model, lambda: approximate_input_tokens(request))

    def _aim(self, context: RequestContext, target: Target) -> Provider:
        """The provider of ``target``, with ``context`` saying which one and which model."""
        provider = self.provider_named(target.provider)
        context.provider_name = target.provider
        context.model = target.model
        return provider

    def provider_named(self, name: str) -> Provider:
        """The provider registered as ``name``; a 500 ``api_error`` if there is none."""
        provider = self.providers.get(name)
        if provider is None:
            raise LynkrError(f"provider {name!r} is not registered", status=500)
        return provider

    async def complete(self, request: MessagesRequest, context: RequestContext) -> MessageResponse:
        """Answer a non-streaming request."""
        exchange = Exchange(request=request, context=context, streamed=False)
        try:
            prepared = exchange.request = await self.prepare(request, context)

            async def call_model(step: MessagesRequest) -> MessageResponse:
                async def attempt(target: Target) -> MessageResponse:
                    return await self._aim(context, target).complete(step, context)

                return await with_failover(self.targets_for(step), attempt, self.retry, context.log)

            offer = self.agent.offer(prepared)
            exchange.response = await (
                call_model(prepared) if offer is None else self.agent.complete(offer, context, call_model)
            )
            return exchange.response
        except LynkrError as exc:
            exchange.error = exc
            raise
        except asyncio.CancelledError:
            exchange.disconnected = True
            raise
        except Exception as exc:
            exchange.error = _unexpected_error(exc, request, context)
            raise exchange.error from exc
        finally:
            self._finish(exchange)

    async def stream(self, request: MessagesRequest, context: RequestContext) -> AsyncIterator[bytes]:
        """Answer a streaming request as SSE frames.

        An error before the first frame is raised (the client gets an HTTP
        error); after it, the stream ends with an ``error`` event.
        """
        exchange = Exchange(request=request, context=context, streamed=True)
        accumulator = MessageAccumulator() if self._observed else None
        parser = SSEParser() if accumulator is not None else None
        started = False
        upstream: AsyncIterator[bytes] | None = None
        try:
            prepared = exchange.request = await self.prepare(request, context)

            async def open_step(step: MessagesRequest) -> tuple[bytes, AsyncIterator[bytes]]:
                async def attempt(target: Target) -> tuple[bytes, AsyncIterator[bytes]]:
                    provider = self._aim(context, target)
                    return await _first_frame(provider.stream(step, context))

                return await with_failover(self.targets_for(step), attempt, self.retry, context.log)

            offer = self.agent.offer(prepared)
            if offer is None:
                first, upstream = await open_step(prepared)
            else:
                first, upstream = await _first_frame(self.agent.stream(offer, context, open_step))
            frame = first
            while True:
                if parser is not None:
                    _observe(parser, accumulator, frame)
                started = True
                if self.redactor and b"event: error" in frame:
                    frame = self.redactor.redact(frame.decode("utf-8", "replace")).encode()
                yield frame
                try:
                    frame = await anext(upstream)
                except StopAsyncIteration:
                    break
        except LynkrError as exc:
            exchange.error = exc
            if not started:
                raise
            context.log.warning("stream_failed", error_type=exc.error_type, error=exc.message)
            yield error_frame(exc.error_type, self.redactor.redact(exc.message))
        except (asyncio.CancelledError, GeneratorExit):
            exchange.disconnected = True
            raise
        except Exception as exc:
            exchange.error = _unexpected_error(exc, request, context)
            if not started:
                raise exchange.error from exc
            yield error_frame(exchange.error.error_type, self.redactor.redact(exchange.error.message))
        finally:
            if upstream is not None and hasattr(upstream, "aclose"):
                await _close_quietly(upstream)
            if accumulator is not None:
                exchange.response = accumulator.message()
            self._finish(exchange)

    async def count_tokens(self, request: MessagesRequest, context: RequestContext) -> int:
        """Input tokens: the provider's own count, else the core's estimate."""
        provider = self._aim(context, self.targets_for(request)[0])
        counted = await provider.count_tokens(request, context)
        if counted is not None:
            return counted
        return await asyncio.to_thread(estimate_input_tokens, request)

    # ------------------------------------------------------------------ after

    def _finish(self, exchange: Exchange) -> None:
        exchange.duration = time.monotonic() - exchange.context.started
        exchange.context.log.info(
            "exchange",
            provider=exchange.context.provider_name,
            upstream_model=exchange.context.model or None,
            model=exchange.request.model,
            streamed=exchange.streamed,
            status="disconnected" if exchange.disconnected else (
                exchange.error.status if exchange.error else 200
            ),
            duration_ms=round(exchange.duration * 1000, 1),
        )
        if not self._observed:
            return
        # A task of its own: a cancelled stream must still be reported, and
        # the client must not wait for the observers.
        task = asyncio.get_running_loop().create_task(self._notify(exchange))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _notify(self, exchange: Exchange) -> None:
        for impl in self.pm.hook.lynkr_exchange_finished.get_hookimpls():
            try:
                self.pm.trace_call(impl.plugin_name, "lynkr_exchange_finished")
                result = impl.function(exchange=exchange)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                exchange.context.log.exception("exchange_hook_failed", plugin=impl.plugin_name)

    async def drain(self) -> None:
        """Wait for pending ``lynkr_exchange_finished`` calls (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _observe(parser: SSEParser, accumulator: MessageAccumulator | None, frame: bytes) -> None:
    for event in parser.feed(frame):
        if accumulator is not None and event.event in KNOWN_EVENT_TYPES:
            try:
                accumulator.add(decode_event(event.data))
            except Exception:  # a frame we cannot read is the provider's problem, not ours
                log.debug("unreadable_event", event=event.event)


async def _first_frame(upstream: AsyncIterator[bytes]) -> tuple[bytes, AsyncIterator[bytes]]:
    """Wait for a stream's first frame, so that a failure before it can still be
    retried, failed over, or answered with an HTTP error."""
    try:
        first = await anext(upstream)
    except StopAsyncIteration:
        raise UpstreamError("the provider sent an empty stream", status=502) from None
    except BaseException:
        await _close_quietly(upstream)
        raise
    return first, upstream


async def _close_quietly(stream: AsyncIterator[bytes]) -> None:
    try:
        await stream.aclose()  # type: ignore[attr-defined]
    except (Exception, asyncio.CancelledError):
        pass


def _unexpected_error(exc: Exception, request: MessagesRequest, context: RequestContext) -> LynkrError:
    """What a client is told of an exception that is not a ``LynkrError``: a 400 naming the
    place when a plugin failed to decode a malformed part of the request (the client's
    error), otherwise a 500 with the traceback in the log (a bug)."""
    if isinstance(exc, DECODE_ERRORS):
        problem = request_problem(request)
        if problem is not None:
            context.log.info("invalid_request", problem=problem, error=type(exc).__name__)
            return InvalidRequest(problem)
    return _internal_error(exc, context)


def _internal_error(exc: Exception, context: RequestContext) -> LynkrError:
    context.log.exception("internal_error", error=f"{type(exc).__name__}: {exc}")
    return LynkrError(f"internal error in lynkr ({type(exc).__name__}); see the server log "
                      f"for request {context.request_id}", status=500)
