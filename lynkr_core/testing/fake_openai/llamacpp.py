"""The llama.cpp (llama-server) dialect: `/health`, typed int-coded errors and timings."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.bare import _Bare
from lynkr_core.testing.fake_openai.dialect import _Error
from lynkr_core.testing.fake_openai.turn import _Route, _Turn
from lynkr_core.testing.scripted import json_response, new_id

LLAMACPP_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    501: "not_supported_error",
    503: "unavailable_error",
}


class _LlamaCpp(_Bare):
    """llama-server: `/v1/chat/completions`, `/health`, typed int-coded errors, timings."""

    name = "llamacpp"
    default_model = "llama"
    owned_by = "llamacpp"

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """Chat with or without `/v1`; `/health` and the model list need no key."""
        if method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            return _Route("chat")
        if method == "GET" and path in ("/health", "/v1/health"):
            return _Route("health", public=True)
        if method == "GET" and path in ("/v1/models", "/models"):
            return _Route("models", public=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """llama-server's 404."""
        return self.error(404, "File Not Found")

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """llama-server's 401."""
        return self.error(401, "Invalid API Key")

    def body_problem(self, body: Any) -> web.Response | None:
        """JSON with a `messages` array is required."""
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON")
        if not isinstance(body.get("messages"), list):
            return self.error(400, "Expected 'messages' to be an array")
        return None

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error": {"code": <int>, "message", "type"}}`."""
        default = "server_error" if error.status >= 500 else "invalid_request_error"
        error_type = LLAMACPP_ERROR_TYPES.get(error.status, default)
        if error.code is not None:
            error_type = str(error.code)
        return {"error": {"code": error.status, "message": error.message, "type": error_type}}

    def headers(self) -> dict[str, str]:
        """No particular headers."""
        return {}

    def health(self, loading: bool) -> web.Response:
        """`{"status": "ok"}`, or 503 while loading."""
        if loading:
            return self.error(503, "Loading model")
        return json_response(200, {"status": "ok"})

    def call_id(self) -> str:
        """llama.cpp tool call ids (random alphanumerics)."""
        return new_id("")

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """A build fingerprint, no service tier."""
        return {
            "id": turn.id,
            "object": kind,
            "created": turn.created,
            "model": turn.model,
            "system_fingerprint": "b6000-fake",
        }

    def timings(self, turn: _Turn) -> dict[str, Any]:
        """llama.cpp's `timings` (clients ignore them)."""
        prompt, predicted = turn.usage["prompt_tokens"], turn.usage["completion_tokens"]
        return {
            "prompt_n": prompt,
            "prompt_ms": 1.0,
            "prompt_per_token_ms": 1.0 / max(prompt, 1),
            "prompt_per_second": 1000.0 * prompt,
            "predicted_n": predicted,
            "predicted_ms": 1.0,
            "predicted_per_token_ms": 1.0 / max(predicted, 1),
            "predicted_per_second": 1000.0 * predicted,
        }

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """Non-stream bodies carry timings."""
        return {**super().completion(turn), "timings": self.timings(turn)}

    def finish_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The finish chunk carries usage and timings unless a usage chunk follows."""
        chunk = super().finish_chunk(turn)
        if not turn.include_usage:
            chunk.update(usage=self.usage(turn), timings=self.timings(turn))
        return chunk

    def usage_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The usage chunk carries timings too."""
        return {**super().usage_chunk(turn), "timings": self.timings(turn)}
