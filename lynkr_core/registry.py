"""Collections of what plugins register, each entry attributed to its plugin."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from lynkr_core.plugins import LynkrPluginManager

T = TypeVar("T")


class RegistrationError(Exception):
    """A plugin registered something invalid, or a name that is taken."""


class Registry(Generic[T]):
    """Named objects of one kind (providers, policies...), with the plugin that gave each."""

    def __init__(self, kind: str, name_of: Callable[[T], str] = lambda item: item.name) -> None:
        self.kind = kind
        self._name_of = name_of
        self._items: dict[str, T] = {}
        self._owners: dict[str, str] = {}

    def add(self, owner: str, item: T) -> None:
        """Register ``item`` for plugin ``owner``; refuse a missing or taken name."""
        name = self._name_of(item)
        if not isinstance(name, str) or not name:
            raise RegistrationError(f"{owner}: {self.kind} {item!r} has no name")
        if name in self._items:
            raise RegistrationError(
                f"{owner}: {self.kind} '{name}' already registered by {self._owners[name]}"
            )
        self._items[name] = item
        self._owners[name] = owner

    def remove_owner(self, owner: str) -> None:
        """Forget everything ``owner`` registered (its registration failed part-way)."""
        for name in [n for n, o in self._owners.items() if o == owner]:
            del self._items[name]
            del self._owners[name]

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._owners[name]

    def get(self, name: str) -> T | None:
        """The object registered as ``name``, or ``None``."""
        return self._items.get(name)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._items)

    def values(self) -> list[T]:
        """Registered objects, in registration order."""
        return list(self._items.values())

    def owned(self) -> list[tuple[str, str, T]]:
        """``(plugin, name, object)`` for every object, in registration order."""
        return [(self._owners[name], name, item) for name, item in self._items.items()]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)


def collect(
    pm: LynkrPluginManager, hook_name: str, registry: Registry[T], **kwargs: Any
) -> Registry[T]:
    """Call every plugin's ``hook_name`` with a ``register`` bound to that plugin.

    Plugins are called in hook order (pluggy's: ``tryfirst`` first, then the
    plugin registered last first), so the registry lists their objects in that
    order. A plugin whose hook raises is recorded as failed
    (``pm.record_failure``) and what it registered is dropped; in strict mode
    that stops the app from being built.
    """
    for call in pm.hook_calls(hook_name):
        owner = call.plugin

        def register(item: T, _owner: str = owner) -> None:
            registry.add(_owner, item)

        try:
            pm.trace_call(owner, hook_name)
            result = call(register=register, **kwargs)
            if inspect.isawaitable(result):
                getattr(result, "close", lambda: None)()
                raise RegistrationError(f"{hook_name} must be a plain function, not async")
        except Exception as exc:
            registry.remove_owner(owner)
            pm.record_failure(owner, f"{hook_name} failed: {exc}", exc)
    return registry
