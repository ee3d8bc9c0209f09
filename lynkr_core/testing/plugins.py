"""Plugins written inline in a test: ``inline_plugin(interceptors=[...], tools=[...])``.

Each keyword names a registration hook without its ``lynkr_register_``
prefix (``providers``, ``policies``, ``tools``, ``tool_sources``,
``preparers``, ``interceptors``, ``observers``, ``stores``, ``routes``) and lists the
objects to register; ``hooks`` adds other hook implementations as they are::

    pm = make_plugin_manager(settings, plugins=[("mine", inline_plugin(interceptors=[Timer()]))])

``RecordingSessions`` is a session store that only keeps what it is given to record;
``HeldRecorder`` an observer that records exchanges on a background queue whose worker
waits until the test lets it go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from lynkr_core.background import BackgroundQueue
from lynkr_core.contracts import ExchangeObserver
from lynkr_core.hookspecs import hookimpl
from lynkr_core.stores import SessionStore

KINDS = (
    "providers", "policies", "tools", "tool_sources", "preparers", "interceptors", "observers", "stores",
    "routes",
)


def inline_plugin(
    *,
    tryfirst: bool = False,
    trylast: bool = False,
    hooks: dict[str, Callable[..., Any]] | None = None,
    **registrations: Sequence[Any],
) -> SimpleNamespace:
    """A plugin object whose registration hooks register ``registrations``; ``tryfirst`` and
    ``trylast`` mark every one of its hooks."""
    unknown = set(registrations) - set(KINDS)
    if unknown:
        raise TypeError(f"inline_plugin: unknown kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    plugin = SimpleNamespace()
    for kind, items in registrations.items():
        setattr(plugin, f"lynkr_register_{kind}", _registrar(list(items), tryfirst, trylast))
    for name, function in (hooks or {}).items():
        setattr(plugin, name, hookimpl(tryfirst=tryfirst, trylast=trylast)(function))
    return plugin


def _registrar(items: list[Any], tryfirst: bool, trylast: bool) -> Callable[..., None]:
    @hookimpl(tryfirst=tryfirst, trylast=trylast)
    def register_all(register: Callable[[Any], None], settings: Any) -> None:
        for item in items:
            register(item)

    return register_all


class RecordingSessions(SessionStore):
    """A session store that keeps the exchanges it is given (``recorded``, in order) and
    nothing else: it lists no session and looks nothing up. ``record`` is a plain
    function; a subclass may make it a coroutine."""

    def __init__(self) -> None:
        self.recorded: list[Any] = []

    def record(self, exchange: Any) -> None:
        """Keep ``exchange``."""
        self.recorded.append(exchange)

    async def sessions(self, *, limit: int = 50) -> list[Any]:
        """None."""
        return []

    async def exchanges(self, session_id: str, *, limit: int | None = None) -> list[Any]:
        """None."""
        return []

    async def delete(self, session_id: str) -> bool:
        """Nothing to delete."""
        return False


class HeldRecorder(ExchangeObserver):
    """An observer that records every exchange on a ``BackgroundQueue`` named ``name`` of
    ``size``, its worker held at ``gate`` until the test sets it; the exchange of model
    ``fails_on`` raises when handled. Register it with ``inline_plugin(observers=[...])``."""

    def __init__(self, name: str, size: int, *, fails_on: str | None = None) -> None:
        self.name = f"held-{name}"
        self.gate = asyncio.Event()
        self.fails_on = fails_on
        self.queue: BackgroundQueue[Any] = BackgroundQueue(name, self._handle, size=size)

    async def start(self, services: Any) -> None:
        """Start the queue."""
        await self.queue.start()

    async def close(self) -> None:
        """Let the worker go, then close the queue."""
        self.gate.set()
        await self.queue.close()

    def exchange_finished(self, exchange: Any) -> None:
        """Queue ``exchange`` (dropped and counted when the queue is full)."""
        self.queue.submit(exchange)

    async def _handle(self, exchange: Any) -> None:
        await self.gate.wait()
        if exchange.request.model == self.fails_on:
            raise RuntimeError("a record that breaks")
