"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

The core's errors carry Anthropic's types; an OpenAI client is told the same
status with OpenAI's type names.
"""

from __future__ import annotations

import msgspec
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from lynkr_core.errors import LynkrError
from lynkr_core.redaction import Redactor

#: OpenAI's error type for each of the core's (Anthropic) error types.
_OPENAI_TYPES = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "request_too_large": "invalid_request_error",
    "rate_limit_error": "rate_limit_error",
    "billing_error": "insufficient_quota",
    "timeout_error": "timeout",
    "overloaded_error": "server_error",
    "api_error": "server_error",
}


def openai_error_type(error_type: str) -> str:
    """OpenAI's name for one of the core's (Anthropic) error types."""
    return _OPENAI_TYPES.get(error_type, error_type)


class OpenAIErrorDetail(msgspec.Struct, kw_only=True):
    """What went wrong, as OpenAI says it."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(msgspec.Struct, kw_only=True):
    """``{"error": {...}}``."""

    error: OpenAIErrorDetail


class OpenAIError(LynkrError):
    """An error raised on the OpenAI routes that names a ``param`` and an OpenAI ``code``
    (``previous_response_not_found``...)."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, status=status)
        self.param = param
        self.code = code


_encoder = msgspec.json.Encoder()


def openai_error_detail(exc: LynkrError, redactor: Redactor | None = None) -> OpenAIErrorDetail:
    """``exc`` as OpenAI's error object (its message passed through ``redactor``)."""
    message = redactor.redact(exc.message) if redactor else exc.message
    return OpenAIErrorDetail(
        message=message,
        type=openai_error_type(exc.error_type),
        param=getattr(exc, "param", None),
        code=getattr(exc, "code", None),
    )


def encode_openai_error(exc: LynkrError, redactor: Redactor | None = None) -> bytes:
    """The JSON body an OpenAI client gets for ``exc``."""
    return _encoder.encode(OpenAIErrorBody(error=openai_error_detail(exc, redactor)))


def openai_error_response(exc: LynkrError, redactor: Redactor | None = None) -> Response:
    """``exc`` as an HTTP response with its status (and ``retry-after``)."""
    return Response(
        encode_openai_error(exc, redactor),
        status_code=exc.status,
        media_type="application/json",
        headers=exc.headers(),
    )


class OpenAIErrors:
    """Wraps a (streaming) response: a ``LynkrError`` raised before its first byte is sent
    becomes an OpenAI error response instead of reaching the core's Anthropic handler."""

    def __init__(self, response: Response, redactor: Redactor | None = None) -> None:
        self.response = response
        self.redactor = redactor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app interface."""
        started = False

        async def watched(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.response(scope, receive, watched)
        except LynkrError as exc:
            if started:
                raise
            await openai_error_response(exc, self.redactor)(scope, receive, send)
