"""The request body's stall limit: a body that stops arriving for a while is cut off.

``asyncio.timeout`` around each ``receive`` would do it, but at a timer scheduled and
cancelled per message (two messages for an ordinary body: the bytes, then the end), which
costs a request about as much as one log line. ``StallWatch`` keeps one timer for the
whole body: each wait and each message only note the time, and the timer, when it fires,
either sees progress and waits for the rest of the period, or cancels the task waiting
for the body. Same limit as a timeout per ``receive``: no wait lasts ``limit`` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class BodyStalled(Exception):
    """Nothing arrived for ``StallWatch.limit`` seconds while the body was incomplete."""


class StallWatch:
    """Watches the awaits of one request body (``wait``) and stops one that waits, with no
    message arriving, for ``limit`` seconds. ``close`` when the body is complete."""

    __slots__ = ("_expired", "_last", "_loop", "_timer", "_waiting", "limit")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._timer: asyncio.TimerHandle | None = self._loop.call_at(self._last + limit, self._check)
        self._waiting: asyncio.Task | None = None
        self._expired = False

    async def wait(self, pending: Awaitable[T]) -> T:
        """Await ``pending`` (the next body message); ``BodyStalled`` when it takes longer
        than ``limit`` since the last one arrived."""
        self._waiting = task = asyncio.current_task()
        self._last = self._loop.time()
        try:
            result = await pending
        except asyncio.CancelledError:
            if self._expired and task is not None and task.uncancel() == 0:
                raise BodyStalled from None
            raise
        finally:
            self._waiting = None
        self._last = self._loop.time()
        return result

    def close(self) -> None:
        """Stop watching (the body is complete, or the request is over)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        """The timer: wait on after progress, else stop the stalled await."""
        now = self._loop.time()
        due = self._last + self.limit
        if self._waiting is None or due > now:
            # Nobody waits for the body right now, or a wait began or a message came since
            # the timer was set: the period starts again from then.
            self._timer = self._loop.call_at(now + self.limit if self._waiting is None else due, self._check)
            return
        self._timer = None
        self._expired = True
        self._waiting.cancel()
