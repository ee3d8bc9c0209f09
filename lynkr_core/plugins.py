"""The plugin manager: discovery through entry points, allow and deny lists, failures.

Every plugin, bundled or third-party, is a distribution with an entry point in
the group ``lynkr``; the entry point's name is the plugin's name everywhere
(``LYNKR_PLUGINS``, ``LYNKR_DISABLE_PLUGINS``, ``[plugins.<name>]``,
``lynkr plugins``). A plugin kept out by the lists is blocked before its module
is imported. A plugin that fails to import or register is reported and left
out, or stops start-up when ``LYNKR_STRICT_PLUGINS`` is set.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy
import structlog

from lynkr_core import hookspecs
from lynkr_core.config import Settings

ENTRY_POINT_GROUP = "lynkr"
#: The attribute of a plugin naming the hookspecs it defines for other plugins.
HOOKSPECS_ATTRIBUTE = "lynkr_hookspecs"

log = structlog.get_logger("lynkr.plugins")


class PluginLoadError(Exception):
    """A plugin could not be loaded or registered, and strict mode is on."""


class HookFailed(Exception):
    """A plugin's hook implementation raised; the message names the plugin and the hook."""

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        super().__init__(f"{plugin}: {hook} failed: {type(error).__name__}: {error}")
        self.plugin = plugin
        self.hook = hook


@dataclass(frozen=True, slots=True)
class HookCall:
    """One plugin's implementation of a hook, callable with whatever arguments are at hand
    (it takes the ones it names, as pluggy would)."""

    plugin: str
    hook: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]

    def __call__(self, **available: Any) -> Any:
        """Call the implementation with the arguments it declares."""
        return self.function(**{name: available[name] for name in self.argnames})


async def await_maybe(value: Any) -> Any:
    """``value``, awaited first when it is awaitable (a hook may return either)."""
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass(slots=True)
class PluginStatus:
    """One row of ``lynkr plugins``: what a plugin is, and whether it runs."""

    name: str
    distribution: str | None = None
    version: str | None = None
    enabled: bool = False
    reason: str | None = None
    hooks: list[str] = field(default_factory=list)


class LynkrPluginManager(pluggy.PluginManager):
    """A pluggy manager with lynkr's hookspecs and a status for every plugin it saw."""

    def __init__(self, *, strict: bool = False, trace: bool = False) -> None:
        super().__init__("lynkr")
        self.add_hookspecs(hookspecs)
        self.strict = strict
        self.statuses: dict[str, PluginStatus] = {}
        self._trace = trace
        self._plugin_hookspecs: list[object] = []

    def add_plugin_hookspecs(self, plugin: Any) -> None:
        """Add the hookspecs ``plugin`` defines for other plugins to implement: the class or
        module (or a tuple of them) its ``lynkr_hookspecs`` attribute names; nothing when it
        has none. Adding the same namespace twice is a no-op; a hook name that is taken
        (by the core or another plugin) raises ``ValueError``."""
        declared = getattr(plugin, HOOKSPECS_ATTRIBUTE, None)
        if declared is None:
            return
        for namespace in declared if isinstance(declared, tuple | list) else (declared,):
            if any(namespace is added for added in self._plugin_hookspecs):
                continue
            self.add_hookspecs(namespace)
            self._plugin_hookspecs.append(namespace)

    def register_plugin(self, plugin: Any, name: str, status: PluginStatus | None = None) -> None:
        """Register ``plugin`` under ``name`` and mark it enabled (inline plugins, tests).

        Raises ``pluggy.PluginValidationError`` (and leaves it unregistered) for a
        hook implementation with no matching hookspec, with wrong arguments, or
        marked ``wrapper``/``hookwrapper`` (lynkr calls each implementation itself). The
        plugin's own hookspecs (``lynkr_hookspecs``) are added first.
        """
        self.add_plugin_hookspecs(plugin)
        self.register(plugin, name=name)
        try:
            self.check_pending()
            for caller in self.get_hookcallers(plugin) or []:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                        raise pluggy.PluginValidationError(
                            plugin, f"{name}: {caller.name} is a hook wrapper; lynkr's hooks take none"
                        )
        except pluggy.PluginValidationError:
            self.unregister(plugin, name=name)
            raise
        row = status or PluginStatus(name=name)
        row.enabled = True
        row.hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or [])
        self.statuses[name] = row

    def record_failure(self, name: str, message: str, exc: BaseException | None = None) -> None:
        """Mark plugin ``name`` failed and unregister it; raise in strict mode."""
        row = self.statuses.setdefault(name, PluginStatus(name=name))
        row.enabled = False
        row.reason = f"failed: {message}"
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin, name=name)
        log.error("plugin_failed", plugin=name, error=message)
        if self.strict:
            raise PluginLoadError(f"{name}: {message}") from exc

    def hook_calls(self, hook_name: str, *, reverse: bool = False) -> list[HookCall]:
        """A hook's implementations in the order pluggy calls them: ``tryfirst`` ones first,
        ``trylast`` ones last, otherwise the plugin registered last first. ``reverse`` gives
        the opposite order (shutdown). Empty for a hook nobody defines or implements."""
        caller = getattr(self.hook, hook_name, None)
        if caller is None:
            return []
        impls = caller.get_hookimpls()  # the reverse of the call order
        ordered = impls if reverse else reversed(impls)
        return [HookCall(i.plugin_name, hook_name, i.function, tuple(i.argnames)) for i in ordered]

    async def run_hook(self, hook_name: str, *, reverse: bool = False, strict: bool, **arguments: Any) -> None:
        """Call every implementation of ``hook_name`` in hook order (``reverse``: the opposite),
        awaiting what returns an awaitable. A failure raises ``HookFailed`` naming the plugin
        when ``strict``; otherwise it is logged with the plugin's name and the others still run."""
        for call in self.hook_calls(hook_name, reverse=reverse):
            self.trace_call(call.plugin, hook_name)
            try:
                await await_maybe(call(**arguments))
            except Exception as exc:
                if strict:
                    raise HookFailed(call.plugin, hook_name, exc) from exc
                log.exception("hook_failed", plugin=call.plugin, hook=hook_name)

    def trace_call(self, plugin_name: str, hook_name: str) -> None:
        """Log a hook call when ``LYNKR_TRACE_PLUGINS`` is set."""
        if self._trace:
            log.debug("hook_call", plugin=plugin_name, hook=hook_name)

    def enabled_names(self) -> list[str]:
        """Names of the plugins that are loaded and registered."""
        return [name for name, row in self.statuses.items() if row.enabled]


