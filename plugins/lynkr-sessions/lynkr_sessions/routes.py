"""Admin routes: ``GET /v1/sessions`` and ``GET /v1/sessions/{session_id}``.

Registered as admin routes: only a key of ``LYNKR_ADMIN_KEYS`` is answered. They read
the store the server started (``request.app.state.services.sessions``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from lynkr_core import InvalidRequest, NotFound

MAX_LIMIT = 1000


def summary_json(summary: Any) -> dict[str, Any]:
    """A ``SessionSummary`` as JSON data."""
    return {"id": summary.id, "started": summary.started, "updated": summary.updated,
            "exchanges": summary.exchanges, "models": list(summary.models)}


def _limit(request: Request, default: int | None) -> int | None:
    text = request.query_params.get("limit")
    if text is None:
        return default
    try:
        limit = int(text)
    except ValueError:
        raise InvalidRequest(f"limit: expected an integer, got {text!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit: expected 1 to {MAX_LIMIT}, got {limit}")
    return limit


def _store(request: Request) -> Any:
    store = request.app.state.services.sessions
    if store is None:
        raise NotFound("no session store is running")
    return store


async def list_sessions(request: Request) -> JSONResponse:
    """The most recently updated sessions first (``?limit=``, default 50)."""
    store = _store(request)
    sessions = await store.sessions(limit=_limit(request, 50))
    return JSONResponse({"sessions": [summary_json(s) for s in sessions]})


async def show_session(request: Request) -> JSONResponse:
    """One session: its summary and its exchanges (oldest first; ``?limit=``: the last ones),
    metadata and content as stored."""
    store = _store(request)
    session_id = request.path_params["session_id"]
    summary = await store.session(session_id)
    if summary is None:
        raise NotFound(f"no session {session_id!r}")
    rows = await store.exchange_rows(session_id, limit=_limit(request, None))
    return JSONResponse({"session": summary_json(summary), "exchanges": rows})
