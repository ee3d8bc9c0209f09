"""After a request: the ``exchange`` log line, and ``lynkr_exchange_finished`` off the request path."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

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
    cancelled stream is still reported; the client never waits)."""

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
        self.active = (
            sessions is not None or bool(self.observers) or bool(pm.hook_calls("lynkr_exchange_finished"))
        )
        self._background: set[asyncio.Task[None]] = set()

    def finish(self, exchange: Exchange) -> None:
        """Log ``exchange`` and, when observed, hand it on (a streamed message is rebuilt only
        if an observer reads it: ``Exchange.response``)."""
        exchange.duration = time.monotonic() - exchange.context.started
        context = exchange.context
        context.log.info(
            "exchange",
            provider=context.provider_name,
            upstream_model=context.model or None,
            model=exchange.request.model,
            streamed=exchange.streamed,
            status="disconnected" if exchange.disconnected else exchange.status,
            duration_ms=round(exchange.duration * 1000, 1),
        )
        if not self.active:
            return
        task = asyncio.get_running_loop().create_task(self._notify(exchange))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _notify(self, exchange: Exchange) -> None:
        if self.sessions is not None:
            try:
                await self.sessions.record(exchange)
            except Exception:
                exchange.context.log.exception("session_record_failed", store=type(self.sessions).__name__)
        for observer in self.observers:
            try:
                await observer.exchange_finished(exchange)
            except Exception:
                exchange.context.log.exception("observer_failed", observer=observer.name)
        await self.pm.run_hook(
            "lynkr_exchange_finished", strict=False, exchange=exchange, services=self.services
        )

    async def drain(self) -> None:
        """Wait for pending notifications (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

