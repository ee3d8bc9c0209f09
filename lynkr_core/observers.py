"""After a request: what its log line says of the exchange, and ``lynkr_exchange_finished``
off the request path."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING

import structlog

from lynkr_core.request_line import add_to_request_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lynkr_core.contracts import ExchangeObserver
    from lynkr_core.exchange import Exchange
    from lynkr_core.plugins import LynkrPluginManager
    from lynkr_core.services import Services
    from lynkr_core.stores import SessionStore

log = structlog.get_logger("lynkr.pipeline")


class ExchangeObservers:
    """Logs each finished exchange, records it in the session store (if a plugin provides
    one) and hands it to the registered observers, then to the plugins'
    ``lynkr_exchange_finished``, in a task of its own (a
    cancelled stream is still reported; the client never waits).

    When there is no hook implementation and the session store's ``record`` and every
    observer are plain functions (in-memory bookkeeping, or queueing for a thread: every
    bundled plugin), they are called from the event loop soon after, without a task: a
    task per exchange costs a request more than such observers do."""

    def __init__(
        self,
        pm: LynkrPluginManager,
        sessions: SessionStore | None = None,
        observers: Sequence[ExchangeObserver] = (),
    ) -> None:
        self.pm = pm
        self.sessions = sessions
        self.observers = tuple(observers)
        #: Given to the hook; set when the server starts.
        self.services: Services | None = None
        #: Whether anything observes exchanges (if nothing does, nothing is kept for it).
        hooked = bool(pm.hook_calls("lynkr_exchange_finished"))
        self.active = sessions is not None or bool(self.observers) or hooked
        #: Whether the observers need a task (something to await), or can run from a callback.
        self._awaiting = hooked or (sessions is not None and inspect.iscoroutinefunction(sessions.record)) or any(
            inspect.iscoroutinefunction(observer.exchange_finished) for observer in self.observers)
        self._hooked = hooked
        self._background: set[asyncio.Task[None]] = set()

    def finish(self, exchange: Exchange) -> None:
        """Log ``exchange`` and, when observed, hand it on (a streamed message is rebuilt only
        if an observer reads it: ``Exchange.response``).

        The exchange's fields go on its HTTP request's one ``http`` line (written by the
        middleware when the response is sent: ``request_line``); an exchange with no such
        line to join gets an ``exchange`` line of its own."""
        exchange.duration = time.monotonic() - exchange.context.started
        context = exchange.context
        fields = {
            "provider": context.provider_name,
            "upstream_model": context.model or None,
            "model": exchange.request.model,
            "streamed": exchange.streamed,
            "exchange_status": "disconnected" if exchange.disconnected else exchange.status,
        }
        if not add_to_request_line(fields):
            status = fields.pop("exchange_status")
            context.log.info("exchange", **fields, status=status, duration_ms=round(exchange.duration * 1000, 1))
        if not self.active:
            return
        loop = asyncio.get_running_loop()
        if not self._awaiting:
            loop.call_soon(self._notify_plain, exchange)
            return
        task = loop.create_task(self._notify(exchange))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _notify_plain(self, exchange: Exchange) -> None:
        """The session store and every observer, each a plain function."""
        if self.sessions is not None:
            try:
                self.sessions.record(exchange)
            except Exception:
                exchange.context.log.exception("session_record_failed", store=type(self.sessions).__name__)
        for observer in self.observers:
            try:
                observer.exchange_finished(exchange)
            except Exception:
                exchange.context.log.exception("observer_failed", observer=observer.name)

    async def _notify(self, exchange: Exchange) -> None:
        if self.sessions is not None:
            try:
                result = self.sessions.record(exchange)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                exchange.context.log.exception("session_record_failed", store=type(self.sessions).__name__)
        for observer in self.observers:
            try:
                result = observer.exchange_finished(exchange)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                exchange.context.log.exception("observer_failed", observer=observer.name)
        if self._hooked:
            await self.pm.run_hook(
                "lynkr_exchange_finished", strict=False, exchange=exchange, services=self.services
            )

    async def drain(self) -> None:
        """Wait for pending notifications (at shutdown)."""
        await asyncio.sleep(0)  # plain observers called back from the loop: now run
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

