"""Load shedding: past a limit, new model requests get Anthropic's 529 ``overloaded_error``
with ``retry-after`` instead of the process falling over.

Three limits, each checked when a request for ``/v1/messages`` (or the OpenAI-compatible
``/v1/chat/completions`` and ``/v1/responses``) arrives:

- the requests being answered right now (``LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD``,
  default 1000; 0 turns it off); a stream counts until its last byte is sent;
- the process's resident memory (``LYNKR_SHED_MEMORY_MB``, default 0: off), read from
  ``/proc/self/statm`` at most every ``MEMORY_READ_EVERY`` seconds;
- the plugins' background queues named in ``LYNKR_SHED_QUEUES`` (default none,
  ``lynkr_core.background_queues()``): a request is let in only while the record it will
  leave fits, that is while the items a queue holds and the requests in progress stay
  under its size; so ``sessions`` (or ``reflector``, ``memory``, ``usage``) drops no
  record, and its size bounds the requests in progress.

Claude Code and the Anthropic and OpenAI SDKs retry a 529 after ``retry-after``
(``LYNKR_SHED_RETRY_AFTER_SECONDS``). Everything else (health and readiness probes,
``count_tokens``, models, admin and plugin routes) is never shed. The counts are per
worker process.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from lynkr_core.background import QueueStatus, background_queues
from lynkr_core.errors import LynkrError
from lynkr_core.openai_api.errors import openai_error_response

log = structlog.get_logger("lynkr.shedding")

#: The routes whose new requests are shed: the ones that call a model.
SHED_PATHS = frozenset({"/v1/messages", "/v1/chat/completions", "/v1/responses"})
#: Of those, the ones whose clients expect OpenAI's error shape.
OPENAI_PATHS = frozenset({"/v1/chat/completions", "/v1/responses"})

#: How often the resident memory is read at most (seconds).
MEMORY_READ_EVERY = 0.25

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = "/proc/self/statm"


class Overloaded(LynkrError):
    """lynkr itself is too busy for a new request: 529 ``overloaded_error`` with
    ``retry-after`` in whole seconds (at least 1)."""

    status = 529
    error_type = "overloaded_error"

    def headers(self) -> dict[str, str]:
        """``retry-after`` in whole seconds."""
        return {"retry-after": str(max(1, math.ceil(self.retry_after or 0)))}


def resident_memory_bytes() -> int | None:
    """This process's resident set size from ``/proc/self/statm``; ``None`` where there is
    no such file (not Linux)."""
    try:
        with open(_STATM, "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True, slots=True)
class LoadStatus:
    """The load gauge as it is now: requests being answered, requests shed since start,
    the limits (0: off) and the resident memory (``None``: not known on this system)."""

    active: int
    shed: int
    max_active: int
    max_memory_mb: int
    memory_mb: float | None


class LoadGauge:
    """Counts the model requests being answered and decides whether a new one is shed.

    ``memory`` reads the resident memory in bytes, ``queue_status`` the background
    queues, and ``clock`` is monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        *,
        max_active: int = 1000,
        max_memory_mb: int = 0,
        queues: Collection[str] = (),
        retry_after: float = 1.0,
        memory: Callable[[], int | None] = resident_memory_bytes,
        queue_status: Callable[[], list[QueueStatus]] = background_queues,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_active = max_active
        self.max_memory_mb = max_memory_mb
        #: The background queues whose filling up sheds new requests (by name).
        self.queues = frozenset(queues)
        self._queue_status = queue_status
        self.retry_after = retry_after
        self.active = 0
        self.shed = 0
        self._memory = memory
        self._clock = clock
        self._memory_bytes: int | None = None
        self._memory_read_at = -math.inf

    def leave(self) -> None:
        """A request is no longer in progress."""
        self.active -= 1

    def check(self) -> None:
        """Raise ``Overloaded`` when a new request would pass a limit (and count it shed)."""
        reason = self._over_limit()
        if reason is not None:
            self.shed += 1
            if self.shed & (self.shed - 1) == 0:  # the 1st, 2nd, 4th, 8th... time
                log.warning("load_shed", reason=reason, shed=self.shed, active=self.active)
            raise Overloaded(f"lynkr is overloaded ({reason}); retry shortly", retry_after=self.retry_after)

    def _over_limit(self) -> str | None:
        if self.max_active and self.active >= self.max_active:
            return f"{self.active} requests in progress, the limit is {self.max_active}"
        if self.max_memory_mb:
            memory = self.memory_bytes()
            if memory is not None and memory > self.max_memory_mb * 1024 * 1024:
                return f"resident memory {memory / 2**20:.0f} MB is above {self.max_memory_mb} MB"
        if self.queues:
            for queue in self._queue_status():
                if queue.name in self.queues and queue.waiting + self.active >= queue.size:
                    return (f"the {queue.name} queue holds {queue.waiting} of {queue.size} with {self.active} "
                            "requests in progress: new requests wait rather than records be dropped")
        return None

    def memory_bytes(self) -> int | None:
        """The resident memory, read again when the last read is ``MEMORY_READ_EVERY`` old."""
        now = self._clock()
        if now - self._memory_read_at >= MEMORY_READ_EVERY:
            self._memory_bytes = self._memory()
            self._memory_read_at = now
        return self._memory_bytes

    def status(self) -> LoadStatus:
        """The gauge as it is now (the memory read again if the last read is old)."""
        memory = self.memory_bytes()
        return LoadStatus(self.active, self.shed, self.max_active, self.max_memory_mb,
                          None if memory is None else round(memory / 2**20, 1))


class LoadShedding:
    """Pure ASGI middleware: counts each request to ``SHED_PATHS`` while it is answered,
    and refuses a new one with ``Overloaded`` when ``gauge`` says so. Put it inside
    ``GatewayMiddleware``, which gives the refusal its request id and Anthropic body (the
    OpenAI-compatible routes get OpenAI's error shape, with the same status)."""

    def __init__(self, app: ASGIApp, *, gauge: LoadGauge) -> None:
        self.app = app
        self.gauge = gauge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in SHED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            self.gauge.check()
        except Overloaded as exc:
            if scope["path"] not in OPENAI_PATHS:
                raise
            await openai_error_response(exc)(scope, receive, send)
            return
        self.gauge.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            # Counted out one turn of the event loop later: after the plain exchange observers
            # the request scheduled as it finished, so that its record is in a queue before it
            # stops counting as in progress (``LYNKR_SHED_QUEUES`` counts on that).
            asyncio.get_running_loop().call_soon(self.gauge.leave)
