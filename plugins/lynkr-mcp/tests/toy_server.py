"""A small MCP server for the tests, written with the ``mcp`` SDK's server side.

Run it as ``python toy_server.py stdio [TAG]`` (``TAG`` is ignored: tests find the process by it), ``python toy_server.py http PORT`` (streamable
HTTP at ``/mcp``) or ``python toy_server.py sse PORT`` (SSE at ``/sse``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image

#: A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

server = MCPServer("toy")


@server.tool()
def echo(text: str) -> str:
    """Say the text back, prefixed with 'toy echo:'."""
    return f"toy echo: {text}"


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def fail(message: str) -> str:
    """Always fails with the message."""
    raise ToolError(message)


@server.tool()
def crash() -> str:
    """The server process dies in the middle of the call."""
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never answers."""
    await asyncio.sleep(3600)
    return "late"


def _note(word: str) -> None:
    with open("linger.log", "a") as log:
        log.write(f"{word}\n")


@server.tool()
async def linger() -> str:
    """Waits forever, noting in ./linger.log that it started and whether it was cancelled."""
    _note("started")
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        _note("cancelled")
        raise
    return "late"


@server.tool()
def pixel() -> Image:
    """A tiny PNG image."""
    return Image(data=PIXEL, format="png")


@server.tool()
def getenv(name: str) -> str:
    """The value of an environment variable of the server, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool()
def where() -> str:
    """The server's working directory."""
    return os.getcwd()


@server.tool()
def read(path: str) -> str:
    """The text of a file, or why it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        return f"cannot read: {type(exc).__name__}"


@server.tool()
def dial(host: str, port: int) -> str:
    """Open a TCP connection; say whether it worked."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return "connected"
    except OSError as exc:
        return f"cannot connect: {type(exc).__name__}"


def late(word: str) -> str:
    """A tool that exists only after grow() was called."""
    return f"late {word}"


@server.tool()
async def grow(ctx: Context) -> str:
    """Add the tool 'late' and tell the client the tool list changed."""
    server.add_tool(late)
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        server.run()
    elif mode == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    elif mode == "sse":
        server.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode}")
