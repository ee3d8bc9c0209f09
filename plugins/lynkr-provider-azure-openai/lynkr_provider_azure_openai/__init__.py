"""lynkr-provider-azure-openai: Azure OpenAI chat deployments."""

from __future__ import annotations

from collections.abc import Callable

from lynkr_core import Provider, Settings, hookimpl
from lynkr_provider_azure_openai.config import ENV, PLUGIN_NAME, AzureOpenAISettings
from lynkr_provider_azure_openai.embeddings import AzureOpenAIEmbeddingProvider


@hookimpl
def lynkr_register_providers(register: Callable[[Provider], None], settings: Settings) -> None:
    """Register ``azure-openai``."""
    register(AzureOpenAIEmbeddingProvider(settings.plugin_config(PLUGIN_NAME, AzureOpenAISettings, ENV), settings))
