"""Hot reload: read ``.env`` and ``lynkr.toml`` again, build and check the whole new
configuration, then swap it in at once, or refuse it and keep the one in force.

What is built anew: the settings, the providers (``lynkr_register_providers`` is called
again with the new settings; a provider with ``start`` or ``close`` stays the started
object), the router (routes, long-context route, fallbacks) and the
retry policy, i.e. a new ``Pipeline`` sharing the old one's HTTP session, exchange
observers, tool catalogue and circuit breakers. Every registered object with
``prepare_reload(settings)`` checks its own new settings and hands back what applies
them. Only when all of that succeeded does anything change, in one step of the event
loop: the API and admin keys, the circuit breaker and load shedding limits, the objects'
new settings, ``app.state.pipeline`` and ``Services.settings``. A request reads
``app.state.pipeline`` once, when it starts: a stream in flight finishes against the
providers it started with, the next request uses the new ones.

Settings that only take effect at start (``RESTART_ONLY``: the bind address and port,
the set of plugins, ``LYNKR_HOME``...) keep their start-up values and are reported as
needing a restart. The process environment cannot change under a running process: a
reload re-reads the files, and a variable set in the environment still wins over them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import msgspec
import structlog

from lynkr_core.config import CORE_ENV, ConfigError, CoreSettings, Settings
from lynkr_core.contracts import Provider
from lynkr_core.lifecycle import Managed
from lynkr_core.logs import RedactingFilter
from lynkr_core.pipeline import Pipeline
from lynkr_core.plugins import await_maybe
from lynkr_core.redaction import Redactor
from lynkr_core.registry import Registry

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from lynkr_core.middleware import AccessKeys
    from lynkr_core.plugins import LynkrPluginManager
    from lynkr_core.registered import Registered
    from lynkr_core.shedding import LoadGauge

log = structlog.get_logger("lynkr.reload")

#: The admin route that reloads (this worker's) configuration.
RELOAD_PATH = "/v1/admin/reload"

#: Core settings a reload applies; every other one keeps its start-up value until a restart.
RELOADABLE = frozenset({
    "model_provider", "api_keys", "admin_keys", "allow_private_urls", "url_allowed_hosts",
    "upstream_retries", "retry_base_seconds", "retry_max_seconds", "fallback_provider",
    "fallback_enabled", "circuit_breaker_failures", "circuit_breaker_cooldown_seconds",
    "load_shedding_active_requests", "shed_memory_mb", "shed_queues", "shed_retry_after_seconds",
    "model_routes", "long_context_route", "long_context_tokens",
})
#: Core settings that only take effect when lynkr starts (reported, never silently ignored).
RESTART_ONLY = frozenset(CORE_ENV) - RELOADABLE

#: What a plugin's ``prepare_reload`` returns: applies its new settings; must not fail.
ApplySettings = Callable[[], None]


class ReloadReport(msgspec.Struct, kw_only=True):
    """What a reload did: the names of what changed (never values), what needs a restart."""

    #: ``reloaded``, ``unchanged`` (nothing differs) or ``refused`` (the old one is kept).
    status: Literal["reloaded", "unchanged", "refused"]
    #: ``admin`` (``POST /v1/admin/reload``) or ``watcher`` (a file changed).
    trigger: str
    #: Every raw setting that differs: environment names, ``[plugins.<name>] <key>``...
    changed: list[str] = []
    #: Changed core settings that keep their start-up value until lynkr restarts.
    needs_restart: list[str] = []
    #: Plugins whose objects read their settings only at start (no ``prepare_reload``),
    #: when a setting that is not the core's changed: they keep theirs until a restart.
    plugins_keeping_settings: list[str] = []
    #: Why a reload was refused (which setting, which file).
    reason: str | None = None
    #: Where the settings in force come from.
    sources: list[str] = []


@dataclass(slots=True)
class _Plan:
    """A new configuration, built and checked, not yet in force."""

    settings: Settings
    pipeline: Pipeline
    applies: list[ApplySettings]
    report: ReloadReport


class Reloader:
    """Reloads one app's configuration (one worker's); one reload at a time."""

    def __init__(
        self, app: Starlette, pm: LynkrPluginManager, registered: Registered, access: AccessKeys,
        load: LoadGauge,
    ) -> None:
        self.app = app
        self.pm = pm
        self.registered = registered
        self.access = access
        self.load = load
        self._lock = asyncio.Lock()
        #: The last reload's report (``None`` before the first).
        self.last: ReloadReport | None = None

    async def reload(self, trigger: str) -> ReloadReport:
        """Read the configuration again and put it in force, or refuse it (logged either way)."""
        async with self._lock:
            self.last = await self._reload(trigger)
            return self.last

    async def _reload(self, trigger: str) -> ReloadReport:
        current: Pipeline = self.app.state.pipeline
        try:
            settings = await asyncio.to_thread(current.settings.reload)
            changed = current.settings.differences(settings)
            if not changed:
                log.info("reload_unchanged", trigger=trigger)
                return ReloadReport(status="unchanged", trigger=trigger, sources=list(settings.sources))
            plan = await self._prepare(current, settings, changed, trigger)
        except ConfigError as exc:
            reason = current.redactor.redact(_with_sources(str(exc), current.settings))
            log.error("reload_refused", trigger=trigger, reason=reason, kept="the configuration in force")
            return ReloadReport(status="refused", trigger=trigger, reason=reason,
                                sources=list(current.settings.sources))
        except Exception as exc:  # a bug, in lynkr or a plugin: the configuration in force stays
            log.exception("reload_failed", trigger=trigger)
            return ReloadReport(status="refused", trigger=trigger, sources=list(current.settings.sources),
                                reason=f"internal error while building the new configuration "
                                       f"({type(exc).__name__}); see the server log")
        self._commit(current, plan)
        report = plan.report
        log.info("reloaded", trigger=trigger, changed=report.changed, needs_restart=report.needs_restart,
                 plugins_keeping_settings=report.plugins_keeping_settings)
        for name in report.needs_restart:
            log.warning("reload_needs_restart", setting=name)
        return report

    async def _prepare(self, current: Pipeline, settings: Settings, changed: list[str], trigger: str) -> _Plan:
        """Build everything the new settings describe; ``ConfigError`` on the first problem."""
        restart = [field for field in RESTART_ONLY
                   if getattr(current.settings.core, field) != getattr(settings.core, field)]
        if restart:  # those keep their start-up values in the settings in force
            kept = {field: getattr(current.settings.core, field) for field in restart}
            settings.core = msgspec.structs.replace(settings.core, **kept)
        _check_keys(current.settings.core, settings.core)
        pipeline = self._successor(current, settings)
        problem = pipeline.not_ready()
        if problem is not None:
            raise ConfigError(problem)
        _check_endpoints(pipeline)
        applies = await self._prepare_objects(settings)
        return _Plan(settings, pipeline, applies, ReloadReport(
            status="reloaded", trigger=trigger, changed=changed,
            needs_restart=sorted(CORE_ENV[field] for field in restart),
            plugins_keeping_settings=self._plugins_keeping_settings(changed),
            sources=list(settings.sources),
        ))

    def _successor(self, current: Pipeline, settings: Settings) -> Pipeline:
        """A pipeline for ``settings``: new providers, router and retries; the rest shared."""
        registered = self.registered
        pipeline = Pipeline(
            settings, self.pm, _providers(self.pm, settings, current.providers), registered.policies, registered.preparers,
            interceptors=registered.interceptors, sessions=registered.session_store(),
            observers=registered.exchange_observers(),
        )
        pipeline.http = current.http
        pipeline.observers = current.observers  # pending exchange_finished calls, drained at shutdown
        pipeline.agent = current.agent  # tool catalogue subscribed to the tool sources once
        pipeline.calls.breakers = current.calls.breakers  # targets' state survives a reload
        return pipeline

    async def _prepare_objects(self, settings: Settings) -> list[ApplySettings]:
        """Each registered object's ``prepare_reload`` (providers are built anew instead)."""
        applies: list[ApplySettings] = []
        for managed in self._objects():
            prepare = getattr(managed.item, "prepare_reload", None)
            if not callable(prepare):
                continue
            owner = managed.owner
            try:
                apply = await await_maybe(prepare(settings))
            except ConfigError as exc:
                message = str(exc)
                raise ConfigError(message if message.startswith(owner) else f"{owner}: {message}") from exc
            except Exception as exc:
                raise ConfigError(f"{owner}: {managed.kind} {managed.name!r} refused the new settings: "
                                  f"{type(exc).__name__}: {exc}") from exc
            if apply is not None:
                applies.append(apply)
        return applies

    def _objects(self) -> list[Managed]:
        """Every registered object but the providers, each once, with its plugin."""
        seen: set[int] = set()
        found: list[Managed] = []
        for kind, registry in self.registered.registries().items():
            if kind == "provider":
                continue
            for owner, name, item in registry.owned():
                if id(item) not in seen:
                    seen.add(id(item))
                    found.append(Managed(owner, kind, name, item))
        return found

    def _plugins_keeping_settings(self, changed: list[str]) -> list[str]:
        """Plugins with objects and no ``prepare_reload`` on any of them, when a setting
        that is not the core's changed (lynkr cannot tell which plugin reads which variable)."""
        core_names = set(CORE_ENV.values())
        if all(name in core_names or name.startswith("[lynkr]") for name in changed):
            return []
        owners: dict[str, bool] = {}  # plugin: whether one of its objects takes new settings
        for managed in self._objects():
            reloads = callable(getattr(managed.item, "prepare_reload", None))
            owners[managed.owner] = owners.get(managed.owner, False) or reloads
        for owner, _name, item in self.registered.providers.owned():  # built anew unless started
            owners[owner] = owners.get(owner, False) or not _has_lifecycle(item)
        return sorted(owner for owner, reloads in owners.items() if not reloads)

    def _commit(self, current: Pipeline, plan: _Plan) -> None:
        """Put ``plan`` in force: no await in here, so no request sees half of it."""
        core = plan.settings.core
        secrets = sorted(set(current.settings.secrets()) | set(plan.settings.secrets()))
        redactor = plan.pipeline.redactor = Redactor(secrets)
        if set(plan.settings.secrets()) - set(current.settings.secrets()):
            _mask_in_logs(secrets)
        self.access.replace(core.api_keys, core.admin_keys, redactor)
        breakers = current.calls.breakers
        breakers.failures, breakers.cooldown = core.circuit_breaker_failures, core.circuit_breaker_cooldown_seconds
        self.load.max_active, self.load.max_memory_mb = core.load_shedding_active_requests, core.shed_memory_mb
        self.load.queues = frozenset(core.shed_queues)
        self.load.retry_after = core.shed_retry_after_seconds
        for apply in plan.applies:
            try:
                apply()
            except Exception:  # the seam says it must not fail; the rest still applies
                log.exception("reload_apply_failed", apply=getattr(apply, "__qualname__", repr(apply)))
        services = getattr(self.app.state, "services", None)
        if services is not None:
            services.settings = plan.settings
            plan.pipeline.observers.services = services
        self.app.state.settings = plan.settings
        self.app.state.pipeline = plan.pipeline


