"""Opening a server's transport with the ``mcp`` SDK's clients: stdio, streamable HTTP, SSE."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx2
from mcp import StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from lynkr_mcp.manifests import ServerSpec
from lynkr_mcp.sandbox import Launch


@contextlib.asynccontextmanager
async def open_transport(
    spec: ServerSpec, launch: Launch | None, errlog: IO[str], http_timeout: float
) -> AsyncIterator[tuple[Any, Any]]:
    """The (read, write) streams of a connection to ``spec``; closing it stops a stdio
    server's whole process tree (the SDK's shutdown). ``launch`` is the stdio server's
    program, ``errlog`` takes its stderr, ``http_timeout`` bounds HTTP requests."""
    if spec.transport == "stdio":
        assert launch is not None
        params = StdioServerParameters(
            command=launch.command, args=launch.args, env=launch.env, cwd=Path(launch.cwd)
        )
        async with stdio_client(params, errlog=errlog) as streams:
            yield streams
    elif spec.transport == "http":
        limits = httpx2.Timeout(http_timeout, read=max(http_timeout, 300.0))
        async with httpx2.AsyncClient(headers=dict(spec.headers), timeout=limits) as http:
            async with streamable_http_client(spec.url, http_client=http) as streams:
                yield streams[0], streams[1]
    else:
        async with sse_client(spec.url, headers=dict(spec.headers), timeout=http_timeout) as streams:
            yield streams[0], streams[1]
