"""The prompt cache as an interceptor: each model call answered from the store when it can be.

For each call: ``rules.bypass_reason`` may rule the cache out (the call passes through
untouched); otherwise the call's key is computed (``key``), an identical call under way
in this process is waited for (``flight``), else the store is asked; a hit is replayed
(``replay``), a miss goes upstream and its answer, if worth keeping, is stored before the
client sees the end of it (so that the next identical request, in any worker, hits).

The client's response says what happened, for the request's first model call, in
``x-lynkr-cache``: ``hit``, ``miss`` (looked up, not found; the fresh answer is stored
when it may be), ``refresh`` (not looked up, fresh answer stored) or ``bypass`` (the
cache stayed out). Every step a hit answered names the cache in
``Step.answered_by``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import structlog

from lynkr_cache import replay
from lynkr_cache.background import Counters, StoreThread
from lynkr_cache.config import DIR_NAME, PLUGIN_NAME, CacheSettings
from lynkr_cache.flight import Flight, Flights, wait_for
from lynkr_cache.key import KeyMaker
from lynkr_cache.rules import bypass_reason, refresh_requested, stream_problem, unstorable_reason
from lynkr_cache.store import STORE_ERRORS, Store
from lynkr_core import (
    CompleteNext,
    Interceptor,
    MessageAccumulator,
    RequestContext,
    Services,
    Step,
    StreamNext,
    anthropic,
    tap,
)

HEADER = "x-lynkr-cache"

log = structlog.get_logger(PLUGIN_NAME)


@dataclass(frozen=True, slots=True)
class Plan:
    """A call the cache takes part in: its key, where routing sends it, whether to look up."""

    key: str
    route: tuple[str, str]
    refresh: bool


class PromptCache(Interceptor):
    """Answers repeated model calls from a persistent store, as JSON or as a replayed stream."""

    name = PLUGIN_NAME

    def __init__(self, config: CacheSettings) -> None:
        self.config = config
        self.keys = KeyMaker()
        self.flights = Flights()
        self.thread = StoreThread()
        self.counters = Counters(self.thread)

    async def start(self, services: Services) -> None:
        """Open the store under ``LYNKR_HOME/lynkr-cache``."""
        directory = services.data_dir(DIR_NAME)
        config = self.config
        await self.thread.open(
            lambda: Store(
                directory,
                ttl_seconds=config.ttl_seconds,
                max_entries=config.max_entries,
                max_bytes=config.max_bytes,
            )
        )

    async def close(self) -> None:
        """Write the pending statistics and close the store."""
        await self.counters.close()
        await self.thread.close()

    # ------------------------------------------------------------------ JSON

    async def complete(
        self, request: anthropic.MessagesRequest, context: RequestContext, call_next: CompleteNext
    ) -> anthropic.MessageResponse:
        """A stored answer, or upstream's (stored when it may be)."""
        plan = self._plan(request, context)
        if plan is None:
            return await call_next(request)
        stored, flight = await self._find(plan, context)
        if stored is not None:
            return self._hit(stored, context)
        step = _current_step(context)
        try:
            response = await call_next(request)
            await self._keep(plan, response, None, step, flight)
        finally:
            if flight is not None:
                flight.end()
        return response

    # ------------------------------------------------------------------ streams

    def stream(
        self, request: anthropic.MessagesRequest, context: RequestContext, call_next: StreamNext
    ) -> AsyncIterator[bytes]:
        """A stored answer replayed, or upstream's stream, watched and stored when it may be."""
        plan = self._plan(request, context)
        if plan is None:
            return call_next(request)
        return self._stream(plan, request, context, call_next)

    async def _stream(
        self,
        plan: Plan,
        request: anthropic.MessagesRequest,
        context: RequestContext,
        call_next: StreamNext,
    ) -> AsyncIterator[bytes]:
        stored, flight = await self._find(plan, context)
        if stored is not None:
            for chunk in replay.hit_chunks(self._hit(stored, context)):
                yield chunk
            return
        step = _current_step(context)
        accumulator = MessageAccumulator()
        try:
            frames = tap(call_next(request), accumulator.add)
            try:
                async for frame in frames:
                    yield frame
            finally:
                await frames.aclose()
            await self._keep(plan, accumulator.message(), stream_problem(accumulator), step, flight)
        finally:
            if flight is not None:
                flight.end()

    # ------------------------------------------------------------------ the steps of a call

    def _plan(self, request: anthropic.MessagesRequest, context: RequestContext) -> Plan | None:
        """The call's plan, or ``None`` (counted, marked) when the cache stays out of it."""
        reason = bypass_reason(
            request,
            context.client_headers,
            context.steps[:-1],
            nondeterministic=self.config.nondeterministic,
        )
        if reason is None and self.thread.store is None:
            reason = "the store is not open"
        if reason is not None:
            self._outcome(context, "bypass", reason=reason)
            self.counters.add(bypassed=1)
            return None
        route = context.route(request)[0]
        try:
            key = self.keys.key(request, route, context.headers)
        except (msgspec.MsgspecError, RecursionError) as exc:  # content nested beyond reason
            self._outcome(context, "bypass", reason=f"no key: {type(exc).__name__}")
            self.counters.add(bypassed=1)
            return None
        return Plan(key=key, route=route, refresh=refresh_requested(context.client_headers))

    async def _find(
        self, plan: Plan, context: RequestContext
    ) -> tuple[anthropic.MessageResponse | None, Flight | None]:
        """``(stored answer, None)`` for a hit; ``(None, flight)`` when this call asks upstream
        and the identical calls wait for it; ``(None, None)`` when it asks upstream alone."""
        if plan.refresh:
            self._outcome(context, "refresh", key=plan.key)
            self.counters.add(bypassed=1)
            return None, None
        under_way = self.flights.find(plan.key)
        if under_way is None:
            stored = await self._load(plan.key)
            if stored is not None:
                return stored, None
            under_way = self.flights.find(plan.key)  # another call may have started meanwhile
        if under_way is None:
            self._outcome(context, "miss", key=plan.key)
            self.counters.add(misses=1)
            return None, self.flights.lead(plan.key)
        answer = await wait_for(under_way)
        if answer is None:
            self._outcome(context, "miss", key=plan.key, reason="the identical call under way brought nothing to share")
            self.counters.add(misses=1)
        return answer, None

    def _hit(self, stored: anthropic.MessageResponse, context: RequestContext) -> anthropic.MessageResponse:
        saved_input, saved_output = replay.saved_tokens(stored)
        self.counters.add(hits=1, saved_input_tokens=saved_input, saved_output_tokens=saved_output)
        if context.steps:
            context.steps[-1].answered_by = self.name
        self._outcome(context, "hit")
        return replay.hit_message(stored)

    async def _keep(
        self,
        plan: Plan,
        message: anthropic.MessageResponse | None,
        problem: str | None,
        step: Step | None,
        flight: Flight | None,
    ) -> None:
        """Hand a keepable answer to the waiting calls, then store it."""
        reason = problem or unstorable_reason(message, step, plan.route)
        if reason is not None:
            log.debug("cache_not_stored", key=plan.key[:16], reason=reason)
            return
        assert message is not None
        if flight is not None:
            flight.land(message)
        store = self.thread.store
        if store is None:
            return
        try:
            await self.thread.run(store.put, plan.key, replay.encode(message))
        except STORE_ERRORS as exc:
            log.warning("cache_store_failed", key=plan.key[:16], error=str(exc))
            return
        self.counters.add(stored=1)

    async def _load(self, key: str) -> anthropic.MessageResponse | None:
        store = self.thread.store
        if store is None:
            return None
        try:
            value = await self.thread.run(store.get, key)
        except STORE_ERRORS as exc:
            log.warning("cache_lookup_failed", key=key[:16], error=str(exc))
            return None
        if value is None:
            return None
        try:
            return replay.decode(value)
        except msgspec.MsgspecError as exc:
            log.warning("cache_entry_unreadable", key=key[:16], error=str(exc))
            return None

    def _outcome(self, context: RequestContext, outcome: str, *, key: str = "", reason: str = "") -> None:
        """Mark the response (the request's first model call only) and log the outcome."""
        if len(context.steps) <= 1:
            context.response_headers[HEADER] = outcome
        context.log.debug("prompt_cache", outcome=outcome, key=key[:16], reason=reason or None)


def _current_step(context: RequestContext) -> Step | None:
    return context.steps[-1] if context.steps else None
