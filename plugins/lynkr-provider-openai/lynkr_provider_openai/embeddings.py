"""``openai`` with embeddings: ``/v1/embeddings`` answered by the server's ``/embeddings``."""

from __future__ import annotations

import msgspec

from lynkr_core import EmbeddingRequest, Embeddings, RequestContext, Settings, openai_embeddings
from lynkr_provider_openai.config import PLUGIN_NAME, OpenAISettings
from lynkr_provider_openai.provider import OpenAIProvider


class EmbeddingSettings(msgspec.Struct, kw_only=True):
    """``OPENAI_EMBEDDINGS_MODEL`` and ``OPENAI_EMBEDDINGS_ENDPOINT`` (empty: the chat
    endpoint's sibling ``.../embeddings``)."""

    embeddings_model: str = "text-embedding-3-small"
    embeddings_endpoint: str = ""


EMBEDDINGS_ENV = {"embeddings_model": "OPENAI_EMBEDDINGS_MODEL", "embeddings_endpoint": "OPENAI_EMBEDDINGS_ENDPOINT"}


def embeddings_url(chat_endpoint: str) -> str:
    """The ``/embeddings`` URL next to a ``/chat/completions`` one."""
    base = chat_endpoint.rstrip("/").removesuffix("/chat/completions")
    return base + "/embeddings"


class OpenAIEmbeddingProvider(OpenAIProvider):
    """The ``openai`` provider, able to embed with the configured embeddings model."""

    def __init__(self, settings: OpenAISettings, core: Settings) -> None:
        super().__init__(settings, core)
        config = core.plugin_config(PLUGIN_NAME, EmbeddingSettings, EMBEDDINGS_ENV)
        self.embeddings_model = config.embeddings_model
        self.embeddings_url = config.embeddings_endpoint or embeddings_url(settings.endpoint)

    def can_embed(self) -> bool:
        """Yes."""
        return True

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """``OPENAI_EMBEDDINGS_MODEL``'s vectors for ``request.inputs``."""
        headers = {**self.auth_headers(), **self.extra_headers(context)}
        return await openai_embeddings(context, self.embeddings_url, headers, request, self.embeddings_model,
                                       client_timeout=self.timeout)
