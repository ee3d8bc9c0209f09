"""Settings of lynkr-metrics, and who may read ``/metrics``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from lynkr_core import Settings

PLUGIN_NAME = "lynkr-metrics"


class MetricsSettings(msgspec.Struct, kw_only=True):
    """Each field's environment variable is in ``ENV``."""

    #: ``auto``: the admin key when ``LYNKR_ADMIN_KEYS`` is set, else like ``/v1/messages``
    #: (an API key when ``LYNKR_API_KEYS`` is set); ``admin``; ``api``; ``none`` (no key).
    auth: Literal["auto", "admin", "api", "none"] = "auto"
    path: str = "/metrics"
    #: Distinct ``model`` label values kept before further models count as ``other``.
    max_models: Annotated[int, msgspec.Meta(ge=1)] = 100


ENV = {"auth": "METRICS_AUTH", "path": "METRICS_PATH", "max_models": "METRICS_MAX_MODELS"}


def load_settings(settings: Settings) -> MetricsSettings:
    """The plugin's settings (``ConfigError`` naming the variable when one is invalid)."""
    return settings.plugin_config(PLUGIN_NAME, MetricsSettings, ENV)


def route_access(config: MetricsSettings, settings: Settings) -> Literal["admin", "api", "none"]:
    """Who may read the metrics: ``auto`` is ``admin`` when an admin key is configured."""
    if config.auth == "auto":
        return "admin" if settings.core.admin_keys else "api"
    return config.auth
