"""lynkr-provider-llamacpp: llama.cpp's llama-server."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_llamacpp.config import ENV, PLUGIN_NAME, LlamaCppSettings
from lynkr_provider_llamacpp.embeddings import LlamaCppEmbeddingProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``llamacpp``."""
    register(LlamaCppEmbeddingProvider(settings.plugin_config(PLUGIN_NAME, LlamaCppSettings, ENV), settings))
