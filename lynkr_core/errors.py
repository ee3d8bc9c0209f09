"""Errors a client sees, in the Anthropic error shape, with the status Anthropic uses."""

from __future__ import annotations

import math

import msgspec

#: Anthropic error type for each HTTP status lynkr can answer with.
ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


#: The status Anthropic answers each of its error types with (one per type).
STATUS_BY_ERROR_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def status_for_error_type(error_type: str) -> int | None:
    """The HTTP status Anthropic uses for ``error_type``; ``None`` for a type it lacks."""
    return STATUS_BY_ERROR_TYPE.get(error_type)


def error_type_for_status(status: int) -> str:
    """The Anthropic error type for an HTTP status (``api_error`` for unknown 5xx)."""
    if status in ERROR_TYPE_BY_STATUS:
        return ERROR_TYPE_BY_STATUS[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


class _ErrorDetail(msgspec.Struct):
    type: str
    message: str


class ErrorBody(msgspec.Struct, tag="error", tag_field="type"):
    """``{"type": "error", "error": {"type": ..., "message": ...}}``."""

    error: _ErrorDetail


class LynkrError(Exception):
    """An error that reaches the client as an Anthropic error body with ``status``.

    Raise it (or a subclass) anywhere on a request's way; the app turns it into
    the response, or into an SSE ``error`` event once a stream has started.
    """

    status: int = 500
    error_type: str = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
            self.error_type = error_type or error_type_for_status(status)
        elif error_type is not None:
            self.error_type = error_type
        self.retry_after = retry_after

    def body(self) -> bytes:
        """The JSON body a client receives."""
        return encode_error(self.error_type, self.message)

    def headers(self) -> dict[str, str]:
        """Extra response headers (``retry-after`` for rate limits)."""
        if self.retry_after is None:
            return {}
        return {"retry-after": f"{self.retry_after:g}"}


class InvalidRequest(LynkrError):
    """The request is malformed or breaks the Messages API schema (400)."""

    status = 400
    error_type = "invalid_request_error"


class AuthenticationFailed(LynkrError):
    """No API key, or not one lynkr knows (401)."""

    status = 401
    error_type = "authentication_error"


class PermissionDenied(LynkrError):
    """A policy refused the request (403)."""

    status = 403
    error_type = "permission_error"


class NotFound(LynkrError):
    """Unknown route or model (404)."""

    status = 404
    error_type = "not_found_error"


class RequestTooLarge(LynkrError):
    """The body is over the configured size limit (413)."""

    status = 413
    error_type = "request_too_large"


class RateLimited(LynkrError):
    """A limit of lynkr's own was reached (429 ``rate_limit_error``), with ``retry-after``
    and any ``headers`` (Anthropic's ``anthropic-ratelimit-*``) on the error response.

    A policy raises it from ``check_request``: nothing goes upstream."""

    status = 429
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: float, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.extra_headers = dict(headers or {})

    def headers(self) -> dict[str, str]:
        """``retry-after`` (whole seconds, at least 1) and the extra headers."""
        return {**self.extra_headers, "retry-after": str(max(1, math.ceil(self.retry_after or 0)))}


class UpstreamError(LynkrError):
    """The provider failed: its status and message are passed on to the client.

    ``retryable`` says whether another attempt (or the next provider in a
    fallback chain) may succeed: connection faults, timeouts, 429 and 5xx.
    ``retry_same_target`` false: only another target may (an untrusted TLS
    certificate, an open circuit), so failover moves on without retrying.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        error_type: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        retry_same_target: bool = True,
    ) -> None:
        super().__init__(message, status=status, error_type=error_type, retry_after=retry_after)
        self.retryable = retryable if retryable is not None else (status == 429 or status >= 500)
        self.retry_same_target = retry_same_target


class ContextOverflow(UpstreamError):
    """The upstream refused the prompt as too long for its model's context window.

    ``tokens`` and ``maximum`` are the numbers the upstream gave (``None`` for
    each it did not). Never retried: the same prompt cannot fit on another try.
    A provider turns it into ``PromptTooLong`` before the client sees it.
    """

    def __init__(self, message: str, *, tokens: int | None = None, maximum: int | None = None) -> None:
        super().__init__(message, status=400, error_type="invalid_request_error", retryable=False)
        self.tokens = tokens
        self.maximum = maximum


class PromptTooLong(ContextOverflow):
    """Anthropic's own answer to a prompt over the context window (400), word for word:
    ``prompt is too long: <tokens> tokens > <maximum> maximum``. Claude Code compacts
    the conversation on exactly this message, and on no other."""

    def __init__(self, tokens: int, maximum: int) -> None:
        tokens = max(tokens, maximum + 1)  # it did not fit, whatever an estimate says
        super().__init__(f"prompt is too long: {tokens} tokens > {maximum} maximum", tokens=tokens, maximum=maximum)


_error_encoder = msgspec.json.Encoder()


def encode_error(error_type: str, message: str) -> bytes:
    """Encode an Anthropic error body."""
    return _error_encoder.encode(ErrorBody(error=_ErrorDetail(type=error_type, message=message)))
