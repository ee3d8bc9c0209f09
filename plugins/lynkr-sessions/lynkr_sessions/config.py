"""Settings, and where the session database lives (the server and ``lynkr sessions`` agree)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-sessions"

DB_NAME = "sessions.db"


class SessionsSettings(msgspec.Struct, kw_only=True):
    """What the session store keeps; each field's environment variable is in ``ENV``."""

    content: Literal["full", "redacted", "none"] = "full"
    retention_days: Annotated[float, msgspec.Meta(ge=0)] = 30
    max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 512 * 1024 * 1024
    queue_size: Annotated[int, msgspec.Meta(ge=1)] = 100
    restore_tool_results: bool = True
    restore_max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 128 * 1024
    restore_cache_bytes: Annotated[int, msgspec.Meta(ge=0)] = 64 * 1024 * 1024


ENV = {
    "content": "SESSION_CONTENT",
    "retention_days": "SESSION_RETENTION_DAYS",
    "max_bytes": "SESSION_MAX_BYTES",
    "queue_size": "SESSION_QUEUE_SIZE",
    "restore_tool_results": "SESSION_RESTORE_TOOL_RESULTS",
    "restore_max_bytes": "SESSION_RESTORE_MAX_BYTES",
    "restore_cache_bytes": "SESSION_RESTORE_CACHE_BYTES",
}


def load_settings(settings: Settings) -> SessionsSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, SessionsSettings, ENV)


def db_path(home: str | Path) -> Path:
    """The session database under ``LYNKR_HOME``: in the directory
    ``Services.data_dir(PLUGIN_NAME)`` gives the server (not created here)."""
    return Path(home).expanduser().joinpath(PLUGIN_NAME, DB_NAME)
