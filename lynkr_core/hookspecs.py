"""The contract between lynkr's core and its plugins; docs/hooks.md has a section per hook.

Registration hooks (``lynkr_register_*``) are plain functions called once
when an app is built (``lynkr_register_commands``: when the CLI runs), each
with a ``register`` callback (and the ``Settings``, except for commands); a
plugin calls ``register`` with the objects it contributes. The core
attributes each object to its plugin, refuses duplicate names with an error
naming both plugins, and does the async work through the objects' methods,
never in hooks. A plugin that fails in one hook loses what it registered in
all of them. Stores, providers, policies, preparers, tool sources, tools,
interceptors and observers may have ``start(services)`` and ``close()``
(``lynkr_core.lifecycle``). Hook wrappers are refused.

Order: every hook is called in pluggy's order: implementations marked
``tryfirst`` first and ``trylast`` last, otherwise the plugin registered
last first (installed plugins load in name order, plugins passed in code
after them). Objects registered through a hook keep that order: it is the
order preparers run in and interceptors nest in (the first outermost).
``lynkr_shutdown`` runs in the reverse order.

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
        ExchangeObserver,
        ExtraRoute,
        Finding,
        Provider,
        RequestPreparer,
    )
    from lynkr_core.exchange import Exchange
    from lynkr_core.interceptors import Interceptor
    from lynkr_core.policy import Policy
    from lynkr_core.services import Services
    from lynkr_core.stores import SessionStore
    from lynkr_core.tools import Tool, ToolSource

hookspec = pluggy.HookspecMarker("lynkr")
hookimpl = pluggy.HookimplMarker("lynkr")


@hookspec
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register model providers (``Provider`` objects), each under its ``name``.

    Register a provider even when its settings are incomplete, so that lynkr
    can say what is missing (``Provider.missing_settings``) at start, in
    ``lynkr doctor`` and to each request; raise ``ConfigError`` from its
    methods, not here.
    """


@hookspec
def lynkr_register_policies(register: Callable[[Policy], None], settings: Settings) -> None:
    """Register policies (``Policy`` objects). Policies judge each request and each tool call
    in hook order; the first denial ends the judging and is the one named. A policy that
    raises judging a request fails that request (500); judging a tool call, it refuses the
    call."""


@hookspec
def lynkr_register_tools(register: Callable[[Tool], None], settings: Settings) -> None:
    """Register server-side tools (``Tool`` objects), each under its ``name``.

    lynkr advertises them to the model, in hook order, and runs them itself when
    ``TOOL_EXECUTION_MODE=server``; in ``client``/``passthrough`` mode they
    are not advertised. A name a client tool also has is left to the client.
    """


@hookspec
def lynkr_register_tool_sources(register: Callable[[ToolSource], None], settings: Settings) -> None:
    """Register tool sources (``ToolSource`` objects): tools known only after start-up that
    may change (an MCP server's). Their tools follow the registered tools, in hook order;
    a name already taken is left out."""


@hookspec
def lynkr_register_preparers(
    register: Callable[[RequestPreparer], None], settings: Settings
) -> None:
    """Register request preparers (``RequestPreparer`` objects), run in hook order after the
    policies and before the URL check and the tool offer: memory injection, repo context.
    Each sees the request the previous one returned."""


@hookspec
def lynkr_register_interceptors(register: Callable[[Interceptor], None], settings: Settings) -> None:
    """Register interceptors (``Interceptor`` objects), which wrap each model call (each step
    of the agent loop) outside routing and failover: a cache answers from a stored message,
    metrics time the call. The first registered, in hook order, is the outermost."""


@hookspec
def lynkr_register_observers(register: Callable[[ExchangeObserver], None], settings: Settings) -> None:
    """Register exchange observers (``ExchangeObserver`` objects): each sees every finished
    exchange off the request path, after the session store and before
    ``lynkr_exchange_finished``, in hook order. An object of the plugin's own, so it keeps
    its state. An object registered through another hook (a preparer, an interceptor)
    that is also an ``ExchangeObserver`` observes too, without registering it here."""


@hookspec
def lynkr_register_stores(register: Callable[[SessionStore], None], settings: Settings) -> None:
    """Register an implementation of a shared store contract (``SessionStore``). One per
    contract: a second is refused naming both plugins. Others reach it through
    ``Services`` (``services.sessions``); stores start before every other object. The core
    hands a ``SessionStore`` every finished exchange (``record``) before
    ``lynkr_exchange_finished`` runs."""


@hookspec
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """Register extra HTTP routes (``ExtraRoute``). They sit behind lynkr's auth and
    error handling; a path already taken by the core or another plugin is refused."""


@hookspec
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """Register ``lynkr`` CLI sub-commands (``Command``)."""


@hookspec
def lynkr_security_findings(
    report: Callable[[Finding], None], settings: Settings, enabled_plugins: frozenset[str]
) -> None:
    """Report this plugin's risky settings for ``lynkr doctor --security``: call ``report``
    with a ``Finding`` for each setting that widens what lynkr exposes (pushes, commands,
    unsandboxed programs, content kept on disk...). Called only for enabled plugins, once
    per run of the command; the findings are listed after the core's own, by plugin name;
    ``enabled_plugins`` names every enabled plugin, for a risk that needs another one's
    part. Read settings
    as the plugin does when it runs; an exception is reported as a finding naming the
    plugin."""


@hookspec
def lynkr_startup(app: Starlette, settings: Settings, services: Services) -> Awaitable[None] | None:
    """Called when the server starts, after every registered object's ``start`` and before it
    accepts requests, in hook order. May return an awaitable. An exception stops the server
    from starting, naming the plugin."""


@hookspec
def lynkr_shutdown(app: Starlette, settings: Settings, services: Services) -> Awaitable[None] | None:
    """Called when the server stops, in the reverse of hook order, before the registered
    objects' ``close``: close what ``lynkr_startup`` opened (also after a start-up that failed
    part-way: close only what exists). May return an awaitable. Exceptions are logged and
    do not stop other plugins' shutdown."""


@hookspec
def lynkr_exchange_finished(exchange: Exchange, services: Services) -> Awaitable[None] | None:
    """Called after every ``/v1/messages`` request that reached the pipeline (authenticated
    and decoded), answered or failed, streamed or not (for a stream: after its last byte),
    in hook order, off the request path: for metrics, memory extraction, reflection.
    ``exchange`` holds every step, attempt and tool call; ``services`` is what ``start``
    got. May return an awaitable; exceptions are logged, never shown to the client."""
