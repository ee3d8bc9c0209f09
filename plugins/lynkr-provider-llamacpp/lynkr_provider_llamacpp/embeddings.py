"""``llamacpp`` with embeddings: llama-server's OpenAI-compatible ``/v1/embeddings`` (the
server must run with ``--embeddings``)."""

from __future__ import annotations

import msgspec

from lynkr_core import EmbeddingRequest, Embeddings, RequestContext, Settings, openai_embeddings
from lynkr_provider_llamacpp.config import PLUGIN_NAME, LlamaCppSettings
from lynkr_provider_llamacpp.provider import LlamaCppProvider


class EmbeddingSettings(msgspec.Struct, kw_only=True):
    """``LLAMACPP_EMBEDDINGS_ENDPOINT`` (empty: ``<LLAMACPP_ENDPOINT>/v1/embeddings``)."""

    embeddings_endpoint: str = ""


EMBEDDINGS_ENV = {"embeddings_endpoint": "LLAMACPP_EMBEDDINGS_ENDPOINT"}


class LlamaCppEmbeddingProvider(LlamaCppProvider):
    """The ``llamacpp`` provider, able to embed with the loaded model."""

    def __init__(self, settings: LlamaCppSettings, core: Settings) -> None:
        super().__init__(settings, core)
        endpoint = core.plugin_config(PLUGIN_NAME, EmbeddingSettings, EMBEDDINGS_ENV).embeddings_endpoint
        self.embeddings_url = endpoint or self.url.removesuffix("/chat/completions") + "/embeddings"

    def can_embed(self) -> bool:
        """Yes."""
        return True

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """The loaded model's vectors for ``request.inputs``."""
        headers = {**self.auth_headers(), **self.extra_headers(context)}
        return await openai_embeddings(context, self.embeddings_url, headers, request, self.model or "default",
                                       client_timeout=self.timeout)
