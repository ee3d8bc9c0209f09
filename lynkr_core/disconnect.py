"""Cancel a request's work when its client goes away.

Hypercorn tells an app that the client left only through the ASGI ``receive``
channel (``http.disconnect``); it does not cancel a handler still awaiting the
upstream (see DEPENDENCY_NOTES.md). ``CancelOnDisconnect`` watches that
channel with one task and cancels the request's own task when the client
leaves, so the upstream call unwinds wherever it is: before the first byte,
or in the middle of a stream.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from starlette.types import Receive


class ClientDisconnected(Exception):
    """The client closed the connection before the answer was complete."""


class CancelOnDisconnect:
    """``async with CancelOnDisconnect(receive):`` while the block runs, the client's
    ``http.disconnect`` cancels the current task, and the block ends with
    ``ClientDisconnected`` instead of ``CancelledError``.

    Enter it only after the request body has been read, or the watcher would
    consume the body's messages. A cancellation from elsewhere (the server
    shutting down) passes through unchanged. Code that catches CancelledError
    can swallow the watcher's (Hypercorn does, closing a connection inside
    ``send``): a block that then ends normally still ends with
    ``ClientDisconnected``, and a loop inside it should stop once
    ``disconnected`` is true.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._task: asyncio.Task | None = None
        self._watcher: asyncio.Task | None = None
        #: True once the client has left.
        self.disconnected = False

    async def __aenter__(self) -> CancelOnDisconnect:
        self._task = asyncio.current_task()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._watcher is not None and self._task is not None
        self._watcher.cancel()
        if not self.disconnected:
            return
        # Withdraw the watcher's own cancellation; any other one still stands.
        if self._task.uncancel() == 0 and (exc_type is None or issubclass(exc_type, asyncio.CancelledError)):
            raise ClientDisconnected from None

    async def _watch(self) -> None:
        try:
            while (await self._receive())["type"] != "http.disconnect":
                pass
        except asyncio.CancelledError:
            # The usual end: the block finished first. Returning, rather than letting the
            # error end the task, leaves no exception whose traceback would hold this frame
            # (and the server's per-request queue) in a reference cycle until the GC runs.
            return
        self.disconnected = True
        assert self._task is not None
        self._task.cancel()