def _providers(pm: LynkrPluginManager, settings: Settings, current: Registry[Provider]) -> Registry[Provider]:
    """Every enabled plugin's providers, registered again for ``settings``. A plugin whose
    registration fails refuses the reload (nothing is recorded against the plugin: the
    one in force keeps running). A provider with ``start`` or ``close`` stays the started
    object in force (it keeps its settings until a restart, like any object without
    ``prepare_reload``)."""
    registry = Registry[Provider]("provider")
    for call in pm.hook_calls("lynkr_register_providers"):
        def register(item: Provider, _owner: str = call.plugin) -> None:
            started = current.get(item.name) if _has_lifecycle(item) else None
            registry.add(_owner, started if started is not None else item)

        try:
            call(register=register, settings=settings)
        except ConfigError as exc:
            raise ConfigError(f"{call.plugin}: {exc}") from exc
        except Exception as exc:
            raise ConfigError(f"{call.plugin}: lynkr_register_providers failed with the new settings: "
                              f"{type(exc).__name__}: {exc}") from exc
    return registry


def _has_lifecycle(item: object) -> bool:
    return callable(getattr(item, "start", None)) or callable(getattr(item, "close", None))


class _ReloadedSecrets(Redactor):
    """The last structlog processor a reload adds: the secrets of the settings in force and
    those before them (the previous reload's is replaced; ``configure_logging``'s stays)."""


