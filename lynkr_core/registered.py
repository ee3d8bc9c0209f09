"""Everything plugins registered for one app, collected once, each kind in hook order."""

from __future__ import annotations

from lynkr_core.config import Settings
from lynkr_core.contracts import ExchangeObserver, Provider, RequestPreparer
from lynkr_core.interceptors import Interceptor
from lynkr_core.lifecycle import Lifecycle, Managed
from lynkr_core.plugins import LynkrPluginManager
from lynkr_core.policy import Policy
from lynkr_core.registry import RegistrationError, Registry, collect
from lynkr_core.stores import SessionStore, store_kind
from lynkr_core.tools import Tool, ToolSource


class Registered:
    """Everything plugins registered for one app, each kind in hook order."""

    def __init__(self, settings: Settings, pm: LynkrPluginManager) -> None:
        def gather(hook: str, registry: Registry) -> Registry:
            return collect(pm, hook, registry, settings=settings)

        self.stores: Registry[object] = gather("lynkr_register_stores", Registry[object]("store", name_of=_store_key))
        self.providers: Registry[Provider] = gather("lynkr_register_providers", Registry[Provider]("provider"))
        self.policies: Registry[Policy] = gather("lynkr_register_policies", Registry[Policy]("policy"))
        self.preparers: Registry[RequestPreparer] = gather(
            "lynkr_register_preparers", Registry[RequestPreparer]("preparer")
        )
        self.tool_sources: Registry[ToolSource] = gather(
            "lynkr_register_tool_sources", Registry[ToolSource]("tool source")
        )
        self.tools: Registry[Tool] = gather("lynkr_register_tools", Registry[Tool]("tool"))
        self.interceptors: Registry[Interceptor] = gather(
            "lynkr_register_interceptors", Registry[Interceptor]("interceptor")
        )
        self.observers: Registry[ExchangeObserver] = gather(
            "lynkr_register_observers", Registry[ExchangeObserver]("observer")
        )
        # A plugin that failed in one hook loses what it registered through the others.
        failed = [name for name, row in pm.statuses.items() if not row.enabled]
        for registry in self.registries().values():
            for name in failed:
                registry.remove_owner(name)

    def registries(self) -> dict[str, Registry]:
        """Every kind of registered object, stores first, in the order requests meet them."""
        return {
            "store": self.stores, "provider": self.providers, "policy": self.policies,
            "preparer": self.preparers, "tool source": self.tool_sources, "tool": self.tools,
            "interceptor": self.interceptors, "observer": self.observers,
        }

    def exchange_observers(self) -> list[ExchangeObserver]:
        """Every registered ``ExchangeObserver``: those of ``lynkr_register_observers`` and any
        object registered as another kind that is one too, each once, in ``registries`` order."""
        found: dict[int, ExchangeObserver] = {}
        for registry in self.registries().values():
            for item in registry:
                if isinstance(item, ExchangeObserver):
                    found.setdefault(id(item), item)
        return list(found.values())

    def session_store(self) -> SessionStore | None:
        """The registered ``SessionStore``, if a plugin provides one."""
        store = self.stores.get("sessions")
        return store if isinstance(store, SessionStore) else None

    def lifecycle(self) -> Lifecycle:
        """Every registered object, to start in ``registries`` order and close in reverse."""
        return Lifecycle([
            Managed(owner, kind, name, item)
            for kind, registry in self.registries().items()
            for owner, name, item in registry.owned()
        ])


def _store_key(store: object) -> str:
    kind = store_kind(store)
    if kind is None:
        raise RegistrationError(f"store {store!r} implements no store contract lynkr knows (SessionStore)")
    return kind
