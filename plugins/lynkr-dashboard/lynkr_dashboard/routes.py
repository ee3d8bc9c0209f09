"""The dashboard's data routes: ``/v1/dashboard/overview`` (admin) and
``/v1/dashboard/status`` (local clients, for ``lynkr statusline``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from lynkr_core import InvalidRequest, NotFound, __version__, background_queues, is_loopback
from lynkr_dashboard.feed import Feed

Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def plugin_rows(request: Request) -> list[dict[str, Any]]:
    """Every plugin the server saw: enabled, or why not (what ``lynkr plugins`` shows)."""
    manager = getattr(request.app.state, "plugin_manager", None)
    statuses = getattr(manager, "statuses", {})
    return [
        {"name": row.name, "distribution": row.distribution, "version": row.version,
         "enabled": row.enabled, "reason": row.reason, "hooks": list(row.hooks)}
        for row in sorted(statuses.values(), key=lambda row: row.name)
    ]


def overview(feed: Feed) -> Endpoint:
    """``GET /v1/dashboard/overview``: recent requests, providers' health and circuit
    breakers, tokens over time, plugins, their background queues, and the server's own facts."""

    async def endpoint(request: Request) -> JSONResponse:
        settings = request.app.state.services.settings
        services = request.app.state.services
        body = feed.overview()
        body["server"] = {"version": __version__, "provider": settings.core.model_provider,
                          "sessions_store": services.sessions is not None}
        body["plugins"] = plugin_rows(request)
        # The core's circuit breakers, one per upstream target used so far (this worker's).
        body["circuits"] = [dataclasses.asdict(state) for state in services.circuits()]
        # What the plugins' background queues hold, dropped and failed (this worker's).
        body["queues"] = [dataclasses.asdict(queue) for queue in background_queues()]
        # The page calls other plugins' routes (/v1/sessions, /v1/usage) only when they are served.
        body["routes"] = sorted({path for route in request.app.routes if (path := getattr(route, "path", None))})
        return JSONResponse(body)

    return endpoint


def _is_local(request: Request) -> bool:
    return is_loopback(request.client.host if request.client else "")


def status(feed: Feed) -> Endpoint:
    """``GET /v1/dashboard/status?session_id=ID``: the configured provider, and the session's
    tally (served provider and model, tokens, lynkr cache hits and what they saved), for
    clients on this machine only (``lynkr statusline``)."""

    async def endpoint(request: Request) -> JSONResponse:
        if not _is_local(request):
            raise NotFound("the status route answers clients on this machine only")
        session_id = request.query_params.get("session_id", "")
        if len(session_id) > 200:
            raise InvalidRequest("session_id: at most 200 characters")
        settings = request.app.state.services.settings
        return JSONResponse({
            "provider": settings.core.model_provider,
            "session": feed.session(session_id) if session_id else None,
        })

    return endpoint
