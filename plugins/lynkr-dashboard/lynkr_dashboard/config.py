"""The dashboard's settings (environment variables or ``[plugins.lynkr-dashboard]``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-dashboard"


class DashboardSettings(msgspec.Struct, kw_only=True):
    """What the dashboard keeps in memory; each field's environment variable is in ``ENV``."""

    recent_requests: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 200
    bucket_seconds: Annotated[int, msgspec.Meta(ge=1, le=86_400)] = 60
    history_buckets: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 180
    sessions: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1000


ENV = {
    "recent_requests": "DASHBOARD_RECENT_REQUESTS",
    "bucket_seconds": "DASHBOARD_BUCKET_SECONDS",
    "history_buckets": "DASHBOARD_HISTORY_BUCKETS",
    "sessions": "DASHBOARD_SESSIONS",
}


def load_settings(settings: Settings) -> DashboardSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, DashboardSettings, ENV)
