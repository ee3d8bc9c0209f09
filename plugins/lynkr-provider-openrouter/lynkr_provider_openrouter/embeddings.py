"""``openrouter`` with embeddings: OpenRouter's ``/api/v1/embeddings``."""

from __future__ import annotations

import msgspec

from lynkr_core import EmbeddingRequest, Embeddings, RequestContext, Settings, openai_embeddings
from lynkr_provider_openrouter.config import PLUGIN_NAME, OpenRouterSettings
from lynkr_provider_openrouter.provider import OpenRouterProvider


class EmbeddingSettings(msgspec.Struct, kw_only=True):
    """``OPENROUTER_EMBEDDINGS_MODEL``."""

    embeddings_model: str = "openai/text-embedding-3-small"


EMBEDDINGS_ENV = {"embeddings_model": "OPENROUTER_EMBEDDINGS_MODEL"}


class OpenRouterEmbeddingProvider(OpenRouterProvider):
    """The ``openrouter`` provider, able to embed with the configured embeddings model."""

    def __init__(self, settings: OpenRouterSettings, core: Settings) -> None:
        super().__init__(settings, core)
        self.embeddings_model = core.plugin_config(PLUGIN_NAME, EmbeddingSettings, EMBEDDINGS_ENV).embeddings_model
        self.embeddings_url = self.url.rstrip("/").removesuffix("/chat/completions") + "/embeddings"

    def can_embed(self) -> bool:
        """Yes."""
        return True

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """``OPENROUTER_EMBEDDINGS_MODEL``'s vectors for ``request.inputs``."""
        headers = {**self.auth_headers(), **self.extra_headers(context)}
        return await openai_embeddings(context, self.embeddings_url, headers, request, self.embeddings_model,
                                       client_timeout=self.timeout)
