"""One request's way: policies, preparers, egress check, tool offer, each model call
(interceptors, routing, failover, provider), then ``lynkr_exchange_finished``.

HTTP stays in ``endpoints``; this module knows requests, providers and
hooks. Errors are ``LynkrError``s; anything else a plugin raises is logged
with its traceback and reaches the client as a plain 500 ``api_error``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING

import aiohttp
import structlog

from lynkr_core.breaker import CircuitBreakers
from lynkr_core.config import Settings
from lynkr_core.context import RequestContext
from lynkr_core.contracts import ExchangeObserver, Provider, RequestPreparer
from lynkr_core.errors import InvalidRequest, LynkrError, PermissionDenied
from lynkr_core.exchange import Exchange
from lynkr_core.guidance import first_unregistered, not_configured_message
from lynkr_core.interceptors import Interceptor
from lynkr_core.middleware import new_request_id
from lynkr_core.model_calls import ModelCalls, close_quietly, first_frame
from lynkr_core.observers import ExchangeObservers
from lynkr_core.orchestrator.advertise import ToolOffer
from lynkr_core.orchestrator.loop import AgentLoop
from lynkr_core.policy import Policy
from lynkr_core.redaction import Redactor
from lynkr_core.registry import Registry
from lynkr_core.resilience import RetryPolicy
from lynkr_core.routing import Router
from lynkr_core.services import ModelClient
from lynkr_core.stores import SessionStore
from lynkr_core.tokens import estimate_input_tokens
from lynkr_core.tools import Tool, ToolSource
from lynkr_core.url_sources import check_url_sources
from lynkr_core.wire.anthropic import DECODE_ERRORS, request_problem
from lynkr_core.wire.events import error_frame

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
        *,
        interceptors: Registry[Interceptor] | None = None,
        tool_sources: Registry[ToolSource] | None = None,
        sessions: SessionStore | None = None,
        observers: Sequence[ExchangeObserver] = (),
    ) -> None:
        self.settings = settings
        self.pm = pm
        #: Masks configured secrets in error messages on their way to a client.
        self.redactor = Redactor(settings.secrets())
        self.providers = providers
        self.policies = policies
        self.preparers = preparers
        self.interceptors = interceptors or Registry[Interceptor]("interceptor")
        self.observers = ExchangeObservers(pm, sessions, observers)
        self.agent = AgentLoop(settings, tools or Registry[Tool]("tool"), policies, tool_sources)
        self.router = Router.from_settings(settings.core)
        self.calls = ModelCalls(
            providers,
            self.router,
            RetryPolicy(
                retries=settings.core.upstream_retries,
                base=settings.core.retry_base_seconds,
                max_delay=settings.core.retry_max_seconds,
            ),
            self.interceptors.values(),
            keep_frames=self.observers.active,
            breakers=CircuitBreakers(
                settings.core.circuit_breaker_failures, settings.core.circuit_breaker_cooldown_seconds
            ),
        )
        #: What plugins' objects use to send a Messages request of their own.
        self.model_client = ModelClient(self._send_own)
        self.http: aiohttp.ClientSession | None = None
        #: Why no request can be answered: ``MODEL_PROVIDER``, a route or a fallback names a
        #: provider no plugin registered (what to install); ``None`` when every one is registered.
        self.unavailable = first_unregistered(self.router.named(), providers.names())

    # ------------------------------------------------------------------ setup

    def default_provider(self) -> Provider | None:
        """The provider ``MODEL_PROVIDER`` names; ``None`` when no plugin registered it."""
        return self.providers.get(self.settings.core.model_provider)

    def not_ready(self) -> str | None:
        """Why requests cannot be answered as configured: ``unavailable``, else the default
        provider's missing settings (``Provider.missing_settings``); ``None``: nothing is."""
        if self.unavailable is not None:
            return self.unavailable
        provider = self.default_provider()
        missing = provider.missing_settings() if provider is not None else []
        if missing:
            return not_configured_message(self.settings.core.model_provider, missing, default=True)
        return None

    def refuse_if_unavailable(self) -> None:
        """Raise ``unavailable`` as a 500 ``api_error`` when a named provider is not registered."""
        if self.unavailable is not None:
            raise LynkrError(self.unavailable, status=500)

    def context(
        self,
        request_id: str,
        headers: Mapping[str, str],
        *,
        client_headers: Mapping[str, str] | None = None,
        session_id: str | None = None,
        purpose: str = "messages",
    ) -> RequestContext:
        """A fresh context for one request."""
        if self.http is None:
            raise LynkrError("lynkr is not started yet", status=503)
        return RequestContext(
            request_id=request_id,
            http=self.http,
            settings=self.settings,
            # Assembled on first use (structlog's lazy logger): most requests log nothing through it.
            log=structlog.get_logger("lynkr.pipeline", request_id=request_id),
            headers=headers,
            client_headers=client_headers if client_headers is not None else {},
            session_id=session_id,
            purpose=purpose,
            provider_name=self.settings.core.model_provider,
            router=self._route,
            providers=self.providers.get,
        )

    def _route(self, request: MessagesRequest) -> list[tuple[str, str]]:
        return [(target.provider, target.model) for target in self.calls.targets_for(request)]

    def provider_named(self, name: str) -> Provider:
        """The provider registered as ``name``; a 500 ``api_error`` if there is none."""
        return self.calls.provider_named(name)

    # ------------------------------------------------------------------ steps

    async def prepare(self, request: MessagesRequest, context: RequestContext) -> MessagesRequest:
        """Run every policy (any denial wins), then every preparer in hook order, then check
        the URL sources of the request as prepared (a preparer may have added some)."""
        for policy in self.policies:
            denial = await policy.check_request(request, context)
            if denial is not None:
                context.log.info("policy_denied", policy=policy.name, reason=denial.reason)
                raise PermissionDenied(denial.reason, status=denial.status)
        for preparer in self.preparers:
            prepared = await preparer.prepare(request, context)
            if prepared is not None:
                request = prepared
        await check_url_sources(request, self.settings)
        return request

    async def offer_tools(self, request: MessagesRequest) -> ToolOffer | None:
        """``request`` with lynkr's tools added (server mode), or ``None`` when none are offered."""
        return await self.agent.offer(request)

    async def complete(self, request: MessagesRequest, context: RequestContext) -> MessageResponse:
        """Answer a non-streaming request."""
        exchange = Exchange(request=request, client_request=request, context=context, streamed=False)
        try:
            prepared = exchange.request = await self.prepare(request, context)
            offer = await self.offer_tools(prepared)
            call_model = self.calls.complete_for(context)
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
            self.observers.finish(exchange)

    async def stream(self, request: MessagesRequest, context: RequestContext) -> AsyncIterator[bytes]:
        """Answer a streaming request as SSE frames.

        An error before the first frame is raised (the client gets an HTTP
        error); after it, the stream ends with an ``error`` event.
        """
        exchange = Exchange(request=request, client_request=request, context=context, streamed=True)
        client_frames: list[bytes] | None = None
        started = False
        upstream: AsyncIterator[bytes] | None = None
        try:
            prepared = exchange.request = await self.prepare(request, context)
            offer = await self.offer_tools(prepared)
            open_step = self.calls.open_for(context)
            if offer is None:
                first, upstream = await open_step(prepared)
            else:
                # The client's message is not any one step's: keep what it got, for observers.
                client_frames = [] if self.observers.active else None
                first, upstream = await first_frame(self.agent.stream(offer, context, open_step))
            frame = first
            while True:
                started = True
                if self.redactor and b"event: error" in frame:
                    frame = self.redactor.redact(frame.decode("utf-8", "replace")).encode()
                if client_frames is not None:
                    client_frames.append(frame)
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
            if upstream is not None:
                await close_quietly(upstream)
            exchange.client_frames = client_frames
            self.observers.finish(exchange)

    async def count_tokens(self, request: MessagesRequest, context: RequestContext) -> int:
        """Input tokens of ``request`` as it would be sent (policies, preparers and the tool
        offer applied): the provider's own count, else the core's estimate."""
        context.purpose = "count_tokens"
        prepared = await self.prepare(request, context)
        offer = await self.offer_tools(prepared)
        if offer is not None:
            prepared = offer.request
        target = self.calls.targets_for(prepared)[0]
        provider = self.calls.provider_named(target.provider)
        context.provider_name, context.model = target.provider, target.model
        counted = await provider.count_tokens(prepared, context)
        if counted is not None:
            return counted
        return await asyncio.to_thread(estimate_input_tokens, prepared)

    async def _send_own(self, request: MessagesRequest, purpose: str) -> MessageResponse:
        """A plugin's own model call (``ModelClient``): routing and failover only."""
        context = self.context(new_request_id(), {}, purpose=purpose)
        context.log = context.log.bind(purpose=purpose)
        if request.is_streaming:
            request = request.replace(stream=False)
        context.begin_step(request)
        return await self.calls.routed_complete(request, context)

    # ------------------------------------------------------------------ after

    async def drain(self) -> None:
        """Wait for pending ``lynkr_exchange_finished`` calls (at shutdown)."""
        await self.observers.drain()


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
