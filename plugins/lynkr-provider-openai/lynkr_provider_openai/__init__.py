"""lynkr-provider-openai: any server that speaks OpenAI Chat Completions."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_openai.config import ENV, PLUGIN_NAME, OpenAISettings
from lynkr_provider_openai.embeddings import OpenAIEmbeddingProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``openai``."""
    register(OpenAIEmbeddingProvider(settings.plugin_config(PLUGIN_NAME, OpenAISettings, ENV), settings))
