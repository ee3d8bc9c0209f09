"""Embeddings from an OpenAI-compatible ``/embeddings`` endpoint, for providers' ``embed``.

OpenAI, Azure OpenAI, OpenRouter and llama.cpp's server all answer
``{"model", "input": [...]}`` with ``{"data": [{"index", "embedding"}], "usage"}``;
``openai_embeddings`` sends one such request with a provider's credentials and
turns its answer (or its error) into the core's ``Embeddings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import msgspec

from lynkr_core.contracts import EmbeddingRequest, Embeddings
from lynkr_core.errors import UpstreamError, error_type_for_status
from lynkr_core.upstream import error_from_exception, error_from_response

if TYPE_CHECKING:
    from lynkr_core.context import RequestContext


class _Vector(msgspec.Struct):
    embedding: list[float]
    index: int = 0


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0


class _EmbeddingAnswer(msgspec.Struct):
    data: list[_Vector]
    model: str = ""
    usage: _Usage | None = None


_answer_decoder = msgspec.json.Decoder(_EmbeddingAnswer)


async def openai_embeddings(
    context: RequestContext,
    url: str,
    headers: Mapping[str, str],
    request: EmbeddingRequest,
    model: str,
    *,
    client_timeout: aiohttp.ClientTimeout | None = None,
) -> Embeddings:
    """POST ``request`` to the OpenAI-compatible embeddings ``url`` for ``model`` with
    ``headers`` (the provider's credentials) and its ``client_timeout``; ``UpstreamError`` for an error answer, a
    connection fault or an answer that is not one vector per input."""
    body: dict[str, Any] = {"model": model, "input": request.inputs}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    options: dict[str, Any] = {} if client_timeout is None else {"timeout": client_timeout}
    try:
        async with context.http.post(url, data=msgspec.json.encode(body),
                                     headers={"content-type": "application/json", **headers},
                                     **options) as response:
            raw = await response.read()
            if response.status >= 400:
                raise error_from_response(response.status, raw, response.headers)
    except UpstreamError:
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise error_from_exception(exc, url) from exc
    try:
        answer = _answer_decoder.decode(raw)
    except msgspec.MsgspecError as exc:
        raise UpstreamError(f"upstream embeddings answer is malformed: {exc}", status=502) from None
    vectors = [vector.embedding for vector in sorted(answer.data, key=lambda v: v.index)]
    if len(vectors) != len(request.inputs):
        raise UpstreamError(f"upstream returned {len(vectors)} embeddings for {len(request.inputs)} inputs",
                            status=502, error_type=error_type_for_status(502))
    tokens = answer.usage.prompt_tokens if answer.usage is not None else 0
    return Embeddings(vectors=vectors, model=answer.model or model, input_tokens=tokens)
