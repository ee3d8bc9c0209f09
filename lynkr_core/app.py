"""The Starlette app factory."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lynkr_core import endpoints, operating
from lynkr_core.config import ConfigError, Settings
from lynkr_core.config_watch import ConfigWatcher
from lynkr_core.contracts import ExtraRoute
from lynkr_core.draining import EndAtShutdown, ignore_cancelled_connections
from lynkr_core.errors import encode_error, error_type_for_status
from lynkr_core.http import open_http_session
from lynkr_core.middleware import AccessKeys, GatewayMiddleware
from lynkr_core.openai_api import routes as openai_routes
from lynkr_core.pipeline import Pipeline
from lynkr_core.plugins import LynkrPluginManager, make_plugin_manager
from lynkr_core.registered import Registered
from lynkr_core.registry import RegistrationError, Registry, collect
from lynkr_core.reload import RELOAD_PATH, Reloader
from lynkr_core.services import ModelClient, Services
from lynkr_core.shedding import LoadGauge, LoadShedding

log = structlog.get_logger("lynkr.app")

CORE_ROUTES: list[BaseRoute] = [
    Route("/v1/messages", endpoints.create_message, methods=["POST"]),
    Route("/v1/messages/count_tokens", endpoints.count_tokens, methods=["POST"]),
    Route("/v1/chat/completions", openai_routes.chat_completions, methods=["POST"]),
    Route("/v1/responses", openai_routes.create_response, methods=["POST"]),
    Route("/v1/embeddings", openai_routes.create_embeddings, methods=["POST"]),
    Route("/v1/models", endpoints.list_models, methods=["GET"]),
    Route("/v1/models/{model_id:path}", endpoints.get_model, methods=["GET"]),
    Route(operating.CIRCUITS_PATH, operating.circuits, methods=["GET"]),
    Route("/api/event_logging/batch", endpoints.event_logging, methods=["POST"]),
    Route(RELOAD_PATH, endpoints.admin_reload, methods=["POST"]),  # admin key only
    Route("/", endpoints.root, methods=["GET", "HEAD"]),
    Route("/health", endpoints.health, methods=["GET", "HEAD"]),
    Route("/health/live", endpoints.health, methods=["GET", "HEAD"]),
    Route("/ready", endpoints.ready, methods=["GET", "HEAD"]),
    Route("/health/ready", endpoints.ready, methods=["GET", "HEAD"]),
]


def build_pipeline(settings: Settings, pm: LynkrPluginManager, registered: Registered | None = None) -> Pipeline:
    """Collect what plugins register into a ``Pipeline`` (no I/O, no event loop needed)."""
    registered = registered or Registered(settings, pm)
    return Pipeline(
        settings, pm, registered.providers, registered.policies, registered.preparers, registered.tools,
        interceptors=registered.interceptors, tool_sources=registered.tool_sources,
        sessions=registered.session_store(), observers=registered.exchange_observers(),
    )


def create_app(settings: Settings | None = None, pm: LynkrPluginManager | None = None) -> Starlette:
    """A new lynkr app: plugins from ``pm`` (default: every allowed installed plugin).

    When ``MODEL_PROVIDER``, a route or a fallback names a provider no plugin
    registered, or the default provider misses settings, the app still starts:
    it says why at start, ``/ready`` answers 503 and requests a 500 naming the
    fix (``lynkr_core.guidance``). In strict mode (``LYNKR_STRICT_PLUGINS``) an
    unregistered provider raises ``ConfigError`` instead, and a plugin that
    failed ``PluginLoadError``.
    """
    settings = settings or Settings.load()
    pm = pm or make_plugin_manager(settings)
    extra_routes = _plugin_routes(pm, settings)
    registered = Registered(settings, pm)
    pipeline = build_pipeline(settings, pm, registered)
    if pipeline.unavailable is not None and settings.core.strict_plugins:
        raise ConfigError(pipeline.unavailable)
    kept = [(route, extra) for owner, route, extra in extra_routes if pm.statuses[owner].enabled]
    routes = CORE_ROUTES + [route for route, _ in kept]
    admin_routes = [route for route, extra in kept if extra.admin] + [_core_route(RELOAD_PATH)]
    public_routes = [route for route, extra in kept if extra.public]
    lifecycle = registered.lifecycle()
    access = AccessKeys(settings.core.api_keys, settings.core.admin_keys, pipeline.redactor)
    load = LoadGauge(max_active=settings.core.load_shedding_active_requests,
                     max_memory_mb=settings.core.shed_memory_mb, queues=settings.core.shed_queues,
                     retry_after=settings.core.shed_retry_after_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ignore_cancelled_connections(asyncio.get_running_loop())
        pipeline.http = open_http_session(settings)
        # Plugins' own model calls go through the pipeline in force (a reload replaces it).
        model = ModelClient(lambda request, purpose: app.state.pipeline.model_client.complete(request, purpose=purpose))
        services = Services(settings, pipeline.http, model, registered.session_store(),
                            plugin_hooks=pm.hook_calls, circuit_states=pipeline.calls.breakers.states,
                            load_status=load.status)
        app.state.services = pipeline.observers.services = services
        started = False
        watcher: ConfigWatcher | None = None
        try:
            await lifecycle.start(services)
            started = True
            if pipeline.agent.catalog.stale:
                await pipeline.agent.catalog.refresh()
            await pm.run_hook("lynkr_startup", strict=True, app=app, settings=settings, services=services)
            log.info("started", provider=settings.core.model_provider, plugins=pm.enabled_names())
            problem = pipeline.not_ready()
            if problem is not None:
                log.error("not_configured", reason=problem)
                print(f"lynkr: {problem}", file=sys.stderr)
            if settings.core.reload_watch and settings.config_files():
                watcher = app.state.config_watcher = ConfigWatcher(
                    settings.config_files(), lambda: reloader.reload(trigger="watcher"))
                watcher.start()
            yield
        finally:
            if watcher is not None:
                await watcher.stop()
            await pipeline.drain()
            if started:
                await pm.run_hook("lynkr_shutdown", reverse=True, strict=False, app=app, settings=settings,
                                  services=services)
                await lifecycle.close()
            await pipeline.http.close()
            pipeline.http = None

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                GatewayMiddleware,
                api_keys=settings.core.api_keys,
                admin_keys=settings.core.admin_keys,
                admin_paths=[route.path_regex for route in admin_routes],
                public_paths=[route.path_regex for route in public_routes],
                max_body_bytes=settings.core.max_body_bytes,
                body_timeout=settings.core.body_timeout_seconds,
                access=access,
            ),
            Middleware(LoadShedding, gauge=load),  # inside: a refusal gets the gateway's request id
            Middleware(EndAtShutdown),  # a request cut at the end of the shutdown grace period
        ],
        exception_handlers={HTTPException: _http_exception},
        lifespan=lifespan,
    )
    # A redirect for a trailing slash would build its Location from the client's Host header.
    app.router.redirect_slashes = False
    app.state.pipeline = pipeline
    app.state.load = load
    app.state.settings = settings
    app.state.plugin_manager = pm
    app.state.reloader = reloader = Reloader(app, pm, registered, access, load)
    return app


def _core_route(path: str) -> Route:
    return next(route for route in CORE_ROUTES if isinstance(route, Route) and route.path == path)


def _plugin_routes(pm: LynkrPluginManager, settings: Settings) -> list[tuple[str, Route, ExtraRoute]]:
    """Plugins' routes with the plugin of each and what it registered (``admin``,
    ``public``); one that takes a core route fails its plugin."""
    taken = {route.path for route in CORE_ROUTES if isinstance(route, Route)}
    extra = collect(
        pm,
        "lynkr_register_routes",
        Registry[ExtraRoute]("route", name_of=lambda route: route.path),
        settings=settings,
    )
    routes: list[tuple[str, Route, ExtraRoute]] = []
    for owner, path, route in extra.owned():
        if path in taken:
            pm.record_failure(owner, f"route {path} is a core route", RegistrationError(path))
            continue
        served = Route(path, route.endpoint, methods=list(route.methods), name=route.name or None)
        routes.append((owner, served, route))
    return routes


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"{request.method} {request.url.path} not found"
    elif exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
    else:
        message = exc.detail
    return Response(
        encode_error(error_type_for_status(exc.status_code), message),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )

