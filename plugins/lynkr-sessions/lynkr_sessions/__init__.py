"""lynkr sessions: keeps every finished exchange by session in SQLite (the core's
``SessionStore``), with retention and redaction, a ``lynkr sessions`` command and admin
routes to browse them. In server mode it puts the tool calls and results lynkr ran (and hid
from the client) on earlier turns of a session back into the conversation it sends on."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import (
    Command,
    ExtraRoute,
    Finding,
    RequestPreparer,
    SessionStore,
    Settings,
    hookimpl,
)
from lynkr_sessions import cli, routes
from lynkr_sessions.config import load_settings
from lynkr_sessions.preparer import ToolTurnRestorer
from lynkr_sessions.security import security_findings
from lynkr_sessions.store import SqliteSessionStore


@hookimpl
def lynkr_register_stores(register: Callable[[SessionStore], None], settings: Settings) -> None:
    """The SQLite session store (secrets masked with ``SESSION_CONTENT=redacted``)."""
    register(SqliteSessionStore(load_settings(settings), settings.secrets()))


@hookimpl(tryfirst=True)
def lynkr_register_preparers(register: Callable[[RequestPreparer], None], settings: Settings) -> None:
    """The restorer of hidden server-mode tool turns (``SESSION_RESTORE_TOOL_RESULTS``), first
    among the preparers so that it reads the client's own history."""
    config = load_settings(settings)
    if config.restore_tool_results:
        register(ToolTurnRestorer(config, server_mode=settings.core.tool_execution_mode == "server"))


@hookimpl
def lynkr_register_routes(register: Callable[[ExtraRoute], None], settings: Settings) -> None:
    """``GET /v1/sessions`` and ``GET /v1/sessions/{session_id}``, for admin keys only."""
    register(ExtraRoute("/v1/sessions", routes.list_sessions, methods=("GET",), name="sessions",
                        admin=True))
    register(ExtraRoute("/v1/sessions/{session_id}", routes.show_session, methods=("GET",),
                        name="session", admin=True))


@hookimpl
def lynkr_register_commands(register: Callable[[Command], None]) -> None:
    """``lynkr sessions list|show|export|delete``."""
    register(Command("sessions", "stored sessions (lynkr sessions list|show|export|delete)", cli.run,
                     cli.add_arguments))


@hookimpl
def lynkr_security_findings(report: Callable[[Finding], None], settings: Settings) -> None:
    """For ``lynkr doctor --security``: whole conversations kept on disk."""
    for finding in security_findings(settings):
        report(finding)