def _mask_in_logs(secrets: list[str]) -> None:
    """Mask ``secrets`` (the old ones and the new) in every log line from now on: in
    structlog's lines, and in the stdlib's through its ``RedactingFilter``s."""
    # In place, as structlog's ``capture_logs`` does: loggers bound before (the request
    # line's) hold this list, and must mask the new secrets too.
    processors = structlog.get_config()["processors"]
    processors[:] = [*(p for p in processors if not isinstance(p, _ReloadedSecrets)), _ReloadedSecrets(secrets)]
    structlog.configure(processors=processors)
    redactor = Redactor(secrets)
    root = logging.getLogger()
    for target in [*root.handlers, *(logging.getLogger(name) for name in ("hypercorn.error", "hypercorn.access"))]:
        for found in target.filters:
            if isinstance(found, RedactingFilter):
                found.redactor = redactor


#: Words in the names of the settings that hold a provider's endpoint.
_ENDPOINT_WORDS = ("URL", "ENDPOINT", "BASE", "HOST")


def _check_endpoints(pipeline: Pipeline) -> None:
    """Each provider a rule may send requests to, when configured, has an absolute http(s)
    URL (its ``describe()["url"]``): a typo in a base URL refuses the reload rather than
    failing every request after it. The URL itself is not quoted (it may carry a key)."""
    for _setting, name in pipeline.router.named():
        provider = pipeline.providers.get(name)
        if provider is None or provider.missing_settings():
            continue
        if not _is_http_url(provider.describe().get("url", "") or "http://unset"):
            settings = [s.name for s in provider.settings_help() if any(w in s.name for w in _ENDPOINT_WORDS)]
            raise ConfigError(f"provider {name}: its endpoint is not an absolute http(s) URL; "
                              f"check {', '.join(settings) or 'its settings'}")


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_keys(old: CoreSettings, new: CoreSettings) -> None:
    """A reload may not remove every API key: lynkr checks at start that a server
    listening beyond loopback has keys, and cannot tell here where it listens."""
    if old.api_keys and not new.api_keys:
        raise ConfigError("LYNKR_API_KEYS: a reload cannot remove every API key (lynkr checks at start "
                          "that a server listening beyond loopback has keys); restart lynkr to run without")


_SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\bPORT\b")


def _with_sources(reason: str, settings: Settings) -> str:
    """``reason`` followed by where each setting it names is set (``.env``, ``lynkr.toml``,
    the environment)."""
    places = []
    for name in dict.fromkeys(_SETTING_NAME.findall(reason)):
        source = settings.source_of(name)
        if source is not None:
            places.append(f"{name} is set in {source}")
    return f"{reason} ({'; '.join(places)})" if places else reason
