"""Turn an Anthropic-format upstream's failure into the ``UpstreamError`` the client sees."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import msgspec

from lynkr_core import UpstreamError, error_type_for_status


class _Detail(msgspec.Struct):
    type: str = ""
    message: str = ""


class _ErrorBody(msgspec.Struct):
    error: _Detail


def from_response(status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """The upstream's status, error type and message, passed on as they came."""
    try:
        detail = msgspec.json.decode(body, type=_ErrorBody).error
        error_type = detail.type or error_type_for_status(status)
        message = detail.message or f"upstream returned HTTP {status}"
    except msgspec.MsgspecError:
        error_type = error_type_for_status(status)
        text = body[:500].decode("utf-8", errors="replace").strip()
        message = f"upstream returned HTTP {status}" + (f": {text}" if text else "")
    return UpstreamError(message, status=status, error_type=error_type, retry_after=_retry_after(headers))


def from_exception(exc: BaseException, url: str) -> UpstreamError:
    """A connection fault or timeout talking to ``url``."""
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamError(f"upstream {url} timed out", status=504, error_type="timeout_error")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError(f"cannot connect to upstream {url}: {exc.os_error}", status=502)
    return UpstreamError(f"upstream {url} failed: {type(exc).__name__}: {exc}", status=502)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
