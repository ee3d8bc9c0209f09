"""lynkr-provider-openrouter: OpenRouter."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_openrouter.config import ENV, PLUGIN_NAME, OpenRouterSettings
from lynkr_provider_openrouter.embeddings import OpenRouterEmbeddingProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``openrouter``."""
    register(OpenRouterEmbeddingProvider(settings.plugin_config(PLUGIN_NAME, OpenRouterSettings, ENV), settings))
