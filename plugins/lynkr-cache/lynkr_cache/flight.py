"""Single flight: identical calls in one process while the first is still asking upstream
wait for its answer instead of asking too.

The first call to miss leads a ``Flight``; the others find it running and wait for what it
lands: the answer when it is worth keeping, ``None`` when it failed, was cancelled or
must not be kept, and then each asks upstream for itself. A stream's followers wait for
the leader's whole stream, then replay it (the simplest correct thing: no half-read
frames to share). The flight stays findable, landed, until the answer is in the store,
so an identical call that comes in meanwhile does not miss.
"""

from __future__ import annotations

import asyncio

from lynkr_core import anthropic


class Flight:
    """One leading call's promise of an answer."""

    def __init__(self, flights: Flights, key: str) -> None:
        self._flights = flights
        self.key = key
        self.answer: asyncio.Future[anthropic.MessageResponse | None] = (
            asyncio.get_running_loop().create_future()
        )

    def land(self, message: anthropic.MessageResponse | None) -> None:
        """Hand ``message`` (or ``None``: ask for yourselves) to the waiting calls."""
        if not self.answer.done():
            self.answer.set_result(message)

    def end(self) -> None:
        """No longer findable; lands ``None`` if nothing was landed."""
        self.land(None)
        if self._flights.running.get(self.key) is self.answer:
            del self._flights.running[self.key]


class Flights:
    """The flights under way in one process (one event loop), by key."""

    def __init__(self) -> None:
        self.running: dict[str, asyncio.Future[anthropic.MessageResponse | None]] = {}

    def find(self, key: str) -> asyncio.Future[anthropic.MessageResponse | None] | None:
        """The answer of the flight under way for ``key``, if any."""
        return self.running.get(key)

    def lead(self, key: str) -> Flight:
        """Start the flight for ``key``: the caller asks upstream and must ``end`` it."""
        flight = Flight(self, key)
        self.running[key] = flight.answer
        return flight


async def wait_for(answer: asyncio.Future[anthropic.MessageResponse | None]) -> anthropic.MessageResponse | None:
    """The flight's answer; a waiting call that is cancelled leaves the flight alone."""
    return await asyncio.shield(answer)
