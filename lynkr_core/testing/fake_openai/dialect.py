"""The dialect interface, as OpenAI itself speaks it: routes, auth, error envelopes,
headers, ids and the completion and chunk bodies. The other dialects subclass it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from lynkr_core.testing.fake_openai.frames import completion_message, data_frame, stream_deltas
from lynkr_core.testing.fake_openai.replies import ChatReply, ErrorReply
from lynkr_core.testing.fake_openai.turn import _Route, _Turn
from lynkr_core.testing.scripted import json_response, new_id, retry_after_header


@dataclass
class _Error:
    """An error to put in a dialect's envelope: HTTP status, message, optional details."""

    status: int
    message: str
    code: str | int | None = None
    param: str | None = None
    metadata: dict[str, Any] | None = None


class _Dialect:
    """OpenAI's own wire format; subclasses override what their provider does differently."""

    name = "openai"
    default_model = "gpt-4o-mini"
    reasoning_key = "reasoning_content"
    sse_content_type = "text/event-stream; charset=utf-8"
    owned_by = "fake"
    null_usage_in_chunks = True

    def __init__(self, api_key: str | None, deployment: str | None, model: str | None) -> None:
        self.api_key = api_key
        self.deployment = deployment
        self.model = model

    # routing and checks

    def route(self, method: str, path: str, query: dict[str, str]) -> _Route | web.Response | None:
        """The route of a request, an immediate error response, or None (not found)."""
        if method == "POST" and path.endswith("/chat/completions"):
            return _Route("chat")
        if method == "GET" and path.endswith("/models"):
            return _Route("models")
        return None

    def not_found(self, method: str, path: str) -> web.Response:
        """The answer to an unknown route."""
        return self.error(404, f"Invalid URL ({method} {path})")

    def authorized(self, headers: dict[str, str]) -> bool:
        """Whether the request carries the key (always, without one)."""
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    def unauthorized(self, headers: dict[str, str]) -> web.Response:
        """The 401 for a missing or wrong key."""
        if "authorization" not in headers:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return self.error(401, message)
        key = headers["authorization"].removeprefix("Bearer ")
        masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "***"
        message = (
            f"Incorrect API key provided: {masked}. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
        return self.error(401, message, code="invalid_api_key")

    def body_problem(self, body: Any) -> web.Response | None:
        """A 400 for a body that is not JSON or lacks what the service requires."""
        if not isinstance(body, dict):
            message = (
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)"
            )
            return self.error(400, message)
        if not isinstance(body.get("model"), str):
            return self.error(400, "you must provide a model parameter")
        if not isinstance(body.get("messages"), list):
            return self.error(
                400,
                "Missing required parameter: 'messages'.",
                code="missing_required_parameter",
                param="messages",
            )
        return None

    def endpoint_problem(self, endpoint: str | None) -> web.Response | None:
        """A 404 when the named deployment/endpoint is not the configured one."""
        return None

    # errors

    def error_type(self, status: int) -> str:
        """OpenAI's error `type` for a status."""
        if status == 429:
            return "requests"
        return "server_error" if status >= 500 else "invalid_request_error"

    def error_body(
        self,
        status: int,
        message: str,
        *,
        code: str | int | None = None,
        param: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The dialect's error envelope (see `envelope`)."""
        return self.envelope(_Error(status, message, code, param, metadata))

    def scripted_error_body(self, error: ErrorReply) -> dict[str, Any]:
        """The dialect's error envelope for a scripted `ErrorReply`."""
        return self.error_body(
            error.status, error.message, code=error.code, metadata=error.metadata
        )

    def error(self, status: int, message: str, **details: Any) -> web.Response:
        """An HTTP `status` answer with the dialect's error envelope."""
        return json_response(status, self.error_body(status, message, **details))

    def envelope(self, error: _Error) -> dict[str, Any]:
        """OpenAI's `{"error": {"message", "type", "param", "code"}}`."""
        code = error.code
        if code is None and error.status == 429:
            code = "rate_limit_exceeded"
        return {
            "error": {
                "message": error.message,
                "type": self.error_type(error.status),
                "param": error.param,
                "code": code,
            }
        }

    def stream_error_frames(self, error: ErrorReply, turn: _Turn) -> list[bytes]:
        """The data frame(s) that report an error inside a started stream."""
        return [data_frame(self.scripted_error_body(error))]

    def late_error_body(self, error: ErrorReply) -> dict[str, Any] | None:
        """The HTTP-200 body of an error after a non-stream answer started (None: plain HTTP)."""
        return None

    def headers(self) -> dict[str, str]:
        """Extra headers on every answer."""
        return {"x-request-id": "req_" + uuid.uuid4().hex, "openai-processing-ms": "1"}

    def error_headers(self, error: ErrorReply) -> dict[str, str]:
        """Headers of a scripted HTTP error."""
        return {**self.headers(), **retry_after_header(error.retry_after)}

    # models and health

    def models(self) -> web.Response:
        """GET .../models."""
        model = self.model or self.default_model
        data = [{"id": model, "object": "model", "created": 0, "owned_by": self.owned_by}]
        return json_response(200, {"object": "list", "data": data}, self.headers())

    def health(self, loading: bool) -> web.Response:
        """GET /health (llama.cpp only)."""
        return self.not_found("GET", "/health")

    # replies

    def completion_id(self) -> str:
        """A completion id."""
        return new_id("chatcmpl-")

    def call_id(self) -> str:
        """A tool call id."""
        return new_id("call_")

    def response_model(self, body: dict[str, Any], route: _Route) -> str:
        """The `model` reported in answers."""
        return self.model or body.get("model") or route.endpoint or self.default_model

    def head(self, turn: _Turn, kind: str) -> dict[str, Any]:
        """The top-level fields of a completion or chunk (`kind` is the `object`)."""
        return {
            "id": turn.id,
            "object": kind,
            "created": turn.created,
            "model": turn.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def choice_extras(self, turn: _Turn, delta: dict[str, Any] | None, finish: str | None) -> dict:
        """Extra keys of a choice (`delta` is None for a non-stream choice)."""
        return {"logprobs": None}

    def usage(self, turn: _Turn) -> dict[str, Any]:
        """The usage object of a turn."""
        return {**turn.usage, "completion_tokens_details": {"reasoning_tokens": 0}}

    def completion(self, turn: _Turn) -> dict[str, Any]:
        """A complete `chat.completion` body."""
        reply = turn.reply
        message = completion_message(reply, self.reasoning_field(reply), turn.call_ids)
        message = self.decorate_message(message)
        finish = reply.final_finish_reason()
        choice = {
            "index": 0,
            "message": message,
            **self.choice_extras(turn, None, finish),
            "finish_reason": finish,
        }
        return {
            **self.head(turn, "chat.completion"),
            "choices": [choice],
            "usage": self.usage(turn),
        }

    def decorate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Provider-specific keys of a non-stream message."""
        return {**message, "refusal": None, "annotations": []}

    def reasoning_field(self, reply: ChatReply) -> str:
        """The message/delta key that carries reasoning text."""
        return reply.reasoning_field or self.reasoning_key

    def chunk(
        self, turn: _Turn, delta: dict[str, Any], finish: str | None = None
    ) -> dict[str, Any]:
        """One `chat.completion.chunk` with a single choice."""
        choice = {
            "index": 0,
            "delta": delta,
            **self.choice_extras(turn, delta, finish),
            "finish_reason": finish,
        }
        chunk = {**self.head(turn, "chat.completion.chunk"), "choices": [choice]}
        if turn.include_usage and self.null_usage_in_chunks:
            chunk["usage"] = None
        return chunk

    def finish_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The chunk with an empty delta and the finish reason."""
        return self.chunk(turn, {}, turn.reply.final_finish_reason())

    def usage_chunk(self, turn: _Turn) -> dict[str, Any]:
        """The final chunk with no choices and the usage."""
        return {
            **self.head(turn, "chat.completion.chunk"),
            "choices": [],
            "usage": self.usage(turn),
        }

    def prefix_frames(self) -> list[bytes]:
        """Frames sent before the first chunk."""
        return []

    def gap_frame(self) -> bytes | None:
        """A frame sent after each scripted delay between chunks."""
        return None

    def chunks(self, turn: _Turn) -> list[dict[str, Any]]:
        """The data chunks of a stream, without prefix frames or `[DONE]`."""
        reply = turn.reply
        deltas = stream_deltas(reply, self.reasoning_field(reply), turn.call_ids)
        chunks = [self.chunk(turn, delta) for delta in deltas]
        if not reply.omit_finish:
            chunks.append(self.finish_chunk(turn))
        if turn.include_usage:
            chunks.append(self.usage_chunk(turn))
        return chunks
