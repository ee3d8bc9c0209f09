"""What the core lends the objects plugins register: ``start(services)`` receives it.

``Services`` carries the process's HTTP session, the settings, the data
directory, the shared stores and a ``ModelClient`` that sends a plugin's
own Messages request through routing and failover.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import aiohttp

    from lynkr_core.breaker import CircuitState
    from lynkr_core.config import Settings
    from lynkr_core.plugins import HookCall
    from lynkr_core.shedding import LoadStatus
    from lynkr_core.stores import SessionStore
    from lynkr_core.wire.anthropic import MessageResponse, MessagesRequest

log = structlog.get_logger("lynkr.services")

SendModelRequest = Callable[["MessagesRequest", str], Awaitable["MessageResponse"]]


class ModelClient:
    """Sends a plugin's own Messages request (reflection, memory extraction, a CLAUDE.md)
    through routing, retries and failover to the configured providers.

    It does not pass through the preparers, the interceptors or the tool offer
    of client requests, and ``lynkr_exchange_finished`` is not called for it.
    """

    def __init__(self, send: SendModelRequest) -> None:
        self._send = send

    async def complete(self, request: MessagesRequest, *, purpose: str) -> MessageResponse:
        """The complete answer to ``request`` (sent non-streaming whatever its ``stream``
        says). ``purpose`` (``"reflector"``) lands in the log and in ``context.purpose``.
        Raises ``UpstreamError`` like a provider does."""
        return await self._send(request, purpose)


@dataclass(slots=True)
class Services:
    """The core's services for plugins' objects, given to their ``start``."""

    #: The settings in force: a hot reload (``lynkr_core.reload``) replaces them.
    settings: Settings
    http: aiohttp.ClientSession
    model: ModelClient
    sessions: SessionStore | None = None
    #: The plugin manager's ``hook_calls`` (``None``: no plugin manager, as in a unit test).
    plugin_hooks: Callable[[str], list[HookCall]] | None = None
    #: The core's circuit breakers' ``states`` (``None``: no app, as in a unit test).
    circuit_states: Callable[[], list[CircuitState]] | None = None

    def circuits(self) -> list[CircuitState]:
        """Every upstream target's circuit breaker as it is now, one ``CircuitState`` each
        (``target``, ``state`` closed/open/half_open, ``failures``, ``retry_in``,
        ``opened``, ``skipped``), for targets used since the process started."""
        return self.circuit_states() if self.circuit_states is not None else []

    #: The core's load gauge's ``status`` (``None``: no app, as in a unit test).
    load_status: Callable[[], LoadStatus] | None = None

    def load(self) -> LoadStatus | None:
        """The load shedding gauge as it is now (``LoadStatus``: ``active`` requests,
        ``shed`` since start, the limits, ``memory_mb`` last read); ``None`` without an app."""
        return self.load_status() if self.load_status is not None else None

    def hook_calls(self, hook_name: str) -> list[HookCall]:
        """The implementations of ``hook_name``, in hook order, each callable with keyword
        arguments (it takes the ones it names) and naming its plugin: how a plugin calls a
        hook it defines for others (``lynkr_hookspecs``). Empty when nobody implements it."""
        return self.plugin_hooks(hook_name) if self.plugin_hooks is not None else []

    @property
    def home(self) -> Path:
        """``LYNKR_HOME`` (default ``~/.lynkr``), expanded; created on first use by ``data_dir``."""
        return Path(self.settings.core.home).expanduser()

    def data_dir(self, *parts: str) -> Path:
        """A directory under ``LYNKR_HOME`` (``data_dir("lynkr-memory")``), created with mode
        0700 if missing; a pre-existing ``LYNKR_HOME`` that others may read is warned about."""
        home = self.home
        if not home.exists():
            home.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif home.stat().st_mode & 0o077:
            log.warning("home_not_private", path=str(home), mode=oct(home.stat().st_mode & 0o777),
                        fix=f"chmod 700 {home}")
        path = home.joinpath(*parts)
        if not path.resolve().is_relative_to(home.resolve()):
            raise ValueError(f"data directory {path} is outside LYNKR_HOME")
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix" and path != home:
            path.chmod(0o700)
        return path
