"""The process's one aiohttp client session, shared by every provider."""

from __future__ import annotations

import aiohttp

from lynkr_core.config import Settings


def open_http_session(settings: Settings) -> aiohttp.ClientSession:
    """A pooled client session with the configured connect and read timeouts.

    ``sock_read`` bounds the wait for each piece of an upstream answer, so a
    stream that stalls fails instead of hanging; there is no total timeout,
    because a long answer streamed steadily is fine.
    """
    core = settings.core
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=core.upstream_connect_timeout_seconds,
        sock_read=core.upstream_timeout_seconds,
    )
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=256, ttl_dns_cache=300)
    return aiohttp.ClientSession(timeout=timeout, connector=connector, raise_for_status=False)


def provider_timeout(settings: Settings, read_ms: float | None) -> aiohttp.ClientTimeout | None:
    """A provider's own read timeout (``LLAMACPP_TIMEOUT_MS``...), with the core's
    connect timeout; ``None`` when it has none, so the session's apply."""
    if not read_ms:
        return None
    return aiohttp.ClientTimeout(
        total=None,
        connect=settings.core.upstream_connect_timeout_seconds,
        sock_read=read_ms / 1000,
    )
