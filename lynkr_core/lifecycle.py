"""Starting and closing what plugins registered.

Any registered store, provider, policy, preparer, tool source, tool,
interceptor or observer may have ``start(services)`` and ``close()``, each
plain or async; an object registered as several kinds is started and closed
once. They start in the lifespan before the server accepts requests, in
that order of kinds (stores first, so that the others may use them) and in
hook order within a kind; they close in the reverse order, each even if
another failed or took longer than ``CLOSE_TIMEOUT_SECONDS`` (then it is left
behind, logged, so that a stuck plugin cannot hold the exit). A ``start`` that
raises stops the server, naming the plugin, after closing what had started.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from lynkr_core.plugins import await_maybe

if TYPE_CHECKING:
    from lynkr_core.services import Services

log = structlog.get_logger("lynkr.lifecycle")

#: How long one object's ``close`` may take at shutdown (a session store writing what is
#: queued takes up to 10 s, an MCP server's process tree as long to stop).
CLOSE_TIMEOUT_SECONDS = 25.0


class StartupFailed(Exception):
    """A registered object's ``start`` raised; the message names its plugin."""


@dataclass(frozen=True, slots=True)
class Managed:
    """A registered object, with the plugin that registered it and what kind it is."""

    owner: str
    kind: str
    name: str
    item: Any


class Lifecycle:
    """Starts ``managed`` objects in order and closes the started ones in reverse."""

    def __init__(self, managed: list[Managed], *, close_timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        self.close_timeout = close_timeout
        seen: set[int] = set()
        self.managed: list[Managed] = []
        for entry in managed:  # an object registered as two kinds starts and closes once
            if id(entry.item) in seen:
                continue
            seen.add(id(entry.item))
            if callable(getattr(entry.item, "start", None)) or callable(getattr(entry.item, "close", None)):
                self.managed.append(entry)
        self._started: list[Managed] = []

    async def start(self, services: Services) -> None:
        """Call every ``start``; on a failure close what started and raise ``StartupFailed``."""
        for managed in self.managed:
            start = getattr(managed.item, "start", None)
            try:
                if callable(start):
                    await await_maybe(start(services))
            except Exception as exc:
                await self.close()
                raise StartupFailed(
                    f"{managed.owner}: {managed.kind} {managed.name!r} failed to start: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            self._started.append(managed)

    async def close(self) -> None:
        """Call ``close`` on every started object, last started first, each for at most
        ``close_timeout`` seconds; failures and timeouts are logged."""
        while self._started:
            managed = self._started.pop()
            close = getattr(managed.item, "close", None)
            if not callable(close):
                continue
            try:
                async with asyncio.timeout(self.close_timeout):
                    await await_maybe(close())
            except TimeoutError:
                log.error("close_timeout", plugin=managed.owner, kind=managed.kind, name=managed.name,
                          seconds=self.close_timeout)
            except Exception:
                log.exception("close_failed", plugin=managed.owner, kind=managed.kind, name=managed.name)
