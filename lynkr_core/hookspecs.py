"""The contract between lynkr's core and its plugins.

Registration hooks (``lynkr_register_*``) are called once when an app is
built, each with a ``register`` callback and the ``Settings``; a plugin calls
``register`` with the objects it contributes. The core attributes each object
to its plugin, refuses duplicate names with an error naming both plugins, and
does the async work through the objects' methods, never in hooks.

``lynkr_startup``, ``lynkr_shutdown`` and ``lynkr_exchange_finished`` may
return an awaitable; the core awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from lynkr_core.config import Settings
    from lynkr_core.contracts import (
        Command,
        Exchange,
        ExtraRoute,
        Policy,
        Provider,
        RequestPreparer,
    )
    from lynkr_core.tools import Tool

hookspec = pluggy.HookspecMarker("lynkr")
hookimpl = pluggy.HookimplMarker("lynkr")


@hookspec
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register model providers (``Provider`` objects), each under its ``name``.

    Register a provider even when its settings are incomplete, so that
    ``lynkr doctor`` can say what is missing; raise ``ConfigError`` from its
    methods, not here.
    """


@hookspec
def lynkr_register_policies(register: Callable[[Policy], None], settings: Settings) -> None:
    """Register policies (``Policy`` objects). Every policy sees every request; any denial wins."""


@hookspec
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """Register server-side tools (``Tool`` objects), each under its ``name``.

    lynkr advertises them to the model and runs them itself when
    ``TOOL_EXECUTION_MODE=server``; in ``client``/``passthrough`` mode they
    are not advertised. A name a client tool also has is left to the client.
    """


@hookspec
def lynkr_register_preparers(
    register: Callable[[RequestPreparer], None], settings: Settings
) -> None:
    """Register request preparers (``RequestPreparer`` objects), run in registration order
    before a request goes upstream: memory injection, repo context, model routing."""


@hookspec
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """Register extra HTTP routes (``ExtraRoute``). They sit behind lynkr's auth and
    error handling; a path already taken by the core or another plugin is refused."""


@hookspec
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """Register ``lynkr`` CLI sub-commands (``Command``)."""


@hookspec
def lynkr_startup(app: Starlette, settings: Settings) -> Awaitable[None] | None:
    """Called when the server starts, before it accepts requests: open resources.
    May return an awaitable. An exception stops the server from starting."""


@hookspec
def lynkr_shutdown(app: Starlette, settings: Settings) -> Awaitable[None] | None:
    """Called when the server stops: close what ``lynkr_startup`` opened.
    May return an awaitable. Exceptions are logged and do not stop other plugins' shutdown."""


@hookspec
def lynkr_exchange_finished(exchange: Exchange) -> Awaitable[None] | None:
    """Called after every ``/v1/messages`` request, answered or failed, streamed or not
    (for a stream: after its last byte). For stores, metrics, memory extraction,
    reflection. May return an awaitable; exceptions are logged, never shown to the client."""
