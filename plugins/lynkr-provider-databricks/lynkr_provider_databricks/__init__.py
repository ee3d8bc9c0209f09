"""lynkr-provider-databricks: Databricks Model Serving endpoints."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_databricks.config import ENV, PLUGIN_NAME, DatabricksSettings
from lynkr_provider_databricks.provider import DatabricksProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``databricks``."""
    register(DatabricksProvider(settings.plugin_config(PLUGIN_NAME, DatabricksSettings, ENV), settings))
