"""``POST /v1/embeddings``: the request, the provider that answers it, and the answer.

The provider is ``EMBEDDINGS_PROVIDER`` when set, else ``MODEL_PROVIDER``'s
when it can embed (``Provider.can_embed``); a 400 names the providers that can
when neither does. Vectors go back as floats, or as base64 of little-endian
float32 when the client asks (``encoding_format: "base64"``, the ``openai``
SDKs' default).
"""

from __future__ import annotations

import base64
import struct

import msgspec

from lynkr_core.contracts import EmbeddingRequest, Embeddings, Provider
from lynkr_core.errors import InvalidRequest, LynkrError
from lynkr_core.guidance import not_configured_message
from lynkr_core.openai_api.decode import decode_body
from lynkr_core.pipeline import Pipeline

#: The setting that names the provider of embeddings (the original project's name).
EMBEDDINGS_PROVIDER = "EMBEDDINGS_PROVIDER"
#: At most this many inputs in one request (OpenAI's limit).
MAX_INPUTS = 2048


class EmbeddingsRequestIn(msgspec.Struct, kw_only=True):
    """``POST /v1/embeddings`` as a client sends it."""

    input: str | list[str]
    model: str = ""
    encoding_format: str = "float"
    dimensions: int | None = None
    user: str | None = None


_decoder = msgspec.json.Decoder(EmbeddingsRequestIn)


def decode_embeddings_request(body: bytes) -> EmbeddingsRequestIn:
    """Decode and check an embeddings body (token arrays are refused: text only)."""
    try:
        request = decode_body(body, _decoder)
    except InvalidRequest as exc:
        if exc.message.startswith("input:"):
            raise InvalidRequest("input: must be a string or a list of strings (token arrays are not supported)",
                                 ) from None
        raise
    inputs = [request.input] if isinstance(request.input, str) else request.input
    if not inputs or len(inputs) > MAX_INPUTS:
        raise InvalidRequest(f"input: must hold 1 to {MAX_INPUTS} texts")
    if any(not text for text in inputs):
        raise InvalidRequest("input: texts must not be empty")
    if request.encoding_format not in ("float", "base64"):
        raise InvalidRequest("encoding_format: must be 'float' or 'base64'")
    if request.dimensions is not None and request.dimensions < 1:
        raise InvalidRequest("dimensions: must be at least 1")
    return request


def embedding_request(request: EmbeddingsRequestIn) -> EmbeddingRequest:
    """The core's ``EmbeddingRequest`` for ``request``."""
    inputs = [request.input] if isinstance(request.input, str) else list(request.input)
    return EmbeddingRequest(inputs=inputs, model=request.model, dimensions=request.dimensions)


def embedding_provider(pipeline: Pipeline) -> Provider:
    """The provider that answers embeddings, or a clear error saying why there is none."""
    settings = pipeline.settings
    named = (settings.get(EMBEDDINGS_PROVIDER) or "").strip()
    able = sorted(name for name in pipeline.providers.names() if pipeline.providers.get(name).can_embed())
    choices = f"providers that can: {', '.join(able) or 'none installed'}"
    if named:
        provider = pipeline.providers.get(named)
        if provider is None:
            raise InvalidRequest(f"{EMBEDDINGS_PROVIDER}={named}: no such provider is installed ({choices})")
        if not provider.can_embed():
            raise InvalidRequest(f"{EMBEDDINGS_PROVIDER}={named}: this provider cannot embed ({choices})")
    else:
        provider = pipeline.default_provider()
        if provider is None or not provider.can_embed():
            raise InvalidRequest(
                f"no embeddings provider: MODEL_PROVIDER={settings.core.model_provider} cannot embed; "
                f"set {EMBEDDINGS_PROVIDER} ({choices})")
    missing = provider.missing_settings()
    if missing:
        raise LynkrError(not_configured_message(provider.name, missing, default=False), status=500)
    return provider


def embeddings_answer(embeddings: Embeddings, encoding: str, model: str) -> dict:
    """The ``{"object": "list", "data": [...]}`` answer."""
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": _encoded(vector, encoding)}
            for index, vector in enumerate(embeddings.vectors)
        ],
        "model": model or embeddings.model,
        "usage": {"prompt_tokens": embeddings.input_tokens, "total_tokens": embeddings.input_tokens},
    }


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
