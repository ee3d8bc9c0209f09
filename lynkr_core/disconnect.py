"""Cancel upstream work when the client goes away before a response exists.

Hypercorn cancels a streaming response's generator when the client
disconnects, but not a handler still awaiting the upstream's first byte (see
DEPENDENCY_NOTES.md). ``until_disconnected`` races such an await against a
watcher of the ASGI ``receive`` channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

T = TypeVar("T")


class ClientDisconnected(Exception):
    """The client closed the connection before the answer was ready."""


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def until_disconnected(receive: Receive, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``; cancel it and raise ``ClientDisconnected`` if the client leaves first.

    Call it only after the request body has been read, or the watcher would
    consume the body's messages.
    """
    work = asyncio.ensure_future(awaitable)
    watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not work.done():
            work.cancel()
        watcher.cancel()
    if not work.done() or work.cancelled():
        # The watcher won: wait for the cancelled work to unwind its upstream call.
        await asyncio.gather(work, return_exceptions=True)
        raise ClientDisconnected
    return work.result()
