"""A scripted fake of the embeddings endpoints, for tests.

`FakeEmbeddings` answers OpenAI's ``POST .../embeddings`` (OpenAI, Azure, OpenRouter,
llama.cpp's server: ``{"data": [{"index", "embedding"}], "usage"}``) and Ollama's
``POST /api/embed`` (``{"embeddings": [...]}``) with deterministic vectors
(`vector_for`), and records every request. Other paths answer 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lynkr_core.testing.scripted import ScriptedServer, json_response

__all__ = ["FakeEmbeddings", "vector_for"]


def vector_for(text: str, dimensions: int = 4) -> list[float]:
    """The vector the fake gives ``text``: exact in float32, the same every time."""
    seed = sum(text.encode())
    return [float((seed * (i + 1)) % 97) / 4 for i in range(dimensions)]


class FakeEmbeddings(ScriptedServer):
    """Embeddings for any text; ``status`` other than 200 answers every call with that error."""

    thread_name = "fake-embeddings"

    def __init__(self, *, status: int = 200) -> None:
        super().__init__(None)
        self.status = status

    def default_item(self) -> Any:
        """Not scripted: every answer is computed."""
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        body = record.json if isinstance(record.json, dict) else {}
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if self.status != 200:
            return json_response(self.status, {"error": {"message": "scripted embeddings failure",
                                                         "type": "server_error"}})
        if not isinstance(texts, list):
            return json_response(400, {"error": {"message": "input is required", "type": "invalid_request_error"}})
        size = body.get("dimensions") or 4
        vectors = [vector_for(str(text), size) for text in texts]
        tokens = sum(len(str(text).split()) for text in texts)
        if request.path.endswith("/api/embed"):
            return json_response(200, {"model": body.get("model"), "embeddings": vectors,
                                       "prompt_eval_count": tokens})
        if request.path.endswith("/embeddings"):
            data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
            return json_response(200, {"object": "list", "data": data, "model": body.get("model"),
                                       "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
        return json_response(404, {"error": {"message": f"no route {request.path}"}})
