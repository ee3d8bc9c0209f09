"""Retries with backoff, and failing over to the next provider of a route.

Only failures before the answer has started are retried: a connection
fault, a timeout, 429 or 5xx (``UpstreamError.retryable``). A ``Retry-After``
is honoured when it is short enough to wait for; a longer one moves on to the
next target at once, or reaches the client, which waits itself (Claude Code
does).

A prompt that does not fit the model's context window (``ContextOverflow``)
is never retried; it goes to the long-context route when one is configured
(``on_overflow``), else reaches the client as Anthropic's prompt-too-long
error, on which Claude Code compacts the conversation.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog

from lynkr_core.errors import ContextOverflow, UpstreamError
from lynkr_core.routing import Target

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry one target.

    The n-th retry waits ``base * 2**(n-1)`` seconds, capped at ``max_delay``,
    with jitter (a random half to all of it); a ``Retry-After`` of at most
    ``max_delay`` is waited for exactly.
    """

    retries: int = 2
    base: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int, error: UpstreamError, rng: random.Random | None = None) -> float | None:
        """Seconds to wait before retry number ``retry`` (from 1); ``None``: don't retry."""
        if not error.retryable or not error.retry_same_target or retry > self.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_delay else None
        backoff = min(self.max_delay, self.base * 2 ** (retry - 1))
        return backoff * (0.5 + 0.5 * (rng or random).random())


async def with_failover(
    targets: Sequence[Target],
    attempt: Callable[[Target], Awaitable[T]],
    policy: RetryPolicy,
    log: structlog.typing.FilteringBoundLogger,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_overflow: Target | None = None,
) -> T:
    """``attempt(target)`` for each target in turn until one succeeds.

    A retryable error is retried on the same target as ``policy`` allows,
    then the next target is tried; any other error is raised at once. When
    every target failed, the last error is raised. A ``ContextOverflow`` is
    tried once on ``on_overflow`` (the long-context route), unless that is
    the target that overflowed.
    """
    last: UpstreamError | None = None
    for position, target in enumerate(targets):
        retry = 0
        while True:
            try:
                return await attempt(target)
            except ContextOverflow as exc:
                if on_overflow is None or on_overflow == target:
                    raise
                log.info("context_overflow_rerouted", target=str(target), to=str(on_overflow), error=exc.message)
                return await attempt(on_overflow)
            except UpstreamError as exc:
                last = exc
                if not exc.retryable:
                    raise
                retry += 1
                wait = policy.delay(retry, exc)
                log.warning(
                    "upstream_failed",
                    target=str(target),
                    status=exc.status,
                    error=exc.message,
                    retry_in=None if wait is None else round(wait, 3),
                    next_target=None if wait is not None or position + 1 >= len(targets)
                    else str(targets[position + 1]),
                )
                if wait is None:
                    break
                await sleep(wait)
    assert last is not None, "with_failover needs at least one target"
    raise last