def make_plugin_manager(
    settings: Settings,
    *,
    load_entry_points: bool = True,
    plugins: Iterable[tuple[str, Any]] = (),
) -> LynkrPluginManager:
    """A fresh plugin manager: entry-point plugins allowed by ``settings``, then ``plugins``.

    ``plugins`` are ``(name, module_or_object)`` pairs registered as they are
    (tests and embedding use it); the allow and deny lists apply to them too.
    """
    core = settings.core
    pm = LynkrPluginManager(strict=core.strict_plugins, trace=core.trace_plugins)
    if core.trace_plugins:
        pm.trace.root.setwriter(lambda message: log.debug("pluggy", message=message.rstrip()))
        pm.enable_tracing()
    allowed = set(core.plugins) if core.plugins is not None else None
    denied = set(core.disable_plugins)

    def blocked_reason(name: str) -> str | None:
        if name in denied:
            return "disabled by LYNKR_DISABLE_PLUGINS"
        if allowed is not None and name not in allowed:
            return "not in LYNKR_PLUGINS"
        return None

    loaded: list[tuple[str, Any, PluginStatus | None]] = []
    if load_entry_points:
        for entry_point in _entry_points():
            plugin = _import_entry_point(pm, entry_point, blocked_reason(entry_point.name))
            if plugin is not None:
                loaded.append((entry_point.name, plugin, pm.statuses[entry_point.name]))
    for name, plugin in plugins:
        reason = blocked_reason(name)
        if reason:
            pm.set_blocked(name)
            pm.statuses[name] = PluginStatus(name=name, reason=reason)
            continue
        loaded.append((name, plugin, None))
    # Every plugin's own hookspecs first, so that the order plugins load in does not matter
    # to the plugins implementing them.
    failed: set[str] = set()
    for name, plugin, _status in loaded:
        try:
            pm.add_plugin_hookspecs(plugin)
        except Exception as exc:
            failed.add(name)
            pm.record_failure(name, f"{HOOKSPECS_ATTRIBUTE}: {type(exc).__name__}: {exc}", exc)
    for name, plugin, status in loaded:
        if name in failed:
            continue
        try:
            pm.register_plugin(plugin, name, status)
        except Exception as exc:
            pm.record_failure(name, f"{type(exc).__name__}: {exc}", exc)
    for name in sorted((allowed or set()) - set(pm.statuses)):
        pm.statuses[name] = PluginStatus(name=name, reason="named in LYNKR_PLUGINS but not installed")
        log.warning("plugin_not_installed", plugin=name)
        if pm.strict:
            raise PluginLoadError(f"{name}: named in LYNKR_PLUGINS but not installed")
    return pm


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(entry_point.name, entry_point)
    return sorted(seen.values(), key=lambda ep: ep.name)


def _import_entry_point(
    pm: LynkrPluginManager, entry_point: importlib.metadata.EntryPoint, blocked: str | None
) -> Any:
    """The object ``entry_point`` names, imported; ``None`` when it is blocked or fails to import
    (then recorded)."""
    dist = entry_point.dist
    status = PluginStatus(
        name=entry_point.name,
        distribution=dist.name if dist else None,
        version=dist.version if dist else None,
    )
    pm.statuses[entry_point.name] = status
    if blocked:
        pm.set_blocked(entry_point.name)
        status.reason = blocked
        return None
    try:
        return entry_point.load()
    except Exception as exc:
        pm.record_failure(entry_point.name, f"{type(exc).__name__}: {exc}", exc)
        return None
