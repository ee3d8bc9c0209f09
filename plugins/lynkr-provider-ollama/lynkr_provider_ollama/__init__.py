"""lynkr-provider-ollama: Ollama's native chat API."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_ollama.config import ENV, PLUGIN_NAME, OllamaSettings
from lynkr_provider_ollama.embeddings import OllamaEmbeddingProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``ollama``."""
    register(OllamaEmbeddingProvider(settings.plugin_config(PLUGIN_NAME, OllamaSettings, ENV), settings))
