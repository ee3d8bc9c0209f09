"""An upstream's failure as the ``UpstreamError`` the client sees.

Providers answer errors in their own shapes; this reads all the common ones:
Anthropic's ``{"type": "error", "error": {"type", "message"}}``, OpenAI's and
Azure's ``{"error": {"message", "type", "code"}}``, OpenRouter's
``{"error": {"code", "message", "metadata"}}``, Databricks'
``{"error_code", "message"}`` and Ollama's ``{"error": "..."}``. The status
is kept (Claude Code decides on it whether to retry) and the Anthropic error
type follows from it; the upstream's message reaches the client verbatim.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec

from lynkr_core.errors import UpstreamError, error_type_for_status

#: Upstream statuses that Anthropic clients know under another number.
STATUS_MAP = {422: 400}
_ANTHROPIC_TYPES = frozenset(
    {
        "invalid_request_error", "authentication_error", "billing_error", "permission_error",
        "not_found_error", "request_too_large", "rate_limit_error", "api_error",
        "overloaded_error", "timeout_error",
    }
)


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """The upstream's HTTP error answer, with its message and ``Retry-After``."""
    status = STATUS_MAP.get(status, status)
    error_type, message = _read_body(body)
    if error_type not in _ANTHROPIC_TYPES:
        error_type = error_type_for_status(status)
    if not message:
        text = body[:500].decode("utf-8", errors="replace").strip()
        message = f"upstream returned HTTP {status}" + (f": {text}" if text else "")
    return UpstreamError(message, status=status, error_type=error_type, retry_after=retry_after(headers))


def error_from_exception(exc: BaseException, url: str) -> UpstreamError:
    """A connection fault or a timeout talking to ``url`` (always retryable; a TLS
    certificate lynkr does not trust only on another target: it cannot succeed here)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return UpstreamError(f"cannot connect to upstream {url}: {exc.certificate_error}", status=502,
                             retry_same_target=False)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamError(f"connecting to upstream {url} timed out", status=504, error_type="timeout_error")
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamError(f"upstream {url} timed out", status=504, error_type="timeout_error")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError(f"cannot connect to upstream {url}: {exc.os_error}", status=502)
    return UpstreamError(f"upstream {url} failed: {type(exc).__name__}: {exc}", status=502)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (or Azure's and OpenAI's ``retry-after-ms``)."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower().startswith("retry-after")}
    try:
        if "retry-after-ms" in lowered:
            seconds = float(lowered["retry-after-ms"]) / 1000
        elif "retry-after" in lowered:
            seconds = float(lowered["retry-after"])
        else:
            return None
    except ValueError:
        return None
    # passed on to the client: never negative, never inf or nan
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _read_body(body: bytes) -> tuple[str, str]:
    """(error type, message) from a JSON error body; empty strings when there are none."""
    try:
        # bytes that are not UTF-8 are replaced, as in a stream: the message still reads
        data = msgspec.json.decode(body.decode("utf-8", errors="replace"))
    except (msgspec.DecodeError, RecursionError):
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    error: Any = data.get("error")
    if isinstance(error, str):  # Ollama
        return "", error
    if isinstance(error, dict):  # Anthropic, OpenAI, Azure, OpenRouter
        message = str(error.get("message") or "")
        raw = (error.get("metadata") or {}).get("raw") if isinstance(error.get("metadata"), dict) else None
        if raw and isinstance(raw, str) and raw not in message:
            message = f"{message} ({raw[:300]})" if message else raw[:300]
        # only Anthropic's envelope ({"type": "error", ...}) names Anthropic error types;
        # OpenAI's "invalid_request_error" comes with 401s and 404s too
        error_type = str(error.get("type") or "") if data.get("type") == "error" else ""
        return error_type, message
    if "message" in data:  # Databricks
        code = data.get("error_code")
        return "", f"{code}: {data['message']}" if code else str(data["message"])
    return "", ""
