"""``azure-openai`` with embeddings: an embeddings deployment of the same resource."""

from __future__ import annotations

import msgspec

from lynkr_core import EmbeddingRequest, Embeddings, RequestContext, Settings, openai_embeddings
from lynkr_provider_azure_openai.config import PLUGIN_NAME, AzureOpenAISettings
from lynkr_provider_azure_openai.provider import AzureOpenAIProvider, chat_url


class EmbeddingSettings(msgspec.Struct, kw_only=True):
    """``AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT`` and ``AZURE_OPENAI_EMBEDDINGS_ENDPOINT`` (empty:
    the deployment's ``/embeddings`` URL on the chat endpoint's resource)."""

    embeddings_deployment: str = "text-embedding-3-small"
    embeddings_endpoint: str = ""


EMBEDDINGS_ENV = {
    "embeddings_deployment": "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT",
    "embeddings_endpoint": "AZURE_OPENAI_EMBEDDINGS_ENDPOINT",
}


class AzureOpenAIEmbeddingProvider(AzureOpenAIProvider):
    """The ``azure-openai`` provider, able to embed with the embeddings deployment."""

    def __init__(self, settings: AzureOpenAISettings, core: Settings) -> None:
        super().__init__(settings, core)
        config = core.plugin_config(PLUGIN_NAME, EmbeddingSettings, EMBEDDINGS_ENV)
        self.embeddings_deployment = config.embeddings_deployment
        chat = chat_url(settings.endpoint, config.embeddings_deployment, settings.api_version)
        self.embeddings_url = config.embeddings_endpoint or chat.replace("/chat/completions", "/embeddings", 1)

    def can_embed(self) -> bool:
        """Yes."""
        return True

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """The embeddings deployment's vectors for ``request.inputs``."""
        headers = {**self.auth_headers(), **self.extra_headers(context)}
        return await openai_embeddings(context, self.embeddings_url, headers, request,
                                       self.embeddings_deployment, client_timeout=self.timeout)
