"""Plugins written inline in a test: ``inline_plugin(interceptors=[...], tools=[...])``.

Each keyword names a registration hook without its ``lynkr_register_``
prefix (``providers``, ``policies``, ``tools``, ``tool_sources``,
``preparers``, ``interceptors``, ``observers``, ``stores``, ``routes``) and lists the
objects to register; ``hooks`` adds other hook implementations as they are::

    pm = make_plugin_manager(settings, plugins=[("mine", inline_plugin(interceptors=[Timer()]))])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from lynkr_core.hookspecs import hookimpl

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
