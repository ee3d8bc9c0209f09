"""``ollama`` with embeddings: Ollama's native ``/api/embed``."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from lynkr_core import (
    EmbeddingRequest,
    Embeddings,
    RequestContext,
    Settings,
    UpstreamError,
    error_from_exception,
    error_from_response,
)
from lynkr_provider_ollama.config import PLUGIN_NAME, OllamaSettings
from lynkr_provider_ollama.provider import OllamaProvider


class EmbeddingSettings(msgspec.Struct, kw_only=True):
    """``OLLAMA_EMBEDDINGS_MODEL`` and ``OLLAMA_EMBEDDINGS_ENDPOINT`` (empty:
    ``<OLLAMA_ENDPOINT>/api/embed``)."""

    embeddings_model: str = "nomic-embed-text"
    embeddings_endpoint: str = ""


EMBEDDINGS_ENV = {"embeddings_model": "OLLAMA_EMBEDDINGS_MODEL", "embeddings_endpoint": "OLLAMA_EMBEDDINGS_ENDPOINT"}


class _EmbedAnswer(msgspec.Struct):
    embeddings: list[list[float]]
    model: str = ""
    prompt_eval_count: int = 0


_answer_decoder = msgspec.json.Decoder(_EmbedAnswer)


class OllamaEmbeddingProvider(OllamaProvider):
    """The ``ollama`` provider, able to embed with the configured embeddings model."""

    def __init__(self, settings: OllamaSettings, core: Settings) -> None:
        super().__init__(settings, core)
        config = core.plugin_config(PLUGIN_NAME, EmbeddingSettings, EMBEDDINGS_ENV)
        self.embeddings_model = config.embeddings_model
        self.embeddings_url = config.embeddings_endpoint or settings.endpoint.rstrip("/") + "/api/embed"

    def can_embed(self) -> bool:
        """Yes."""
        return True

    async def embed(self, request: EmbeddingRequest, context: RequestContext) -> Embeddings:
        """``OLLAMA_EMBEDDINGS_MODEL``'s vectors for ``request.inputs``."""
        body: dict[str, Any] = {"model": self.embeddings_model, "input": request.inputs}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        options: dict[str, Any] = {} if self.timeout is None else {"timeout": self.timeout}
        try:
            async with context.http.post(self.embeddings_url, data=msgspec.json.encode(body),
                                         headers={"content-type": "application/json"}, **options) as response:
                raw = await response.read()
                if response.status >= 400:
                    raise error_from_response(response.status, raw, response.headers)
        except UpstreamError:
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise error_from_exception(exc, self.embeddings_url) from exc
        try:
            answer = _answer_decoder.decode(raw)
        except msgspec.MsgspecError as exc:
            raise UpstreamError(f"Ollama's embeddings answer is malformed: {exc}", status=502) from None
        if len(answer.embeddings) != len(request.inputs):
            raise UpstreamError(f"Ollama returned {len(answer.embeddings)} embeddings for "
                                f"{len(request.inputs)} inputs", status=502)
        return Embeddings(answer.embeddings, answer.model or self.embeddings_model, answer.prompt_eval_count)
