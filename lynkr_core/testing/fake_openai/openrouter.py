"""The OpenRouter dialect: `/api/v1`, SSE keep-alive comments, int error codes with
metadata and HTTP-200 errors.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.dialect import _Dialect, _Error
from lynkr_core.testing.fake_openai.frames import data_frame
from lynkr_core.testing.fake_openai.replies import ErrorReply
from lynkr_core.testing.fake_openai.turn import _Route, _Turn
from lynkr_core.testing.scripted import json_response, new_id

OPENROUTER_COMMENT = b": OPENROUTER PROCESSING\n\n"


class _OpenRouter(_Dialect):
    """OpenRouter: `/api/v1`, SSE comments, int error codes with metadata, 200-errors."""

    name = "openrouter"
    default_model = "openrouter/auto"
    reasoning_key = "reasoning"
    null_usage_in_chunks = False
    owned_by = "openrouter"

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """POST /api/v1/chat/completions, GET /api/v1/models."""
        if method == "POST" and path == "/api/v1/chat/completions":
            return _Route("chat")
        if method == "GET" and path == "/api/v1/models":
            return _Route("models", public=True)
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """OpenRouter's 404."""
        return json_response(404, {"error": {"message": "Not Found", "code": 404}})

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """OpenRouter's 401s (no metadata)."""
        known = "authorization" in headers
        message = "User not found." if known else "No auth credentials found"
        return json_response(401, {"error": {"message": message, "code": 401}})

    def body_problem(self, body: Any) -> web.Response | None:
        """`messages` (or `prompt`) is required."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            message = 'Input required: specify "prompt" or "messages"'
            return json_response(400, {"error": {"message": message, "code": 400}})
        return None

    def envelope(self, error: _Error) -> dict[str, Any]:
        """`{"error": {"code": <int>, "message", "metadata"}}`."""
        metadata = error.metadata
        if metadata is None:
            metadata = {"provider_name": "Fake", "raw": error.message}
        code = error.code if error.code is not None else error.status
        return {"error": {"code": code, "message": error.message, "metadata": metadata}}

    def stream_error_frames(self, error: ErrorReply, turn: _Turn) -> list[bytes]:
        """A chunk with a top-level `error` and finish_reason "error"."""
        body = self.scripted_error_body(error)
        chunk = {
            "id": turn.id,
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": turn.model,
            "provider": "Fake",
            **body,
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": ""},
                    "finish_reason": "error",
                    "native_finish_reason": "error",
                }
            ],
        }
        return [data_frame(chunk)]

    def late_error_body(self, error: ErrorReply) -> dict[str, Any] | None:
        """OpenRouter answers HTTP 200 with the error body once it has started."""
        return self.scripted_error_body(error)

    def headers(self) -> dict[str, str]:
        """No particular headers."""
        return {}

    def models(self) -> web.Response:
        """GET /api/v1/models: OpenRouter's model objects."""
        model = self.model or self.default_model
        data = [
            {
                "id": model,
                "name": model,
                "created": 0,
                "context_length": 200000,
                "pricing": {"prompt": "0", "completion": "0"},
                "supported_parameters": ["tools", "tool_choice", "reasoning", "max_tokens"],
            }
        ]
        return json_response(200, {"data": data})

    def completion_id(self) -> str:
        """OpenRouter generation ids."""
        return new_id("gen-")

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """OpenRouter names the provider that served the call."""
        return {
            "id": turn.id,
            "provider": "Fake",
            "model": turn.model,
            "object": kind,
            "created": turn.created,
        }

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """`native_finish_reason` beside `finish_reason`."""
        return {"native_finish_reason": finish, "logprobs": None}

    def usage(self, turn: _Turn) -> dict[str, Any]:
        """OpenRouter adds the cost."""
        return {**turn.usage, "cost": 0}

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """OpenRouter messages carry `refusal`."""
        return {**message, "refusal": None}

    def prefix_frames(self) -> list[bytes]:
        """The keep-alive comment before the first chunk."""
        return [OPENROUTER_COMMENT]

    def gap_frame(self) -> bytes | None:
        """The keep-alive comment, repeated while a scripted delay passes."""
        return OPENROUTER_COMMENT
