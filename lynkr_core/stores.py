"""Shared stores: contracts in the core that one plugin implements and others use.

A plugin registers its implementation with ``lynkr_register_stores``; other
plugins reach it through ``Services`` (``services.sessions``), never by
importing the implementing plugin. ``None`` there means no installed plugin
provides that store: the caller does without.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from lynkr_core.exchange import Exchange, Step
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest, Usage


@dataclass(slots=True)
class SessionSummary:
    """One session as a listing shows it. Times are seconds since the epoch."""

    id: str
    started: float
    updated: float
    exchanges: int
    models: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StoredExchange:
    """One exchange as a session store gives it back. ``request`` and ``response`` are
    ``None`` when the store keeps metadata only; ``steps`` may be empty for the same reason."""

    request_id: str
    session_id: str
    finished: float
    streamed: bool
    status: int | None
    provider: str
    model: str
    usage: Usage
    duration: float
    request: MessagesRequest | None = None
    response: MessageResponse | None = None
    steps: list[Step] = field(default_factory=list)


class SessionStore(abc.ABC):
    """Where finished exchanges are kept, by session (``lynkr-sessions`` implements it)."""

    name: str = "sessions"

    @abc.abstractmethod
    def record(self, exchange: Exchange) -> Awaitable[None] | None:
        """Keep a finished exchange under its ``session_id`` (one without a session id may be
        skipped). Must not block the event loop; may queue the write. A plain function (one
        that only queues) is called from the event loop, without a task per exchange; a
        coroutine function is awaited in a task of its own."""

    @abc.abstractmethod
    async def sessions(self, *, limit: int = 50) -> list[SessionSummary]:
        """The most recently updated sessions first, at most ``limit``."""

    @abc.abstractmethod
    async def exchanges(self, session_id: str, *, limit: int | None = None) -> list[StoredExchange]:
        """A session's exchanges, oldest first (the last ``limit`` when given); empty if unknown."""

    @abc.abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Forget a session; ``False`` when there was none."""

    async def exchange(self, request_id: str) -> StoredExchange | None:
        """One exchange by its request id, once recorded (``None``: none is kept under it);
        what ``/v1/responses`` reads for ``previous_response_id``. The default raises
        ``NotImplementedError``: this store cannot look an exchange up (callers tell their
        client that the lookup is not supported)."""
        raise NotImplementedError(f"{type(self).__name__} cannot look up an exchange by its request id")


#: Every store contract, by the key a registration is filed under.
STORE_CONTRACTS: dict[str, type] = {"sessions": SessionStore}


def store_kind(store: object) -> str | None:
    """The contract key ``store`` implements, or ``None`` when it implements none."""
    for key, contract in STORE_CONTRACTS.items():
        if isinstance(store, contract):
            return key
    return None
